"""The soak's own machinery: the speed-ups of its moto server must answer exactly as moto does,
and its reply accounting must tell a text sent once from one sent twice or never."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from local.ghl_standin import RecordedCall
from soak.verify import Report, _replies

ROOT = Path(__file__).resolve().parents[2]

#: Every DynamoDB and SQS call shape the stack makes, answered by moto with or without the
#: soak's speed-ups (soak/aws.py); the answers, minus ids and clocks, must be the same.
SCENARIO = Path(__file__).with_name("moto_scenario.py")


def _run(mode: str) -> Any:
    done = subprocess.run(
        [sys.executable, str(SCENARIO), mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_soak_moto_speed_ups_answer_as_moto_does() -> None:
    plain, patched = _run("plain"), _run("patched")
    assert patched == plain
    assert len(plain) == 20
    # The scenario itself: a cancelled transaction leaves nothing of itself behind.
    cancelled, (tx1, tx2, kept3, kept5, kept6) = plain[10], plain[11:16]
    assert cancelled[0] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled[1]] == ["None", "None", "None", "ConditionalCheckFailed"]
    assert "Item" in tx1 and tx2 == {} and kept3["Item"]["v"] == {"N": "7"}
    assert "Item" in kept5 and "v" not in kept6["Item"]


# -- reply accounting ---------------------------------------------------------------------------

LOC = "t9Ww7bY1xJJ6ThFHZVPC"


def _claim(
    message: str, contact: str, status: str, ghl_id: str | None, text: str
) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "id": f"reply:{LOC}:{message}",
        "kind": "sms",
        "contactId": contact,
        "status": status,
        "decision": {"reply": text, "source": "rules"},
    }
    if ghl_id:
        claim["messageId"] = ghl_id
    return claim


def _text(ghl_id: str, contact: str, text: str) -> dict[str, Any]:
    return {
        "id": ghl_id,
        "contactId": contact,
        "body": text,
        "direction": "outbound",
        "messageType": "TYPE_SMS",
    }


def _lost(ghl_id: str, fault: str | None) -> tuple[RecordedCall, int, Any]:
    call = RecordedCall("POST", "/conversations/messages", {}, {}, {}, fault=fault)
    return call, 201, {"messageId": ghl_id}


def _account(claims: list[dict[str, Any]], texts: list[dict[str, Any]], lost: list[Any]) -> Report:
    report = Report()
    inbound = {c["id"].rsplit(":", 1)[1]: SimpleNamespace(webhook_id="w") for c in claims}
    outbox = {c["id"]: c for c in claims}
    _replies(report, SimpleNamespace(copies=[]), outbox, texts, lost, inbound, {})  # type: ignore[arg-type]
    return report


def _checks(report: Report) -> dict[str, bool]:
    return {c.name: c.ok for c in report.checks}


def test_replies_sent_once_however_their_answer_went() -> None:
    report = _account(
        [
            _claim("m1", "c1", "done", "g1", "When would you like to move?"),
            # GHL carried it out, the answer was lost; the retry found it in GHL's history.
            _claim("m2", "c1", "done", "g2", "What area are you looking at?"),
            # Answer lost, never resolved (the job ended in a DLQ): still delivered once.
            _claim("m3", "c2", "uncertain", None, "Great, and your budget?"),
        ],
        [
            _text("g1", "c1", "When would you like to move?"),
            _text("g2", "c1", "What area are you looking at?"),
            _text("g3", "c2", "Great, and your budget?"),
        ],
        [_lost("g2", "dropped"), _lost("g3", "timeout")],
    )
    assert all(_checks(report).values()), report.checks
    assert report.numbers["replies"]["replies_per_inbound_message"] == {"1": 3}


def test_a_reply_resent_after_its_answer_was_lost_is_a_reply_sent_twice() -> None:
    text = "When would you like to move?"
    report = _account(
        [_claim("m1", "c1", "done", "g2", text)],
        [_text("g1", "c1", text), _text("g2", "c1", text)],
        [_lost("g1", None)],  # the sender was killed before GHL's answer reached it
    )
    checks = _checks(report)
    assert not checks["exactly one reply per unique inbound message"]
    assert checks["no reply for a duplicate"]  # the second text came from the retry
    assert report.numbers["replies"]["texts_sent_again_after"] == {"caller killed": 1}


def test_a_second_sender_and_a_reply_never_delivered_are_both_caught() -> None:
    report = _account(
        [
            _claim("m1", "c1", "done", "g1", "Hi! Buying or selling?"),
            _claim("m2", "c2", "uncertain", None, "And your timeline?"),  # GHL answered 500
        ],
        [_text("g1", "c1", "Hi! Buying or selling?"), _text("g9", "c1", "Hi! Buying or selling?")],
        [],
    )
    checks = _checks(report)
    assert not checks["exactly one reply per unique inbound message"]
    assert not checks["no reply for a duplicate"]
    assert report.numbers["replies"]["replies_per_inbound_message"] == {"0": 1, "2": 1}
    assert report.numbers["replies"]["claimed_but_never_at_ghl_by_kind"] == {"reply": 1}


def test_a_retry_that_took_another_replys_text_for_its_own_is_still_one_reply_each() -> None:
    text = "Thanks! Jorge will reach out shortly."
    first = _claim("m1", "c1", "done", "g2", text) | {"sentAt": "2026-12-01T17:55:46Z"}
    second = _claim("m2", "c1", "done", "g2", text) | {"sentAt": "2026-12-01T17:55:43Z"}
    report = _account(
        [first, second],
        # m1's text went out (g1) but its answer was lost; m2's reply, the same text, is g2;
        # m1's retry then found g2 in GHL's history and recorded it as its own.
        [_text("g1", "c1", text), _text("g2", "c1", text)],
        [_lost("g1", "dropped")],
    )
    checks = _checks(report)
    assert checks["exactly one reply per unique inbound message"]
    assert checks["no reply for a duplicate"]
    assert not checks["each text at GHL is named by one claim"]  # reported, not failing
    assert report.passed
