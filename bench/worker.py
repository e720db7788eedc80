"""Worker benchmark: own processing time per inbound SMS through the real worker handler.

Many leads, each a scripted multi-turn buyer or seller conversation (the texts of
tests/conversation/test_flows.py, some turns swapped for labelled messages of
tests/data/lead_messages.jsonl that answer the same question), are worked one SQS record per
invoke through ``functions.worker.app.handler`` in process, against moto (tables and queue from
template.yaml), GHL faked by ``local.ghl_standin.GhlStandIn`` and, for the Claude variant, the
Messages API faked by ``local.anthropic_standin.AnthropicStandIn`` with a responder written here
(it answers a valid ``record_turn`` input: what the project's extractor finds in the lead's
message, and the next missing question). Both stand-ins serve on loopback from threads of this
process.

Per message: total handler time; time inside AWS API calls (``BaseClient._make_api_call``, as
in the intake section); time inside GHL HTTP calls (``httpx.Client.send``: request, wait and
response body; ``httpx.HTTPTransport.handle_request`` alone is reported too); time inside the
model call (``httpx2.Client.send``, the HTTP client of the anthropic 2.x SDK; the SDK's
``Messages.create`` is timed too, its client-side part stays in own work).
OWN WORK = total - AWS - GHL HTTP - model HTTP. Baselines in the same run: a worker invoke for
an OutboundMessage job (an agent's text: lead state only, no conversation), and the bare
``RuleBrain().decide()`` and ``extract()`` on the turns of the rules pass. A separate pass per
variant wraps the worker's steps and adds up each step's exclusive own time.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bench.common import (
    BASE_ENV,
    LOCATION_ID,
    ROOT,
    AwsCallTimer,
    ms,
    stdout_to_devnull,
    summary,
    timed_each,
)

DEV_DATA = ROOT / "tests" / "data" / "lead_messages.jsonl"
FIRST_NAMES = ["Maria", "Dan", "Priya", "Tom", "Aisha", "Luis", "Grace", "Ken", "Sofia", "Omar"]
LAST_NAMES = ["Lopez", "Whit", "Shah", "Berg", "Khan", "Ortiz", "Lee", "Sato", "Rossi", "Haddad"]
#: Turns of the scripted flows that answer a question, by index: they may be swapped for a
#: labelled message that answers the same field.
SWAPPABLE = {
    "buyer": {
        2: "timeline",
        3: "area",
        4: "budget",
        6: "pre_approval",
        7: "bedrooms",
        8: "property_type",
    },
    "seller": {1: "address", 3: "motivation", 4: "timeline", 6: "condition", 7: "price"},
}
SWAP_SHARE = 0.5


# --------------------------------------------------------------------------------- workload


@dataclass
class Lead:
    kind: str  # buyer | seller
    texts: list[str]
    first_name: str
    last_name: str
    phone: str
    contact_id: str = ""
    turn: int = 0


def _alternatives(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Labelled messages by the field they answer, and openers by intent."""
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.get("handoff") or row.get("bot") or row.get("vague"):
            continue
        expecting = row.get("expecting")
        if expecting and expecting in row["fields"]:
            out[expecting].append(row["text"])
        elif expecting is None and row.get("intent") in ("buy", "sell"):
            out["open:" + row["intent"]].append(row["text"])
    return out


def make_leads(
    rng: random.Random,
    count: int,
    scripts: dict[str, list[str]],
    alternatives: dict[str, list[str]],
) -> list[Lead]:
    leads = []
    for i in range(count):
        kind = "buyer" if i % 2 == 0 else "seller"
        texts = list(scripts[kind])
        opener = alternatives.get("open:" + ("buy" if kind == "buyer" else "sell"))
        if opener and rng.random() < SWAP_SHARE:
            texts[0] = rng.choice(opener)
        for index, name in SWAPPABLE[kind].items():
            if alternatives.get(name) and rng.random() < SWAP_SHARE:
                texts[index] = rng.choice(alternatives[name])
        leads.append(
            Lead(
                kind,
                texts,
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                f"+1512{rng.randrange(10**7):07d}",
            )
        )
    return leads


def interleave(rng: random.Random, leads: list[Lead]) -> list[Lead]:
    """The order messages arrive in: many conversations at once, each in its own order."""
    pending = [lead for lead in leads for _ in lead.texts]
    rng.shuffle(pending)
    return pending


_message_ids = itertools.count(1)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_body(payload: dict[str, Any]) -> str:
    """The job the intake enqueues for this webhook (ghl_ai.intake.WebhookIntake.accept)."""
    from ghl_ai.jobs import Job
    from ghl_ai.webhooks.events import parse_json, parse_marketplace_webhook, utcnow

    raw = json.dumps(payload, separators=(",", ":")).encode()
    event = parse_marketplace_webhook(parse_json(raw), raw)
    return Job(id=event.dedupe_key, received_at=utcnow(), event=event).model_dump_json()


def inbound_payload(lead: Lead, text: str) -> dict[str, Any]:
    return {
        "type": "InboundMessage",
        "locationId": LOCATION_ID,
        "contactId": lead.contact_id,
        "messageId": f"bench-in-{next(_message_ids):07d}",
        "conversationId": f"conv-{lead.contact_id}",
        "body": text,
        "direction": "inbound",
        "messageType": "SMS",
        "dateAdded": _now_iso(),
        "from": lead.phone,
        "to": "+15125550199",
    }


def agent_payload(contact_id: str) -> dict[str, Any]:
    """An agent texting a lead from the GHL app: the worker only records it."""
    return {
        "type": "OutboundMessage",
        "locationId": LOCATION_ID,
        "contactId": contact_id,
        "messageId": f"bench-out-{next(_message_ids):07d}",
        "conversationId": f"conv-{contact_id}",
        "body": "Hi, it's Jorge - just following up on the listing you asked about.",
        "direction": "outbound",
        "messageType": "SMS",
        "userId": "user-jorge",
        "source": "app",
        "dateAdded": _now_iso(),
    }


def sqs_event(body: str, queue_arn: str) -> dict[str, Any]:
    """One SQS record, shaped as Lambda's event source mapping delivers it (local/sqs_runner)."""
    now_ms = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex + uuid.uuid4().hex,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now_ms,
                    "SenderId": "AROAEXAMPLE:IntakeFunction",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        ]
    }


# --------------------------------------------------------------------------------- Claude


_STATE = {
    "today": re.compile(r"^- Today: \w+ (\d{4}-\d{2}-\d{2})", re.MULTILINE),
    "intent": re.compile(r"^- Intent: (\S+)", re.MULTILINE),
    "missing": re.compile(r"^- Missing fields, next first: (.+)$", re.MULTILINE),
    "asked": re.compile(r"^- Our previous message asked about: (.+)$", re.MULTILINE),
}


def claude_responder(areas: tuple[str, ...], agent: str) -> Callable[[dict[str, Any]], Any]:
    """A stand-in for Claude's judgement: a valid ``record_turn`` input with what the project's
    extractor finds in the lead's last message and a reply asking the next missing field."""
    from ghl_ai.conversation.extract import extract
    from ghl_ai.conversation.model import FIELD_NAMES
    from ghl_ai.conversation.qualification import INTENT_QUESTION, QUESTIONS, missing_fields

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        system = request.get("system") or []
        state = str(system[-1].get("text", "")) if system else ""
        found = {
            k: (m.group(1).strip() if (m := p.search(state)) else "") for k, p in _STATE.items()
        }
        last = request["messages"][-1]["content"]
        text = last if isinstance(last, str) else str(last[-1].get("text", ""))
        if text.startswith("(") and text.endswith(")"):
            text = ""  # we write first: no message from the lead
        asked = found["asked"] if found["asked"] in FIELD_NAMES else None
        today = date.fromisoformat(found["today"]) if found["today"] else date.today()
        extraction = extract(text, today=today, expecting=asked, areas=areas) if text else None
        known_intent = found["intent"] if found["intent"] not in ("", "unknown") else None
        intent = (extraction.intent if extraction else None) or known_intent
        answers = dict(extraction.answers) if extraction else {}
        if found["missing"].startswith("the intent"):
            missing = list(missing_fields(intent, {})) if intent else []  # type: ignore[arg-type]
        elif found["missing"].startswith("none"):
            missing = []
        else:
            missing = [m.strip() for m in found["missing"].split(",") if m.strip()]
        remaining = [m for m in missing if m not in answers]
        handoff = bool(extraction and extraction.handoff_requested)
        bot = bool(extraction and extraction.asked_if_bot)
        parts, next_field = [], None
        if handoff:
            parts.append(f"Of course, I'll have {agent} give you a call shortly.")
        else:
            if bot:
                parts.append(f"I'm an AI assistant working with {agent}, who is a real person.")
            elif answers:
                parts.append("Thanks, that's helpful!")
            if intent is None:
                parts.append(INTENT_QUESTION)
            elif remaining and remaining[0] in QUESTIONS:
                next_field = remaining[0]
                parts.append(QUESTIONS[next_field])  # type: ignore[index]
            else:
                parts.append(f"{agent} will reach out shortly to talk through next steps.")
        return {
            "reply": " ".join(parts),
            "intent": intent,
            "intent_confidence": 0.95 if intent else 0.0,
            "answers": {
                name: {"value": a.value, "confidence": round(min(a.confidence + 0.05, 1.0), 2)}
                for name, a in answers.items()
            },
            "handoff_requested": handoff,
            "asked_if_bot": bot,
            "vague": bool(extraction and extraction.vague),
            "asked_field": next_field,
        }

    return respond


# --------------------------------------------------------------------------------- timing


class HttpTimer:
    """Time inside GHL HTTP calls (httpx) and model HTTP calls (httpx2, anthropic 2.x SDK).

    ``ghl_ns`` / ``model_ns``: inside ``Client.send`` of the built request - sending it,
    waiting for and reading the whole response (what the network and the remote service
    replace), plus httpx's own per-send overhead (auth and redirect plumbing, cookies).
    ``*_transport_ns``: the part inside ``HTTPTransport.handle_request`` (the response body is
    read after it returns).
    ``sdk_ns``: inside ``Messages.create`` (the SDK's request building, retries and response
    parsing around ``httpx2``). Wrappers also raise the AWS timer's depth, so its GC counter
    only counts pauses outside every external call.
    """

    def __init__(self, aws: AwsCallTimer) -> None:
        self._aws = aws
        self._restore: list[tuple[Any, str, Any]] = []
        self._model_hooks = False
        self.reset()

    def reset(self) -> None:
        self.ghl_ns = 0
        self.ghl_transport_ns = 0
        self.model_ns = 0
        self.model_transport_ns = 0
        self.sdk_ns = 0
        self.ghl_calls: list[str] = []
        self.model_calls = 0

    @property
    def external_ns(self) -> int:
        return self.ghl_ns + self.model_ns

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        self._restore.append((owner, name, original))
        setattr(owner, name, make(original))

    def _timed(self, attr: str, record: Callable[[Any], None] | None = None) -> Any:
        timer, aws = self, self._aws

        def make(original: Any) -> Any:
            def call(obj: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
                aws._depth += 1
                start = time.perf_counter_ns()
                try:
                    return original(obj, request, *args, **kwargs)
                finally:
                    setattr(timer, attr, getattr(timer, attr) + time.perf_counter_ns() - start)
                    aws._depth -= 1
                    if record is not None:
                        record(request)

            return call

        return make

    def _record_ghl(self, request: Any) -> None:
        path = re.sub(r"/(contact|opp|conv|note|task|msg)-\d+", r"/{\1}", request.url.path)
        self.ghl_calls.append(f"{request.method} {path}")

    def _record_model(self, _request: Any) -> None:
        self.model_calls += 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[HttpTimer]:
        import httpx

        self._patch(httpx.Client, "send", self._timed("ghl_ns", self._record_ghl))
        self._patch(httpx.HTTPTransport, "handle_request", self._timed("ghl_transport_ns"))
        try:
            yield self
        finally:
            for owner, name, original in reversed(self._restore):
                setattr(owner, name, original)
            self._restore.clear()
            self._model_hooks = False

    def install_model_hooks(self) -> None:
        """After the SDK is imported (the first Claude turn imports it)."""
        import httpx2
        from anthropic.resources.messages import Messages

        if self._model_hooks:
            return
        self._model_hooks = True
        self._patch(httpx2.Client, "send", self._timed("model_ns", self._record_model))
        self._patch(httpx2.HTTPTransport, "handle_request", self._timed("model_transport_ns"))
        timer = self

        def make(original: Any) -> Any:
            def create(obj: Any, *args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter_ns()
                try:
                    return original(obj, *args, **kwargs)
                finally:
                    timer.sdk_ns += time.perf_counter_ns() - start

            return create

        self._patch(Messages, "create", make)


class StepProfiler:
    """Exclusive own time per wrapped step: wall time minus time in external calls (AWS, GHL
    HTTP, model HTTP) minus the own time of wrapped steps called inside it."""

    def __init__(self, external: Callable[[], int]) -> None:
        self._external = external
        self._stack: list[list[int]] = []
        self.exclusive_ns: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def wrap(self, original: Callable[..., Any], label: str) -> Callable[..., Any]:
        profiler = self

        def call(*args: Any, **kwargs: Any) -> Any:
            frame = [time.perf_counter_ns(), profiler._external(), 0]
            profiler._stack.append(frame)
            try:
                return original(*args, **kwargs)
            finally:
                profiler._stack.pop()
                own = time.perf_counter_ns() - frame[0] - (profiler._external() - frame[1])
                profiler.exclusive_ns[label] += own - frame[2]
                profiler.calls[label] += 1
                if profiler._stack:
                    profiler._stack[-1][2] += own

        return call

    @contextlib.contextmanager
    def wrapping(self, targets: list[tuple[Any, str, str]]) -> Iterator[None]:
        saved = []
        for owner, name, label in targets:
            original = getattr(owner, name)
            saved.append((owner, name, original))
            setattr(owner, name, self.wrap(original, label))
        try:
            yield
        finally:
            for owner, name, original in reversed(saved):
                setattr(owner, name, original)


def step_targets(variant: str) -> list[tuple[Any, str, str]]:
    """What the breakdown pass wraps: (owner, attribute, label)."""
    from functions.worker import app as worker_app
    from ghl_ai.adapters.dynamo import LeadStore, MessageStore, OutboxStore
    from ghl_ai.adapters.ghl import GhlClient
    from ghl_ai.conversation import engine, rules
    from ghl_ai.conversation.engine import ConversationEngine
    from ghl_ai.conversation.outbound import Outbound
    from ghl_ai.conversation.rules import RuleBrain
    from ghl_ai.conversation.writeback import GhlWriteBack
    from ghl_ai.leads.tracker import LeadTracker
    from ghl_ai.tenants import TenantDirectory

    deps = worker_app.deps()
    targets: list[tuple[Any, str, str]] = [
        (worker_app, "process_partial_response", "Powertools BatchProcessor (batch glue)"),
        (worker_app, "record_handler", "record_handler (log + metrics)"),
        (worker_app, "parse_job", "parse_job (pydantic, job JSON)"),
        (deps, "track", "idempotency layer: track (Powertools)"),
        (deps, "converse", "idempotency layer: converse (Powertools)"),
        (LeadTracker, "handle", "LeadTracker.handle"),
        (worker_app.Dependencies, "_converse", "Dependencies._converse"),
        (TenantDirectory, "profile", "TenantDirectory.profile"),
        (ConversationEngine, "on_inbound", "engine.on_inbound (compliance, gates)"),
        (Outbound, "lead", "Outbound.lead (lead + GHL contact sync)"),
        (ConversationEngine, "_history", "engine._history"),
        (ConversationEngine, "_turn", "engine._turn (turn logic, merge, LeadChanges)"),
        (ConversationEngine, "_decide", "engine._decide"),
        (Outbound, "send", "Outbound.send (the reply, exactly once)"),
        (ConversationEngine, "_write_back", "engine._write_back"),
        (OutboxStore, "carry_out", "OutboxStore.carry_out (outbox-guarded tasks, notes)"),
        (engine, "stored_answers", "stored_answers (stored answers -> models)"),
        (engine, "_decision_to", "engine._decision_to (decision JSON)"),
        (engine, "_decision_from", "engine._decision_from (decision JSON)"),
        (engine, "summarise", "engine.summarise"),
        (RuleBrain, "decide", "RuleBrain.decide (reply text)"),
        (rules, "extract", "extract (rule-based extractor)"),
        (GhlWriteBack, "write_fields", "GhlWriteBack.write_fields"),
        (GhlWriteBack, "set_temperature_tag", "GhlWriteBack.set_temperature_tag"),
        (GhlWriteBack, "move_opportunity", "GhlWriteBack.move_opportunity"),
        (GhlClient, "_request", "GhlClient._request (client side, excl. HTTP send)"),
        (LeadStore, "get", "LeadStore.get (excl. AWS)"),
        (LeadStore, "apply", "LeadStore.apply (excl. AWS)"),
        (MessageStore, "put", "MessageStore.put (excl. AWS)"),
        (MessageStore, "recent", "MessageStore.recent (excl. AWS)"),
        (OutboxStore, "get", "OutboxStore.get (excl. AWS)"),
        (OutboxStore, "claim", "OutboxStore.claim (excl. AWS)"),
        (OutboxStore, "finish", "OutboxStore.finish (excl. AWS)"),
    ]
    if variant == "claude":
        from anthropic.resources.messages import Messages

        from ghl_ai.conversation import claude
        from ghl_ai.conversation.claude import ClaudeBrain

        targets += [
            (ClaudeBrain, "decide", "ClaudeBrain.decide"),
            (claude, "build_request", "claude.build_request (prompt)"),
            (ClaudeBrain, "_decision", "ClaudeBrain._decision (tool input -> Decision)"),
            (Messages, "create", "anthropic SDK Messages.create (excl. HTTP)"),
        ]
    return targets


# --------------------------------------------------------------------------------- running


@dataclass
class Sample:
    total_ns: int
    aws_ns: int
    emulation_ns: int
    ghl_ns: int
    ghl_transport_ns: int
    model_ns: int
    model_transport_ns: int
    sdk_ns: int
    gc_own_ns: int
    aws_calls: list[str]
    ghl_calls: list[str]
    model_calls: int
    failures: int
    outcome: Any = None
    turn: int = 0

    @property
    def own_ns(self) -> int:
        return self.total_ns - self.aws_ns - self.ghl_ns - self.model_ns


@dataclass
class Rig:
    """The stack for the worker: moto resources, stand-ins, timers, the handler."""

    queue_arn: str
    ghl: Any
    aws: AwsCallTimer
    http: HttpTimer
    outcomes: list[Any] = field(default_factory=list)
    turns: list[Any] | None = None

    def invoke(self, body: str, turn: int = 0) -> Sample:
        from functions.worker import app as worker_app
        from local.apigw import LambdaContext

        event = sqs_event(body, self.queue_arn)
        context = LambdaContext("WorkerFunction", timeout_seconds=90, memory_mb=512)
        self.aws.reset()
        self.http.reset()
        self.outcomes.clear()
        start = time.perf_counter_ns()
        result = worker_app.handler(event, context)
        total = time.perf_counter_ns() - start
        aws, http = self.aws, self.http
        return Sample(
            total,
            aws.api_ns,
            aws.emulation_ns,
            http.ghl_ns,
            http.ghl_transport_ns,
            http.model_ns,
            http.model_transport_ns,
            http.sdk_ns,
            aws.gc_own_ns,
            list(aws.calls),
            list(http.ghl_calls),
            http.model_calls,
            len(result.get("batchItemFailures") or []),
            self.outcomes[0] if self.outcomes else None,
            turn,
        )

    def seed(self, leads: list[Lead]) -> None:
        for lead in leads:
            contact = self.ghl.seed_contact(
                LOCATION_ID, firstName=lead.first_name, lastName=lead.last_name, phone=lead.phone
            )
            lead.contact_id = contact["id"]
            lead.turn = 0

    def converse(self, order: list[Lead]) -> list[Sample]:
        samples = []
        for lead in order:
            body = job_body(inbound_payload(lead, lead.texts[lead.turn]))
            lead.turn += 1
            samples.append(self.invoke(body, lead.turn))
        return samples


@contextlib.contextmanager
def capturing(rig: Rig) -> Iterator[None]:
    """Record each inbound's engine Outcome (and, when ``rig.turns`` is a list, the Turn given
    to the rule-based brain) for the checks and the baselines: a few hundred ns per call."""
    from ghl_ai.conversation.engine import ConversationEngine
    from ghl_ai.conversation.rules import RuleBrain

    on_inbound, decide = ConversationEngine.on_inbound, RuleBrain.decide

    def on_inbound_(engine: Any, message: Any) -> Any:
        outcome = on_inbound(engine, message)
        rig.outcomes.append(outcome)
        return outcome

    def decide_(brain: Any, turn: Any) -> Any:
        if rig.turns is not None:
            rig.turns.append(turn)
        return decide(brain, turn)

    ConversationEngine.on_inbound = on_inbound_  # type: ignore[method-assign]
    RuleBrain.decide = decide_  # type: ignore[method-assign]
    try:
        yield
    finally:
        ConversationEngine.on_inbound = on_inbound  # type: ignore[method-assign]
        RuleBrain.decide = decide  # type: ignore[method-assign]


def _per_message(samples: list[Sample], key: Callable[[Sample], list[str]]) -> dict[str, float]:
    counts = Counter(c for s in samples for c in key(s))
    return {k: round(v / len(samples), 3) for k, v in sorted(counts.items())}


def _variant_results(samples: list[Sample]) -> dict[str, Any]:
    by_turn: dict[int, list[float]] = defaultdict(list)
    for s in samples:
        by_turn[s.turn].append(ms(s.own_ns))
    outcomes = Counter(s.outcome.action if s.outcome else "none" for s in samples)
    sources = Counter(s.outcome.source for s in samples if s.outcome and s.outcome.source)
    replied = [s for s in samples if s.outcome and s.outcome.action in ("replied", "handed_off")]
    first = [s for s in samples if s.turn == 1]
    later = [s for s in samples if s.turn > 1]
    return {
        "messages": len(samples),
        "batch_item_failures": sum(s.failures for s in samples),
        "outcomes": dict(sorted(outcomes.items())),
        "reply_sources": dict(sorted(sources.items())),
        "total_ms": summary([ms(s.total_ns) for s in samples]),
        "aws_api_calls_ms": summary([ms(s.aws_ns) for s in samples]),
        "moto_emulation_ms": summary([ms(s.emulation_ns) for s in samples]),
        "ghl_http_ms": summary([ms(s.ghl_ns) for s in samples]),
        "ghl_http_transport_ms": summary([ms(s.ghl_transport_ns) for s in samples]),
        "model_http_ms": summary([ms(s.model_ns) for s in samples]),
        "model_http_transport_ms": summary([ms(s.model_transport_ns) for s in samples]),
        "model_sdk_create_ms": summary([ms(s.sdk_ns) for s in samples]),
        "model_sdk_client_side_ms": summary([ms(s.sdk_ns - s.model_ns) for s in samples]),
        "own_work_ms": summary([ms(s.own_ns) for s in samples]),
        "own_work_incl_botocore_client_ms": summary(
            [ms(s.total_ns - s.emulation_ns - s.ghl_ns - s.model_ns) for s in samples]
        ),
        "gc_pauses_in_own_work_ms": summary([ms(s.gc_own_ns) for s in samples]),
        "own_work_excl_gc_ms": summary([ms(s.own_ns - s.gc_own_ns) for s in samples]),
        "own_work_replied_ms": summary([ms(s.own_ns) for s in replied]),
        "own_work_first_message_of_lead_ms": summary([ms(s.own_ns) for s in first]),
        "own_work_later_messages_ms": summary([ms(s.own_ns) for s in later]),
        "own_work_mean_by_turn_ms": {
            t: round(statistics.fmean(v), 3) for t, v in sorted(by_turn.items())
        },
        "aws_calls_per_message": _per_message(samples, lambda s: s.aws_calls),
        "ghl_calls_per_message": _per_message(samples, lambda s: s.ghl_calls),
        "aws_calls_per_message_total": round(
            statistics.fmean(len(s.aws_calls) for s in samples), 2
        ),
        "ghl_calls_per_message_total": round(
            statistics.fmean(len(s.ghl_calls) for s in samples), 2
        ),
        "model_calls_per_message": round(statistics.fmean(s.model_calls for s in samples), 3),
    }


def _breakdown(profiler: StepProfiler, samples: list[Sample]) -> dict[str, Any]:
    n = len(samples)
    own_mean = statistics.fmean(ms(s.own_ns) for s in samples)
    steps = {k: ms(v) / n for k, v in profiler.exclusive_ns.items()}
    steps["(outside the wrapped steps: handler, log_metrics, deps())"] = own_mean - sum(
        steps.values()
    )
    ordered = dict(sorted(steps.items(), key=lambda kv: -kv[1]))
    return {
        "messages": n,
        "note": "mean ms per message, exclusive: wall time of the step minus AWS / GHL HTTP / "
        "model HTTP time minus the own time of wrapped steps inside it (wrappers add ~1 us/call)",
        "own_work_mean_ms": round(own_mean, 3),
        "steps_mean_ms": {k: round(v, 3) for k, v in ordered.items()},
        "calls_per_message": {
            k: round(v / n, 2) for k, v in sorted(profiler.calls.items(), key=lambda kv: kv[0])
        },
    }


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from bench.extraction import load
    from functions.worker import app as worker_app
    from ghl_ai import config
    from ghl_ai.conversation.extract import extract
    from ghl_ai.conversation.rules import RuleBrain
    from local import devkeys
    from local.anthropic_standin import AnthropicStandIn
    from local.ghl_standin import GhlStandIn
    from local.template import create_resources, function_environment, load_template
    from tests.conversation.driver import AGENT, AREAS
    from tests.conversation.test_flows import BUYER, SELLER

    template = load_template()
    rng = random.Random(args.seed + 7)
    dev_rows = load(DEV_DATA)
    alternatives = _alternatives(dev_rows)
    # The configured areas: the test persona's and those the labelled messages were written for.
    areas = list(dict.fromkeys([*AREAS.split(","), *(dev_rows[0].get("areas") or [])]))
    scripts = {"buyer": list(BUYER), "seller": list(SELLER)}
    aws = AwsCallTimer()
    http = HttpTimer(aws)
    saved_env = dict(os.environ)
    results: dict[str, Any] = {
        "config": {
            "conversations_per_variant": args.worker_conversations,
            "turns_per_conversation": len(BUYER),
            "warmup_conversations": args.worker_warmup,
            "breakdown_conversations": args.worker_breakdown,
            "swap_share": SWAP_SHARE,
        },
        "variants": {},
    }

    def progress(text: str) -> None:
        print(f"[bench] worker: {text}", file=sys.stderr, flush=True)

    with (
        mock_aws(),
        aws.installed(),
        http.installed(),
        stdout_to_devnull(),
        GhlStandIn() as ghl,
        AnthropicStandIn(responder=claude_responder(tuple(areas), AGENT["AGENT_NAME"])) as claude,
    ):
        resources = create_resources(boto3.client("dynamodb"), boto3.client("sqs"), template)
        parameters = {
            "GhlWebhookPublicKey": devkeys.PUBLIC_KEY_PEM,
            "GhlWorkflowSecret": devkeys.WORKFLOW_SECRET,
            "GhlLocationId": LOCATION_ID,
            "ApiKey": devkeys.API_KEY,
        }
        worker_env = function_environment(template, "WorkerFunction", resources, parameters)
        rig = Rig(resources.queue_arns["JobsQueue"], ghl, aws, http)

        def configure(variant: str) -> None:
            os.environ.update(worker_env)
            # As in tests/conversation/driver.py configure(): the test persona, GHL stand-in,
            # no quiet hours (every reply goes out at once).
            os.environ.update(
                {
                    "GHL_API_TOKEN": "pit-bench-token",
                    "GHL_API_BASE_URL": ghl.base_url,
                    "MARKET_AREAS": ",".join(areas),
                    "QUIET_HOURS_START": "0",
                    "QUIET_HOURS_END": "24",
                    **AGENT,
                    "POWERTOOLS_METRICS_DISABLED": BASE_ENV["POWERTOOLS_METRICS_DISABLED"],
                }
            )
            for key in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL"):
                os.environ.pop(key, None)
            if variant == "claude":
                os.environ.update(
                    {
                        "ANTHROPIC_API_KEY": "sk-ant-bench",
                        "ANTHROPIC_BASE_URL": claude.base_url,
                        "ANTHROPIC_MODEL": "claude-bench-model",
                    }
                )
            config.worker_settings.cache_clear()
            worker_app.deps.cache_clear()

        try:
            with capturing(rig):
                for variant in ("rules", "claude"):
                    configure(variant)
                    anthropic_loaded = "anthropic" in sys.modules
                    progress(f"{variant}: warm-up")
                    warm_leads = make_leads(rng, args.worker_warmup, scripts, alternatives)
                    rig.seed(warm_leads)
                    order = interleave(rng, warm_leads)
                    # First invoke after deps() is reset: builds the Dependencies (clients,
                    # stores); on the Claude path also imports the anthropic SDK.
                    first = rig.converse(order[:1])[0]
                    if variant == "claude":
                        http.install_model_hooks()
                    warm = rig.converse(order[1:])
                    progress(f"{variant}: {args.worker_conversations} conversations")
                    leads = make_leads(rng, args.worker_conversations, scripts, alternatives)
                    rig.seed(leads)
                    order = interleave(rng, leads)
                    rig.turns = [] if variant == "rules" else None
                    claude_calls_before = len(claude.calls)
                    samples = rig.converse(order)
                    turns, rig.turns = rig.turns, None
                    out = _variant_results(samples)
                    out["first_invoke_after_deps_reset_ms"] = round(ms(first.total_ns), 1)
                    out["anthropic_imported_before_first_invoke"] = anthropic_loaded
                    out["warmup_messages"] = 1 + len(warm)
                    out["standin_model_calls"] = len(claude.calls) - claude_calls_before
                    if args.worker_breakdown:
                        progress(f"{variant}: breakdown pass")
                        b_leads = make_leads(rng, args.worker_breakdown, scripts, alternatives)
                        rig.seed(b_leads)
                        b_order = interleave(rng, b_leads)
                        profiler = StepProfiler(lambda: aws.api_ns + http.external_ns)
                        with profiler.wrapping(step_targets(variant)):
                            b_samples = rig.converse(b_order)
                        out["own_work_breakdown"] = _breakdown(profiler, b_samples)
                    results["variants"][variant] = out
                    if variant == "rules":
                        rules_turns = turns or []
                        rules_texts = [
                            (t.inbound, t.now.date(), t.last_asked, t.persona.areas)
                            for t in rules_turns
                            if t.inbound
                        ]

                # Baseline: an agent's text (OutboundMessage): lead state only, no conversation.
                progress(f"baseline: {args.worker_baseline} OutboundMessage jobs")
                configure("rules")
                contacts = [f"agent-lead-{i:04d}" for i in range(50)]
                for contact in contacts[:10]:
                    rig.invoke(job_body(agent_payload(contact)))
                base = [
                    rig.invoke(job_body(agent_payload(rng.choice(contacts))))
                    for _ in range(args.worker_baseline)
                ]
        finally:
            worker_app.deps.cache_clear()
            config.worker_settings.cache_clear()
            os.environ.clear()
            os.environ.update(saved_env)

    brain = RuleBrain()
    decide_ms = timed_each(brain.decide, rules_turns, rules_turns[:20])
    extract_ms = timed_each(
        lambda t: extract(t[0], today=t[1], expecting=t[2], areas=t[3]),
        rules_texts,
        rules_texts[:20],
    )
    results["baselines"] = {
        "outbound_message_job": {
            "messages": len(base),
            "batch_item_failures": sum(s.failures for s in base),
            "total_ms": summary([ms(s.total_ns) for s in base]),
            "aws_api_calls_ms": summary([ms(s.aws_ns) for s in base]),
            "own_work_ms": summary([ms(s.own_ns) for s in base]),
            "aws_calls_per_message": _per_message(base, lambda s: s.aws_calls),
            "ghl_calls": sum(len(s.ghl_calls) for s in base),
        },
        "rule_brain_decide_ms": summary(decide_ms),
        "extract_ms": summary(extract_ms),
    }
    return results


def print_worker(w: dict[str, Any], stat_row: Callable[..., str], header: tuple[str, str]) -> None:
    cfg = w["config"]
    print(
        f"   {cfg['conversations_per_variant']} leads per variant (buyers and sellers alternate),"
        f" {cfg['turns_per_conversation']} inbound SMS each, interleaved, one SQS record per"
        f" invoke; {cfg['warmup_conversations']} warm-up leads first (not counted)"
    )
    print(header[0])
    print(header[1])
    for variant, v in w["variants"].items():
        label = "rules (no ANTHROPIC_API_KEY)" if variant == "rules" else "claude (stand-in)"
        print(stat_row(f"{label}: total handler time", v["total_ms"]))
        print(stat_row("  in AWS API calls (botocore client + moto)", v["aws_api_calls_ms"]))
        print(stat_row("    of which moto emulation", v["moto_emulation_ms"]))
        print(stat_row("  in GHL HTTP calls (httpx Client.send)", v["ghl_http_ms"]))
        print(stat_row("    of which transport handle_request", v["ghl_http_transport_ms"]))
        print(stat_row("  in the model call (httpx2 Client.send)", v["model_http_ms"]))
        if variant == "claude":
            print(
                stat_row("    SDK Messages.create (incl. the HTTP call)", v["model_sdk_create_ms"])
            )
        print(stat_row("  OWN WORK = total - AWS - GHL HTTP - model", v["own_work_ms"]))
        print(stat_row("    own work without GC pauses", v["own_work_excl_gc_ms"]))
        print(
            stat_row(
                "    own work: first message of a lead", v["own_work_first_message_of_lead_ms"]
            )
        )
        print(stat_row("    own work: later messages", v["own_work_later_messages_ms"]))
        print(
            stat_row(
                "  own work + botocore client side (total - moto - HTTP)",
                v["own_work_incl_botocore_client_ms"],
            )
        )
        if variant == "claude":
            print(
                stat_row(
                    "    of own work: SDK client side (create - HTTP)",
                    v["model_sdk_client_side_ms"],
                )
            )
    b = w["baselines"]
    o = b["outbound_message_job"]
    print(stat_row("baseline: OutboundMessage job (track only): total", o["total_ms"]))
    print(stat_row("  own work (total - AWS)", o["own_work_ms"]))
    print(
        stat_row("baseline: bare RuleBrain().decide(), rules-pass turns", b["rule_brain_decide_ms"])
    )
    print(stat_row("baseline: bare extract(), same messages", b["extract_ms"]))
    for variant, v in w["variants"].items():
        outcomes = ", ".join(f"{k} {n}" for k, n in v["outcomes"].items())
        sources = ", ".join(f"{k} {n}" for k, n in v["reply_sources"].items())
        print(
            f"   {variant}: outcomes {outcomes}; decided by {sources}; batch item failures"
            f" {v['batch_item_failures']}; first invoke after deps() reset"
            f" {v['first_invoke_after_deps_reset_ms']:.1f} ms"
            + (" (imports the anthropic SDK)" if variant == "claude" else "")
        )
        print(
            f"     per message: {v['aws_calls_per_message_total']:g} AWS calls,"
            f" {v['ghl_calls_per_message_total']:g} GHL calls,"
            f" {v['model_calls_per_message']:g} model calls"
        )
        aws_calls = ", ".join(f"{k} x{n:g}" for k, n in v["aws_calls_per_message"].items())
        ghl_calls = ", ".join(f"{k} x{n:g}" for k, n in v["ghl_calls_per_message"].items())
        print(f"       AWS: {aws_calls}")
        print(f"       GHL: {ghl_calls}")
        by_turn = " ".join(f"{t}:{m:.2f}" for t, m in v["own_work_mean_by_turn_ms"].items())
        print(f"     own work mean by turn of the conversation (ms): {by_turn}")
    print(
        f"   baseline OutboundMessage: {o['messages']} jobs, AWS calls per job: "
        + ", ".join(f"{k} x{n:g}" for k, n in o["aws_calls_per_message"].items())
        + f"; GHL calls: {o['ghl_calls']}"
    )
    for variant, v in w["variants"].items():
        bd = v.get("own_work_breakdown")
        if not bd:
            continue
        print(
            f"   {variant}: own work by step (mean ms per message, exclusive; separate pass of"
            f" {bd['messages']} messages with the steps wrapped; own work mean"
            f" {bd['own_work_mean_ms']:.3f}):"
        )
        calls = bd["calls_per_message"]
        for step, value in bd["steps_mean_ms"].items():
            if abs(value) < 0.005:
                continue
            per_call = (
                f"  ({calls[step]:g} calls/message, {value / calls[step] * 1e3:.0f} us/call)"
                if calls.get(step)
                else ""
            )
            print(f"     {value:>7.3f}  {step}{per_call}")
