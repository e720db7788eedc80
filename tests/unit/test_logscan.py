"""The log check: ``find_leaks`` finds phones, emails, bodies and secrets without reporting the
values, stays quiet on the ids, digests, times and prices real log lines carry, and the suite's
plugin fails a run whose code logs a phone number (also under pytest-xdist)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.logscan import find_leaks, mask
from tests.logcapture import deployed_levels, environment_secrets, known_values

ROOT = Path(__file__).resolve().parents[2]

#: Lines the suite's run logged (tests/logcapture.py, LOGSCAN_DUMP), one of each shape: ids,
#: hashes, ISO and Powertools timestamps, epoch seconds and millis, prices, coordinates, uuids,
#: X-Ray trace ids, URLs with ids, retry waits.
REAL_LINES = [
    '{"level":"INFO","location":"_record:363","message":"webhook accepted","timestamp":"2026-12-01'
    ' 16:00:12,398+0000","service":"ghl-real-estate-ai","taskName":"Task-1","type":"ContactUpdate",'
    '"location_id":"ve9EPM428h8vShlRW1KT","contact_id":"nmFmQEsNgz6AVpgLVUJ0","dedupe_key":"body:'
    '1947c35cbe76fb8dd210c2c7e90e860d14ee404237c5a2c776fc13ed6efeef16","status":"queued"}',
    '{"level":"INFO","location":"record_handler:182","message":"matches job done","timestamp":'
    '"2026-12-01 16:01:44,924+0000","service":"ghl-real-estate-ai","job_id":"d0b960f5-b464-43e0-'
    'a09e-1d5716aa700f","location_id":"t9Ww7bY1xJJ6ThFHZVPC","contact_id":"contact-0001","action":'
    '"sent","reason":"","listings":["FIT-001","FIT-002"]}',
    '{"timestamp": "2026-12-01T16:00:11.944462+00:00", "level": "INFO", "message": "HTTP Request: '
    'PUT http://127.0.0.1:39881/contacts/contact-0001 \\"HTTP/1.1 200 OK\\"", "logger": "httpx"}',
    '{"level":"WARNING","message":"GHL request retry","timestamp":"2026-12-01 16:02:16,805+0000",'
    '"method":"PUT","path":"/contacts/{contactId}","status":503,"attempt":1,"wait":0.183}',
    '{"level":"INFO","message":"churn chunk scored","day":"2026-11-20","chunk":"churn:sample:2026-'
    '11-20:gxGfB9wxEy3anxbHB4nT","low":1,"medium":0,"high":0,"critical":0,"plays":0}',
    '{"level":"INFO","message":"job done","job_id":"msg:kF4NJ5gzRyQF2gKFD34G:InboundMessage:'
    'sddfDSF3G56GHG","due_at":1763650000,"started_ms":1763650000123,"price":450000.0,"budget":'
    '"$450,000","area":"909 sq ft","lat":34.0633,"lng":-117.6509,"xray_trace_id":"1-5759e988-'
    'bd862e3fe1be46a994272793","function_request_id":"c6af9ac6-7b61-11e6-9a41-93e812345678"}',
    '{"level":"INFO","message":"lead scored","score":94,"probability":0.8123456789,"reasons":'
    '["spent 61 min on listings this month","requested 1 tour (last today)"],"version":"lead_score-'
    'synthetic-2026-10-31-s42","cold_start":true,"sampling_rate":0.1,"ts":"2026-11-20T15:04:05Z"}',
    '{"level":"INFO","message":"workflow job done","run":"long_term_nurture:first_outbound:c-1:'
    '1763650000123","seq":12,"due":"2026-11-25T17:02:00+00:00","wait_s":86400,"offset":"+0530"}',
]


def test_the_suites_own_log_lines_are_clean() -> None:
    assert find_leaks(REAL_LINES) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("+19095550142", "phone"),
        ("+447911123456", "phone"),
        ("(909) 555-0142", "phone"),
        ("909-555-0142", "phone"),
        ("909.555.0142", "phone"),
        ("+1 909 555 0142", "phone"),
        ("1-909-555-0142", "phone"),
        ("daniela.reyes@example.com", "email"),
        ("JohnDeo@gmail.comm", "email"),
        ("Bearer pit-7c1e2c0a-1111-4b4b-9a9a-0123456789ab", "secret"),
        ("sk-ant-api03-abcdefghijklmnop", "secret"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "secret",
        ),
        ("-----BEGIN PRIVATE KEY-----", "secret"),
        ("AKIAIOSFODNN7EXAMPLE", "secret"),
    ],
)
def test_a_leak_is_found_by_its_shape_and_reported_masked(text: str, kind: str) -> None:
    line = json.dumps({"level": "INFO", "message": "lead texted", "detail": f"to {text} now"})
    [finding] = find_leaks(["{}", line])
    assert finding.startswith(f"line 2: {kind} ")
    assert text not in finding


def test_digits_alone_are_a_phone_only_under_a_phone_key() -> None:
    lines = ['{"phone": "9095550142"}', '{"from": "+19095550142"}', '{"count": "9095550142"}']
    assert [f.split(":")[0] for f in find_leaks(lines)] == ["line 1", "line 2"]


def test_a_percent_encoded_email_or_phone_in_a_logged_url_is_found() -> None:
    line = (
        "HTTP Request: GET http://ghl/contacts/search?query=jane.doe%40example.com&p=%2B19095550142"
    )
    [finding] = find_leaks([line])
    assert "email" in finding and "phone" in finding


def test_known_secrets_and_bodies_are_found_verbatim_and_named_for_what_they_are() -> None:
    lines = [
        "webhook secret was local-dev-workflow-secret",
        "the lead wrote: I want a 3 bed near the park",
        "caller 9095550142 (national form of a known phone)",
        "mail to DANIELA.REYES@EXAMPLE.COM",
        "nothing here",
        "short known values (yes) are not looked for",
    ]
    findings = find_leaks(
        lines,
        ["local-dev-workflow-secret", "+19095550142", "daniela.reyes@example.com", "yes"],
        known_bodies=["I want a 3 bed near the park", "yes"],
    )
    assert [f.split(": ", 1)[1].split(" ")[0] for f in findings] == [
        "secret",
        "body",
        "phone",
        "email",
    ]
    assert all("workflow-secret" not in f and "3 bed" not in f for f in findings)


def test_one_description_per_line_naming_each_leak() -> None:
    [finding] = find_leaks(['{"phone": "+19095550142", "email": "a.b@example.com"}'])
    assert finding.count("phone") == 1 and finding.count("email") == 1


def test_mask_never_shows_the_value() -> None:
    assert mask("+19095550142") == "+1********42 (12 chars)"
    assert mask("abc") == "*** (3 chars)"


def test_the_capture_uses_the_deployed_levels() -> None:
    # template.yaml: POWERTOOLS_LOG_LEVEL INFO; LoggingConfig LogFormat JSON (root at INFO).
    assert deployed_levels() == (20, 20)
    text_format: dict[str, Any] = {"Globals": {"Function": {"Environment": {"Variables": {}}}}}
    assert deployed_levels(text_format) == (20, 30)


def test_the_known_values_come_from_the_fixtures_the_keys_and_the_environment() -> None:
    secrets, bodies = known_values()
    sms = json.loads((ROOT / "tests" / "fixtures" / "ghl" / "inbound_sms.json").read_text())
    assert {sms["from"], sms["to"], "local-dev-workflow-secret", "JohnDeo@gmail.comm"} <= secrets
    assert sms["body"] in bodies
    environ = {
        "GHL_API_TOKEN": "pit-x",
        "AWS_SECRET_ACCESS_KEY": "t",
        "GHL_API_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:t",
    }
    assert environment_secrets(environ) == {"pit-x"}


# -- the plugin, in a pytest run of its own -----------------------------------------------------

LEAKY = """
import logging
import os

from ghl_ai.observability import logger

def test_texts_a_lead():
    # A library's INFO line reaches CloudWatch as it is (Lambda's JSON log format, root at INFO).
    logging.getLogger("httpx").info("HTTP Request: GET http://ghl/contacts/?query=+19095550142")
    # Our logger: what the lead wrote (a fixture's body) and the GHL token.
    logger.info("lead wrote", extra={"contact_id": "c-1", "text": "This is a test message"})
    logger.info("calling GHL", extra={"auth": os.environ["GHL_API_TOKEN"]})
"""
CLEAN = """
from ghl_ai.observability import logger

def test_scores_a_lead():
    logger.info("lead scored", extra={"contact_id": "c-2", "score": 61})
"""


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (directory / "conftest.py").write_text('pytest_plugins = ["tests.logcapture"]\n')
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared")]),
        "POWERTOOLS_LOG_LEVEL": "WARNING",  # as the suite runs: INFO is still captured
        "GHL_API_TOKEN": "pit-subprocess-token-1234",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(directory)],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_run_whose_code_logs_a_phone_number_fails_and_says_where(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    result = run_pytest(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 passed" in output  # the test itself passed: the log check failed the run
    assert "log check: leaks found" in output
    assert "line 1: phone +1********42 (12 chars)" in output
    assert "line 2: body Th************ge (22 chars)" in output
    assert "line 3: secret pi************34 (25 chars)" in output
    assert "3 of 3 log lines carry" in output
    for value in ("9095550142", "test message", "subprocess-token"):
        assert value not in output


def test_under_xdist_the_workers_findings_fail_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    (tmp_path / "test_clean.py").write_text(CLEAN)
    result = run_pytest(tmp_path, "-n", "2")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 passed" in output
    assert "] line 1: phone +1********42 (12 chars)" in output
    assert "3 of 4 log lines carry" in output
    assert "9095550142" not in output
