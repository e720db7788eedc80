"""Logs carry ids and outcomes, never what the lead wrote or their phone number."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.conftest import Stack, fixture_json
from tests.support import post_fixture


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["inbound_sms.json", "inbound_sms_data_wrapped.json"])
def test_an_inbound_sms_logs_its_ids_but_not_its_text_or_phone_numbers(
    stack: Stack,
    powertools_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    caplog.set_level("INFO")
    payload = fixture_json(name)
    fields = payload.get("data", payload)
    private = [fields["body"], fields["from"], fields["to"], fields["from"].lstrip("+")]

    assert post_fixture(stack, name).json["status"] == "queued"
    assert sum(batch.received for batch in stack.run_worker()) == 1

    records = json_lines(powertools_logs)
    messages = [r["message"] for r in records]
    assert "webhook accepted" in messages and "job done" in messages
    assert all(r["contact_id"] == fields["contactId"] for r in records if "contact_id" in r)
    # Everything that was logged, by our logger and by the libraries (caplog sees both).
    everything = powertools_logs.getvalue() + caplog.text
    assert fields["contactId"] in everything
    leaked = [value for value in private if value in everything]
    assert leaked == []
