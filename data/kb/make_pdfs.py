"""Build the PDFs of the demo knowledge base from their text sources, byte for byte the same
every time (no dates, no random ids): ``python -m data.kb.make_pdfs [--check]``.

Each source in ``pdf-src/`` is plain text: ``# Title`` (first line), ``## Heading`` lines, and
paragraphs separated by blank lines (``- `` starts a bullet). The PDF is what an office suite's
"export as PDF" of such a page looks like: Helvetica, bold headings, wrapped paragraphs, US
Letter pages, a WinAnsi font encoding (so ``é``, ``ñ`` and ``—`` survive), the title in the
document information. Standard library only.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "pdf-src"
OUTPUT = HERE / "docs"

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 72
BODY_SIZE, BODY_LEADING = 10.5, 14
WRAP = 96  # characters per body line at 10.5 pt Helvetica within the margins


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _layout(source: str) -> tuple[str, list[list[tuple[str, float, str]]]]:
    """The title and the pages: each a list of (font, size, text) lines, top to bottom."""
    lines = source.splitlines()
    title = lines[0].removeprefix("# ").strip()
    blocks: list[tuple[str, str]] = [("title", title)]
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("p", " ".join(paragraph)))
            paragraph.clear()

    for line in lines[1:]:
        if line.startswith("## "):
            flush()
            blocks.append(("h", line[3:].strip()))
        elif not line.strip():
            flush()
        elif line.startswith("- "):
            flush()
            paragraph.append("• " + line[2:].strip())
        else:
            paragraph.append(line.strip())
    flush()
    pages: list[list[tuple[str, float, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN

    def emit(font: str, size: float, leading: float, text: str) -> None:
        nonlocal y
        if y - leading < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN
        y -= leading
        pages[-1].append((font, size, f"{y:.0f}:{text}"))

    for kind, text in blocks:
        if kind == "title":
            emit("F2", 18, 24, text)
            y -= 8
        elif kind == "h":
            y -= 6
            emit("F2", 13, 18, text)
        else:
            for line in textwrap.wrap(text, WRAP):
                emit("F1", BODY_SIZE, BODY_LEADING, line)
            y -= BODY_LEADING * 0.6
    return title, pages


def build(source: str) -> bytes:
    title, pages = _layout(source)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    font_body = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    font_bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    kids = []
    for page in pages:
        stream = b""
        for font, size, placed in page:
            y, text = placed.split(":", 1)
            stream += b"BT /%s %g Tf %d %s Td (%s) Tj ET\n" % (
                font.encode(),
                size,
                MARGIN,
                y.encode(),
                _escape(text),
            )
        content = add(b"<< /Length %d >>\nstream\n%sendstream" % (len(stream), stream))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, PAGE_WIDTH, PAGE_HEIGHT, font_body, font_bold, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = add(b"<< /Title (%s) /Producer (data/kb/make_pdfs.py) >>" % _escape(title))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)


def targets() -> dict[Path, bytes]:
    return {
        OUTPUT / f"{src.stem}.pdf": build(src.read_text(encoding="utf-8"))
        for src in sorted(SOURCES.glob("*.txt"))
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, data in targets().items():
        if "--check" in argv:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(HERE.parent.parent)} ({len(data):,} bytes)")
    if stale:
        print(f"out of date: {', '.join(stale)} (run python -m data.kb.make_pdfs)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
