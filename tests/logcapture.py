"""The log check of the whole test run: every log record the run emits, at the levels deployed
functions log at, is kept as the line CloudWatch would receive, and at the end the lines are
scanned (local/logscan.py) for phone numbers, emails, message bodies, tokens and keys. Any
finding fails the run and is printed masked.

What is captured is what a deployed function would write, not what the tests print:

- our logger (``ghl-real-estate-ai``, Powertools) at the template's ``POWERTOOLS_LOG_LEVEL``
  (INFO), formatted by its own handler (its filters and formatter: the JSON line it writes).
  The tests run it at WARNING (``POWERTOOLS_LOG_LEVEL`` in tests/conftest.py), so the logger is
  lowered for the capture and its stdout handler keeps printing only from WARNING up;
- the libraries' loggers (boto3, httpx, ...) through the root logger at the level Lambda's JSON
  log format gives the root logger (``LoggingConfig.ApplicationLogLevel``, default INFO), as
  Lambda's JSON lines (timestamp, level, message, logger).

The known values looked for verbatim are the ones the tests use: the local keys and secrets
(local/devkeys.py), every secret-named environment variable a test ran with (tokens), and the
phones, emails and message texts of the GHL fixtures, the events/ samples, the demo leads and
the extraction data set.

Under pytest-xdist each worker scans its own capture and hands the masked findings to the
controller (``workeroutput``), which reports them all and fails the run.
``LOGSCAN_DUMP=FILE`` also writes every captured line to FILE (one file per xdist worker).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ghl_ai.observability import SERVICE, logger
from local.logscan import find_leaks
from local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
#: Environment variables whose values are secrets (their values are looked for in the log).
SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|SITE_KEY|PRIVATE", re.IGNORECASE)
NOT_SECRETS = ("_ARN", "_PREFIX", "_TABLE", "_URL")
#: JSON keys of the fixtures whose strings are message texts / secrets.
BODY_KEYS = {"body", "message", "text", "html", "messageBody", "snippet"}
SECRET_KEYS = {"token", "secret", "apiKey", "api_key", "siteKey", "password", "access_token"}
#: Loggers of the test harness only (moto's server, the loopback stand-ins): never deployed.
HARNESS_LOGGERS = ("werkzeug", "moto", "local.")


def deployed_levels(template: dict[str, Any] | None = None) -> tuple[int, int]:
    """(our logger's level, the root logger's level) as template.yaml deploys them."""
    template = template or load_template()
    function = (template.get("Globals") or {}).get("Function") or {}
    variables = (function.get("Environment") or {}).get("Variables") or {}
    ours = logging.getLevelName(str(variables.get("POWERTOOLS_LOG_LEVEL", "INFO")).upper())
    logging_config = function.get("LoggingConfig") or {}
    if str(logging_config.get("LogFormat", "Text")) == "JSON":
        root = logging.getLevelName(str(logging_config.get("ApplicationLogLevel", "INFO")).upper())
    else:
        root = logging.WARNING  # the text format leaves the root logger at Python's default
    return int(ours), int(root)


class _TestLevel(logging.Filter):
    """Keeps our stdout handler at the level the tests run it at (``POWERTOOLS_LOG_LEVEL`` of
    tests/conftest.py) while the logger runs at the deployed level for the capture. A test that
    points the handler at a stream of its own (``powertools_logs``) gets every record."""

    def __init__(self) -> None:
        super().__init__()
        self.level = logging.WARNING
        self.stream: Any = None

    def filter(self, record: logging.LogRecord) -> bool:
        handler = logger.registered_handler
        if getattr(handler, "stream", None) is not self.stream:
            return True
        return record.levelno >= self.level


class LogCapture(logging.Handler):
    """Keeps every record as its CloudWatch line."""

    def __init__(self, service_level: int, root_level: int) -> None:
        super().__init__(level=logging.NOTSET)
        self.service_level = service_level
        self.root_level = root_level
        self.lines: list[str] = []
        self.gate = _TestLevel()

    def _ours(self, record: logging.LogRecord) -> str | None:
        handler = logger.registered_handler
        for check in handler.filters:
            if check is self.gate:
                continue
            passed = check.filter(record) if isinstance(check, logging.Filter) else check(record)
            if not passed:
                return None
        return handler.format(record)

    @staticmethod
    def _library(record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if record.exc_info:
            line["stackTrace"] = logging.Formatter().formatException(record.exc_info)
        return json.dumps(line, default=str)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name == SERVICE or record.name.startswith(SERVICE + "."):
                if record.levelno < self.service_level:
                    return
                text = self._ours(record)
            else:
                if record.levelno < self.root_level or record.name.startswith(HARNESS_LOGGERS):
                    return
                text = self._library(record)
            if text is not None:
                self.lines.append(text.replace("\n", "\\n"))
        except Exception:  # a log check must never break the code under test
            self.handleError(record)


# -- the values the tests use ------------------------------------------------------------------


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, string) for every string in a JSON value, JSON nested in strings included."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        text = value.strip()
        if text[:1] in "{[":
            try:
                yield from _strings(json.loads(text), key)
                return
            except ValueError:
                pass
        yield key, value


def _from_json(value: Any, secrets: set[str], bodies: set[str]) -> None:
    for key, text in _strings(value):
        if key in BODY_KEYS:
            bodies.add(text)
        elif key in SECRET_KEYS or key.lower() in ("phone", "from", "to", "email"):
            secrets.add(text)
        elif text.count("@") == 1 and " " not in text.strip():  # an email under another key
            secrets.add(text.strip())


def known_values(root: Path = ROOT) -> tuple[set[str], set[str]]:
    """(secrets, phones and emails; message texts) the test suite's inputs carry."""
    from local import demo_data, devkeys

    secrets = {devkeys.WORKFLOW_SECRET, devkeys.API_KEY, devkeys.SITE_KEY}
    secrets.add(_private_key_text(devkeys))
    bodies: set[str] = set()
    files = [
        *sorted((root / "tests" / "fixtures").rglob("*.json")),
        *sorted((root / "events").rglob("*.json")),
    ]
    for path in files:
        try:
            _from_json(json.loads(path.read_text()), secrets, bodies)
        except ValueError:
            continue
    for contact in demo_data.CONTACTS:
        secrets.update({contact.phone, contact.email})
    for path in sorted((root / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                bodies.add(str(json.loads(line).get("text") or ""))
    return secrets, bodies


def _private_key_text(devkeys: Any) -> str:
    """The base64 body of the local private key's PEM (what a leak of the key would show)."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = devkeys.PRIVATE_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return "".join(pem.decode().splitlines()[1:-1])


def environment_secrets(environ: dict[str, str] | os._Environ[str]) -> set[str]:
    """The values of the secret-named variables (not AWS's test credentials, and not the
    names of where secrets are kept: ARNs, prefixes)."""
    return {
        value
        for name, value in environ.items()
        if SECRET_NAMES.search(name)
        and not name.startswith("AWS_")
        and not name.endswith(NOT_SECRETS)
        and value
    }


# -- the plugin ---------------------------------------------------------------------------------


class LogCheck:
    """Installed for the whole session; see the module docstring."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        service_level, root_level = deployed_levels()
        self.capture = LogCapture(service_level, root_level)
        self.env_secrets: set[str] = set()
        self.findings: list[str] = []
        self.lines_scanned = 0
        self._restore: list[Any] = []

    # -- installing the capture ---------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        ours, root = logging.getLogger(SERVICE), logging.getLogger()
        handler = logger.registered_handler
        self.capture.gate.level = ours.getEffectiveLevel()
        self.capture.gate.stream = getattr(handler, "stream", None)
        handler.addFilter(self.capture.gate)
        self._restore = [ours.level, root.level]
        ours.setLevel(min(ours.getEffectiveLevel(), self.capture.service_level))
        root.setLevel(min(root.getEffectiveLevel(), self.capture.root_level))
        # Our records reach the root logger too (Powertools leaves propagation on): one handler
        # there sees every record once.
        root.addHandler(self.capture)
        if not ours.propagate:
            ours.addHandler(self.capture)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        # The tokens and keys a test's fixtures put in the environment.
        self.env_secrets |= environment_secrets(os.environ)
        return (yield)

    # -- the check ----------------------------------------------------------------------------
    def scan(self) -> list[str]:
        ours, root = logging.getLogger(SERVICE), logging.getLogger()
        ours.removeHandler(self.capture)
        root.removeHandler(self.capture)
        logger.registered_handler.removeFilter(self.capture.gate)
        if self._restore:
            ours.setLevel(self._restore[0])
            root.setLevel(self._restore[1])
        lines = self.capture.lines
        dump = os.environ.get("LOGSCAN_DUMP")
        if dump:
            worker = getattr(self.config, "workerinput", {}).get("workerid")
            path = Path(f"{dump}.{worker}" if worker else dump)
            path.write_text("".join(line + "\n" for line in lines))
        secrets, bodies = known_values()
        self.lines_scanned += len(lines)
        return find_leaks(lines, secrets | self.env_secrets, known_bodies=bodies)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        leaks = self.scan()
        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller reports
            self.config.workeroutput["logscan"] = {  # type: ignore[attr-defined]
                "worker": self.config.workerinput.get("workerid", "?"),  # type: ignore[attr-defined]
                "lines": self.lines_scanned,
                "leaks": leaks,
            }
            return
        self.findings += leaks
        if self.findings and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: a worker finished; keep what its scan found."""
        report = getattr(node, "workeroutput", {}).get("logscan")
        if report:
            worker = report.get("worker", "?")
            self.lines_scanned += int(report["lines"])
            self.findings += [f"[{worker}] {leak}" for leak in report["leaks"]]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if not self.findings:
            terminalreporter.write_line(
                f"log check: {self.lines_scanned} log lines, no phone number, email, message "
                "body, token or key"
            )
            return
        terminalreporter.section("log check: leaks found", red=True)
        for finding in self.findings:
            terminalreporter.write_line(finding)
        terminalreporter.write_line(
            f"{len(self.findings)} of {self.lines_scanned} log lines carry a phone number, email, "
            "message body, token or key (values masked). Log ids and outcomes instead."
        )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LogCheck(config), "logcheck")


def scan_lines(lines: Iterable[str]) -> list[str]:
    """The check on any lines, with the suite's known values (for the soak's own use)."""
    secrets, bodies = known_values()
    return find_leaks(lines, secrets, known_bodies=bodies)
