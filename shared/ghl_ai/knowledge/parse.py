"""Documents to text: PDF, Markdown, plain text and HTML, each read into a title and its
sections (a heading and the paragraphs under it), the shape the chunker needs.

* **Markdown**: ``#`` headings; links, emphasis and code marks dropped; a table's rows become
  sentences that name their columns ("Community: Victoria Gardens; Monthly dues: $215").
* **Plain text**: a heading is a short line underlined with ``===`` / ``---``, in capitals, or
  ending with ``:`` on its own; paragraphs are separated by blank lines.
* **HTML** (the standard library's parser): ``h1``–``h6`` are headings; scripts, styles,
  navigation, footers, forms and asides (and anything marked as a menu, cookie banner or
  breadcrumb) are dropped; table rows read like Markdown's.
* **PDF** (pypdf, imported only here and only for a PDF): the text of each page, a short
  title-like line read as a heading, lines joined into paragraphs.

Parsing never quotes the content in an error (:class:`DocumentError`).
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

from ghl_ai.knowledge.model import DocumentError, Format, ParsedDocument, Section

#: A PDF larger than this many pages is refused (a scanned book is not a knowledge base).
MAX_PDF_PAGES = 300


def parse(content: bytes | str, format: Format, title: str | None = None) -> ParsedDocument:
    """``content`` read as ``format``; ``title`` (when given) wins over the document's own."""
    if format == "pdf":
        if isinstance(content, str):
            raise DocumentError("a PDF must be given as bytes")
        parsed = parse_pdf(content)
    else:
        text = _text(content)
        if format == "markdown":
            parsed = parse_markdown(text)
        elif format == "html":
            parsed = parse_html(text)
        elif format == "text":
            parsed = parse_text(text)
        else:
            raise DocumentError(f"unknown format {format!r}: use pdf, markdown, text or html")
    sections = tuple(
        Section(s.heading, tuple(p for p in s.paragraphs if p)) for s in parsed.sections
    )
    sections = tuple(s for s in sections if s.paragraphs)
    if not sections:
        raise DocumentError("the document has no text to index")
    chosen = (title or "").strip() or parsed.title.strip()
    return ParsedDocument(_clean(chosen)[:200], sections)


def _text(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("the document is not UTF-8 text") from None


_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200b]+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class _Sections:
    """Collects sections while a parser walks a document."""

    def __init__(self) -> None:
        self.title = ""
        self.sections: list[Section] = []
        self._heading = ""
        self._paragraphs: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        text = _clean(text)
        if not text:
            return
        if level == 1 and not self.title:
            self.title = text
            self._flush()
            self._heading = ""
            return
        self._flush()
        self._heading = text

    def paragraph(self, text: str) -> None:
        text = _clean(text)
        if text:
            self._paragraphs.append(text)

    def _flush(self) -> None:
        if self._paragraphs:
            self.sections.append(Section(self._heading, tuple(self._paragraphs)))
        self._paragraphs = []

    def done(self) -> ParsedDocument:
        self._flush()
        return ParsedDocument(self.title, tuple(self.sections))


def _row_sentence(header: list[str], cells: list[str]) -> str:
    """A table row as a sentence that names its columns."""
    cells = [_clean(c) for c in cells]
    header = [_clean(h) for h in header]
    if header and len(header) == len(cells):
        parts = [f"{h}: {c}" for h, c in zip(header, cells, strict=True) if c and h]
        return "; ".join(parts) + "." if parts else ""
    return " — ".join(c for c in cells if c) + "."


# -- Markdown ---------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(\*\*|__|`+|~~|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
_MD_TAG = re.compile(r"<[^>]+>")
_MD_BULLET = re.compile(r"^\s*(?:[-*+•▪◦]|\d+[.)])\s+")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _inline(text: str) -> str:
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_TAG.sub("", text)
    return _MD_MARKS.sub("", text)


def _cells(line: str) -> list[str]:
    return [_inline(c) for c in line.strip().strip("|").split("|")]


def parse_markdown(text: str) -> ParsedDocument:
    out = _Sections()
    lines = text.splitlines()
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.paragraph(" ".join(paragraph))
            paragraph.clear()

    i = 0
    fenced = False
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
            flush()
            i += 1
            continue
        if fenced:
            paragraph.append(line.strip())
            i += 1
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            out.heading(_inline(heading.group(2)), len(heading.group(1)))
            i += 1
            continue
        if (
            line.strip().startswith("|")
            and i + 1 < len(lines)
            and _MD_TABLE_RULE.match(lines[i + 1])
        ):
            flush()
            header = _cells(line)
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                out.paragraph(_row_sentence(header, _cells(lines[i])))
                i += 1
            continue
        if not line.strip() or re.match(r"^\s*(-{3,}|\*{3,}|_{3,})\s*$", line):
            flush()
        elif _MD_BULLET.match(line):
            flush()
            paragraph.append(_inline(_MD_BULLET.sub("", line)))
        else:
            paragraph.append(_inline(line.strip().lstrip(">").strip()))
        i += 1
    flush()
    return out.done()


# -- plain text -------------------------------------------------------------------------------

_UNDERLINE = re.compile(r"^\s*(={3,}|-{3,})\s*$")


def _caps_heading(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return (
        len(letters) >= 3
        and all(c.isupper() for c in letters)
        and len(line.split()) <= 10
        and not line.rstrip().endswith((".", ","))
    )


def parse_text(text: str) -> ParsedDocument:
    out = _Sections()
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    first = True
    for block in blocks:
        if not block:
            continue
        if len(block) >= 2 and _UNDERLINE.match(block[1]):
            out.heading(block[0], 1 if first and block[1].strip()[0] == "=" else 2)
            block = block[2:]
        elif _caps_heading(block[0]) or (
            block[0].rstrip().endswith(":") and len(block[0].split()) <= 8
        ):
            level = 1 if first and len(block) == 1 and not block[0].rstrip().endswith(":") else 2
            out.heading(block[0].rstrip().rstrip(":"), level)
            block = block[1:]
        elif first and len(block) == 1 and len(block[0].split()) <= 12:
            out.heading(block[0], 1)
            block = []
        first = False
        items: list[str] = []
        for line in block:
            if _MD_BULLET.match(line):
                if items:
                    out.paragraph(" ".join(items))
                items = [_MD_BULLET.sub("", line)]
            else:
                items.append(line.strip())
        if items:
            out.paragraph(" ".join(items))
    return out.done()


# -- HTML -------------------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset(
    {"script", "style", "nav", "footer", "aside", "noscript", "form", "svg", "template",
     "iframe", "button", "select"}
)  # fmt: skip
_SKIPPED_MARKS = re.compile(r"\b(nav|navbar|menu|cookie|breadcrumb|sidebar|footer|banner)\b", re.I)
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "dd", "dt", "blockquote", "pre", "section", "article", "main", "ul",
     "ol", "dl", "table", "figure", "figcaption", "address", "header", "br", "hr", "body"}
)  # fmt: skip
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "source", "col"})


class _HtmlReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = _Sections()
        self.page_title = ""
        self._skip_depth = 0
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self._buffer: list[str] = []
        self._heading_level = 0
        self._in_title = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._header: list[str] = []
        self._row_is_header = False

    def _skipped(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _SKIPPED_TAGS:
            return True
        values = " ".join(v or "" for k, v in attrs if k in ("class", "id", "role", "aria-label"))
        role = dict(attrs).get("role") or ""
        return bool(_SKIPPED_MARKS.search(values)) or role in ("navigation", "contentinfo")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
            return
        if tag in _VOID_TAGS:
            if tag in ("br", "hr") and not self._skip_depth:
                self._flush()
            return
        skipped = self._skip_depth > 0 or self._skipped(tag, attrs)
        self._stack.append((tag, skipped))
        if skipped:
            self._skip_depth += 1
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading_level = int(tag[1])
        elif tag == "tr":
            self._flush()
            self._row, self._row_is_header = [], True
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            if tag == "td":
                self._row_is_header = False
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if tag in _VOID_TAGS:
            return
        # Close up to the matching open tag (HTML in the wild leaves tags open).
        while self._stack:
            open_tag, skipped = self._stack.pop()
            if skipped:
                self._skip_depth -= 1
            elif open_tag in ("td", "th") and self._row is not None and self._cell is not None:
                self._row.append(" ".join(self._cell))
                self._cell = None
            elif open_tag == "tr" and self._row is not None:
                self._end_row()
            elif re.fullmatch(r"h[1-6]", open_tag):
                self.out.heading(" ".join(self._buffer), self._heading_level)
                self._buffer, self._heading_level = [], 0
            elif open_tag in _BLOCK_TAGS:
                self._flush()
            if open_tag == tag:
                break

    def _end_row(self) -> None:
        assert self._row is not None
        cells = [_clean(c) for c in self._row]
        if self._row_is_header and not self._header:
            self._header = cells
        elif any(cells):
            self.out.paragraph(_row_sentence(self._header, cells))
        self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
            return
        if self._skip_depth:
            return
        if self._cell is not None:
            self._cell.append(data)
        else:
            self._buffer.append(data)

    def _flush(self) -> None:
        if self._heading_level:
            return
        text = " ".join(self._buffer)
        self._buffer = []
        if text.strip():
            self.out.paragraph(text)

    def result(self) -> ParsedDocument:
        self._flush()
        done = self.out.done()
        return ParsedDocument(done.title or _clean(self.page_title), done.sections)


def parse_html(text: str) -> ParsedDocument:
    reader = _HtmlReader()
    reader.feed(text)
    reader.close()
    return reader.result()


# -- PDF --------------------------------------------------------------------------------------


def _title_like(line: str, widest: int) -> bool:
    """A heading line of a PDF: short (at most 10 words, well under the page's width), opening
    with a capital or a digit, not ending like a sentence or a wrapped line."""
    words = line.split()
    if not 1 <= len(words) <= 10 or line.endswith((".", ",", ";", "!", "-")):
        return False
    if line.endswith("?") and not line.startswith("¿") and len(words) > 8:
        return False  # a question as a heading (FAQ style) is short
    opening = line.lstrip("¿¡\"'(")[:1]
    return (opening.isupper() or opening.isdigit()) and len(line) < 0.75 * max(widest, 1)


def parse_pdf(content: bytes) -> ParsedDocument:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:  # pragma: no cover - pypdf is a dependency of the shared layer
        raise DocumentError("PDF support is not installed") from None
    try:
        reader = PdfReader(io.BytesIO(content))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DocumentError(f"the PDF has more than {MAX_PDF_PAGES} pages")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata
        meta_title = str(metadata.get("/Title") or "") if metadata else ""
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError):
        raise DocumentError("the PDF cannot be read") from None
    out = _Sections()
    if meta_title.strip():
        out.title = _clean(meta_title)
    lines = [_clean(line) for page in pages for line in page.splitlines()]
    paragraph: list[str] = []
    widest = max((len(line) for line in lines), default=0)

    def flush() -> None:
        if paragraph:
            out.paragraph(" ".join(paragraph))
            paragraph.clear()

    for line in lines:
        if not line:
            flush()
            continue
        if line == out.title and not out.sections and not paragraph:
            continue  # the title, printed as the first line
        # A heading follows a finished sentence (a wrapped paragraph's next line does not).
        after_sentence = not paragraph or paragraph[-1].endswith((".", ":", "?", "!"))
        if after_sentence and _title_like(line, widest):
            flush()
            out.heading(line.rstrip(":"), 1 if not out.title else 2)
            continue
        if _MD_BULLET.match(line):
            flush()
            line = _MD_BULLET.sub("", line)
        if paragraph and paragraph[-1].endswith("-") and not paragraph[-1].endswith(" -"):
            paragraph[-1] = paragraph[-1][:-1] + line
        else:
            paragraph.append(line)
        # A short line that ends a sentence ends its paragraph (wrapped lines run full width).
        if line.endswith((".", "?", "!", ":")) and len(line) < 0.75 * widest:
            flush()
    flush()
    return out.done()


def title_from_filename(path: Path) -> str:
    """``hoa-victoria-gardens.md`` → ``Hoa Victoria Gardens`` (used when nothing better)."""
    return re.sub(r"[-_]+", " ", path.stem).strip().title()
