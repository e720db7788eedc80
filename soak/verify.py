"""What the soak checks once the stack has settled, and its report.

Ground truth comes from the edges, not from our own bookkeeping: what the GHL stand-in carried
out (every text, task, note and opportunity, and which of them were carried out while their
answer never reached the caller — a timeout, a dropped connection, a caller killed before the
answer), what the soak itself sent and what the intake answered. Our tables are read to name the
cause of each effect (the outbox claim an effect was made under, the run a step belongs to) and
to find where each accepted delivery ended (the worker's idempotency records, the DLQs).

Texts are matched to claims by (contact, text): for every such pair, the texts GHL carried out
and answered must equal the claims we recorded as sent, and the texts carried out whose answer
was lost must not outnumber the claims we recorded as "uncertain" (sent, answer lost: never
resent). Anything beyond is a text sent twice. A claim recorded "uncertain" for which GHL has
no text is a reply that was never delivered (GHL refused the send, and it was not retried).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak.stack import LOCATION_ID, SoakStack
from soak.workload import Workload

#: Outbox claims of texts, and where each keeps the text.
SMS_KINDS = ("sms", "workflow_sms", "matches")
#: Task and note titles of the conversation engine (shared/ghl_ai/conversation/engine.py);
#: a title none of the patterns knows is reported as unattributed, never silently passed.
ENGINE_TASKS = {
    "hot lead task": r"Call .+: hot lead",
    "hand-off task": r"Call .+: asked to talk to a person",
    # A question the agent's documents do not answer (conversation/engine.py, _ask_agent).
    "question for the agent": r'Answer .+: ".+"',
}
ENGINE_NOTES = {"qualification summary": r"AI qualification summary\. .*"}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    #: False: a finding the report shows without failing the soak.
    required: bool = True


@dataclass
class Report:
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    def section(self, title: str, lines: list[str]) -> None:
        self.sections.append((title, lines))

    def check(self, name: str, ok: bool, detail: str = "", *, required: bool = True) -> None:
        self.checks.append(Check(name, ok, detail, required))


# -- settling ----------------------------------------------------------------------------------


#: The queue whose delayed messages are workflow steps scheduled for later: a wait of up to
#: SQS's 15-minute delay is queued with that delay (``workflows/engine.py``), and with the soak's
#: time scale a 14-day wait is 14 minutes. Those are future work, not work left undone; the
#: report checks there are no more of them than runs waiting for a later time.
SCHEDULED = "WorkflowQueue"


def unfinished(depths: dict[str, dict[str, int]]) -> dict[str, int]:
    """Messages left per queue (not the DLQs), leaving out the workflow steps scheduled later."""
    totals = {
        q: sum(n for kind, n in v.items() if not (q == SCHEDULED and kind == "delayed"))
        for q, v in depths.items()
        if not q.endswith("DLQ")
    }
    return {q: n for q, n in totals.items() if n}


def wait_until_settled(stack: SoakStack, timeout: float, say: Callable[[str], None]) -> bool:
    """Until every queue (not the DLQs) is empty — delayed messages too, but for the workflow
    steps scheduled for later — and no container is inside an invocation, three checks in a row;
    False when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    calm, last_said = 0, time.monotonic()
    while time.monotonic() < deadline:
        depths = stack.queue_depths()
        totals = unfinished(depths)
        pending = {q: n for q, n in totals.items() if n}
        if not pending and not stack.busy():
            calm += 1
            if calm >= 3:
                return True
        else:
            calm = 0
        if time.monotonic() - last_said > 30:
            last_said = time.monotonic()
            say(f"  still working: {pending or 'a container is inside an invocation'}")
        time.sleep(2)
    return False


# -- reading the state -------------------------------------------------------------------------


def _scan(stack: SoakStack, logical: str) -> list[dict[str, Any]]:
    from ghl_ai.adapters.dynamo import from_item

    out: list[dict[str, Any]] = []
    paginator = stack.dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=stack.resources.tables[logical]):
        out += [from_item(i) for i in page["Items"]]
    return out


def _dlq_bodies(stack: SoakStack, logical: str) -> list[str]:
    url = stack.resources.queue_urls[logical]
    bodies: list[str] = []
    seen: set[str] = set()
    for _ in range(1000):
        got = stack.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=0
        ).get("Messages", [])
        if not got:
            break
        for m in got:
            if m["MessageId"] not in seen:
                seen.add(m["MessageId"])
                bodies.append(m["Body"])
    return bodies


def _alarms(stack: SoakStack, depths: dict[str, dict[str, int]]) -> dict[str, tuple[str, int, str]]:
    """Each DLQ alarm of the template, evaluated on the local queue: (state, metric value,
    the alarm's logical id), by queue."""
    out = {}
    for name, res in stack.template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] != "AWS::CloudWatch::Alarm" or props.get("Namespace") != "AWS/SQS":
            continue
        queue = next(
            (
                d["Value"]["Fn::GetAtt"][0]
                for d in props.get("Dimensions", [])
                if d["Name"] == "QueueName"
            ),
            None,
        )
        if queue not in depths or props.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        value = depths[queue]["visible"]
        raised = value > float(props.get("Threshold", 0))
        out[queue] = ("ALARM" if raised else "OK", value, name)
    return out


def _idempotency_key(job_id: str) -> str:
    """The hash Powertools keys a job's idempotency record on (``event_key_jmespath='id'``)."""
    return hashlib.md5(json.dumps(job_id).encode(), usedforsecurity=False).hexdigest()


def _pattern(template: str) -> re.Pattern[str]:
    """A title or text template (``{name}`` placeholders) as a full-match pattern."""
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.DOTALL)


def _families() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    """(task families, note families): the patterns of every title / note text a path of ours
    writes, by the name of what writes it."""
    from ghl_ai.scoring.alerts import DEFAULT_RULES
    from ghl_ai.workflows.catalogue import builtin

    tasks: dict[str, re.Pattern[str]] = {}
    notes: dict[str, re.Pattern[str]] = {}
    for workflow in builtin().values():
        for step in workflow.steps:
            if step.type == "create_task":
                tasks[f"workflow {workflow.name}.{step.id}"] = _pattern(step.title)  # type: ignore[attr-defined]
            elif step.type == "notify_agent":
                notes[f"workflow {workflow.name}.{step.id}"] = _pattern(step.text)  # type: ignore[attr-defined]
    for rule in DEFAULT_RULES.values():
        title = rule.title.replace("{name}", "{x}")
        target = tasks if rule.task == "task" else notes
        target[f"alert {rule.name}"] = _pattern(title if rule.task == "task" else title + ". {x}")
    tasks.update({k: re.compile(v) for k, v in ENGINE_TASKS.items()})
    notes.update({k: re.compile(v, re.DOTALL) for k, v in ENGINE_NOTES.items()})
    return tasks, notes


def _step_at(run: dict[str, Any], seq: int) -> tuple[str, str] | None:
    """(step id, step type) a run took as its ``seq``-th step: its history says, or, for the
    step it was at when it ended or still is at (not in the history yet), its ``stepId``."""
    from ghl_ai.workflows.catalogue import builtin

    history = run.get("history") or []
    for entry in history:
        if int(entry.get("seq", -1)) == seq:
            return str(entry.get("step")), str(entry.get("type"))
    if seq > max((int(e.get("seq", -1)) for e in history), default=-1):
        workflow = builtin().get(str(run.get("workflow")))
        if workflow is not None:
            try:
                step = workflow.step(str(run.get("stepId")))
            except StopIteration:
                return None
            return step.id, step.type
    return None


def _family_of(text: str, families: dict[str, re.Pattern[str]]) -> str:
    # The most specific pattern first (the longest literal text).
    for name, pattern in sorted(families.items(), key=lambda kv: -len(kv[1].pattern)):
        if pattern.fullmatch(text):
            return name
    return "unattributed"


# -- the checks --------------------------------------------------------------------------------


def check(stack: SoakStack, workload: Workload, driver: Any, timings: dict[str, Any]) -> Report:
    report = Report()
    depths = stack.queue_depths()
    alarms = _alarms(stack, depths)
    outbox = {o["id"]: o for o in _scan(stack, "OutboxTable")}
    idempotency = _scan(stack, "IdempotencyTable")
    runs_items = _scan(stack, "WorkflowRunsTable")
    runs = {r["runId"]: r for r in runs_items if not str(r["runId"]).startswith("lock#")}
    inbox = {w["dedupeKey"]: w for w in _scan(stack, "WebhooksTable")}
    events = _scan(stack, "EventsTable")
    messages = _scan(stack, "MessagesTable")
    dlq = {q: _dlq_bodies(stack, q) for q in depths if q.endswith("DLQ") and depths[q]["visible"]}
    ghl = stack.ghl
    with ghl._lock:  # a consistent copy of what GHL holds
        ghl_messages = [dict(m) for m in ghl.messages]
        ghl_tasks = [dict(t) for t in ghl.tasks]
        ghl_notes = [dict(n) for n in ghl.notes]
        ghl_opportunities = [dict(o) for o in ghl.opportunities.values()]
        unanswered = list(ghl.unanswered)
        ghl_injected = Counter(ghl.injected)
        ghl_calls = Counter(
            f"{c.method} {re.sub(r'/(contact|opp|conv|note|task|msg)-[0-9]+', '/{id}', c.path)}"
            for c in ghl.calls
        )
    proxy = stack.proxy_stats()
    # Everything the checks read, for a reader of a failure (.local/soak/state/).
    state = stack.out / "state"
    state.mkdir(exist_ok=True)
    for name, value in (
        ("outbox", list(outbox.values())),
        ("workflow_runs", list(runs.values())),
        ("ghl_messages", ghl_messages),
        ("ghl_tasks", ghl_tasks),
        ("ghl_notes", ghl_notes),
        ("ghl_unanswered", [(c.method, c.path, c.fault, st, p) for c, st, p in unanswered]),
        ("deliveries", [d.__dict__ | {"raw": None} for d in workload.deliveries]),
    ):
        (state / f"{name}.json").write_text(json.dumps(value, default=str, indent=1))

    _workload(report, workload, driver)
    _faults(report, stack, ghl_injected, unanswered, proxy)
    inbound = _deliveries(report, workload)
    jobs = _terminal(
        report, stack, workload, idempotency, inbox, dlq, alarms, depths, runs, timings
    )
    _replies(report, workload, outbox, ghl_messages, unanswered, inbound, jobs)
    _events(report, workload, events, messages, inbound)
    _effects(report, outbox, runs, ghl_tasks, ghl_notes, ghl_opportunities, unanswered)
    _duplicates(report, stack, workload, driver)
    _containers(report, stack)
    _logs(report, stack, workload, outbox, ghl_messages)
    report.numbers["ghl_calls"] = dict(ghl_calls.most_common())
    return report


def _workload(report: Report, w: Workload, driver: Any) -> None:
    modes = Counter(d.mode for d in w.copies)
    types = Counter(d.type for d in w.unique)
    events = sum(len(b.events) for b in w.batches if b.copy_of is None)
    report.numbers["workload"] = {
        "deliveries": len(w.deliveries),
        "unique": len(w.unique),
        "copies": dict(modes),
        "unique_by_type": dict(types),
        "leads": len(w.leads),
        "event_batches": len(w.batches),
        "events": events,
    }
    report.section(
        "workload",
        [
            f"{len(w.deliveries):,} webhook deliveries across {len(w.leads)} leads: "
            f"{len(w.unique):,} unique ({', '.join(f'{n:,} {t}' for t, n in types.most_common())})",
            f"{len(w.copies):,} copies ({len(w.copies) / len(w.deliveries):.0%}): "
            + ", ".join(f"{n:,} {m}" for m, n in modes.most_common()),
            f"{sum(1 for b in w.batches if b.copy_of is None):,} website event batches "
            f"({events:,} events) and {sum(1 for b in w.batches if b.copy_of is not None):,} "
            "resent batches",
        ],
    )
    waits = sorted(driver.reply_waits)
    finished = sorted(r.finished for r in driver.runs)
    pacing = [
        f"{driver.double_texts:,} times a lead texted again before our reply (both texts worked "
        "at the same time)",
        f"leads done with their conversations after {finished[len(finished) // 2]:.0f} s "
        f"(median), the last after {finished[-1]:.0f} s; the last delivery (a late copy, a "
        f"retry) went out after {driver.last_request:.0f} s",
    ]
    if waits:
        pacing.insert(
            1,
            f"a lead waited for our reply {waits[len(waits) // 2]:.1f} s (median; 90th "
            f"percentile {waits[int(len(waits) * 0.9)]:.1f} s); {driver.reply_timeouts} waits "
            f"ran out after {driver.reply_timeout:g} s",
        )
    report.sections[-1][1].extend(pacing)
    report.numbers["workload"]["double_texts"] = driver.double_texts
    report.numbers["workload"]["reply_wait_s"] = {
        "p50": waits[len(waits) // 2] if waits else None,
        "p90": waits[int(len(waits) * 0.9)] if waits else None,
        "timeouts": driver.reply_timeouts,
    }


def _faults(
    report: Report,
    stack: SoakStack,
    ghl_injected: Counter[str],
    unanswered: list[tuple[Any, int, Any]],
    proxy: dict[str, Any],
) -> None:
    c = stack.config
    anthropic = Counter(stack.anthropic.injected)
    withheld = sum(1 for call, _, _ in unanswered if call.fault is None)
    timeouts: Counter[str] = Counter()
    restarts: Counter[str] = Counter()
    for container in stack.containers:
        for cause, n in container.exits.items():
            restarts[cause] += n
            if "Lambda timeout" in cause:
                timeouts[container.function or container.name] += n
    injected = proxy.get("injected", {})
    lines = [
        f"GHL API calls: 429 with Retry-After {ghl_injected['429']:,} (rate {c.ghl_429:g}), "
        f"500 {ghl_injected['500']:,} ({c.ghl_500:g}), 502 {ghl_injected['502']:,} / 503 "
        f"{ghl_injected['503']:,} ({c.ghl_502_503:g}), timeout after carrying the call out "
        f"{ghl_injected['timeout']:,} ({c.ghl_timeout:g}), connection dropped after carrying it "
        f"out {ghl_injected['dropped']:,} ({c.ghl_dropped:g})",
        f"Anthropic calls: 500 {anthropic['500']:,} ({c.anthropic_500:g}), 529 overloaded "
        f"{anthropic['529']:,} ({c.anthropic_529:g}), timeout {anthropic['timeout']:,} "
        f"({c.anthropic_timeout:g}) of {len(stack.anthropic.calls):,} calls",
        "DynamoDB requests throttled: "
        + (
            ", ".join(
                f"{n:,} {k.removeprefix('dynamodb ')}"
                for k, n in sorted(injected.items())
                if k.startswith("dynamodb")
            )
            or "none"
        )
        + f" (rate {c.dynamodb_throttle:g} of {proxy.get('forwarded', {}).get('dynamodb', 0):,} requests)",
        f"SQS deletes lost (message redelivered after it was processed): "
        f"{sum(n for k, n in injected.items() if k.startswith('sqs')):,} (rate {c.sqs_redeliver:g} per deleted message)",
        f"SQS visibility timeout {c.visibility_timeout} s (deployed: 180-720 s); Lambda timeout of the "
        f"queue functions {c.function_timeout:g} s",
        "worker containers killed: "
        + (", ".join(f"{n} {k}" for k, n in stack.kills.items()) or "none")
        + f"; {withheld} GHL answer(s) never reached a killed caller",
        "containers ended at their Lambda timeout (GHL or the model slow): "
        + (", ".join(f"{n} {f}" for f, n in timeouts.items()) or "none"),
        f"copies of one delivery raced in {c.intakes} intake containers; {c.workers} worker containers",
    ]
    report.numbers["faults"] = {
        "ghl": dict(ghl_injected),
        "ghl_answers_withheld_from_killed_callers": withheld,
        "anthropic": dict(anthropic),
        "aws": injected,
        "kills": dict(stack.kills),
        "lambda_timeouts": dict(timeouts),
        "container_exits": dict(restarts),
        "rates": c.faults(),
    }
    report.section("faults injected", lines)


def _deliveries(report: Report, w: Workload) -> dict[str, Any]:
    """The intake's answers; returns the unique inbound messages that were taken."""
    final: Counter[str] = Counter()
    by_mode: dict[str, Counter[str]] = defaultdict(Counter)
    attempts: Counter[str] = Counter()
    for d in w.deliveries:
        answer = d.answer if d.status and d.status < 300 else f"not taken ({d.answer})"
        final[answer] += 1
        by_mode[d.mode][answer] += 1
        for a in d.attempts:
            attempts[str(a)] += 1
    five_xx = sum(n for a, n in attempts.items() if a.isdigit() and int(a) >= 500)
    not_taken = [d for d in w.deliveries if not (d.status and d.status < 300)]
    report.numbers["intake"] = {
        "final_answers": dict(final),
        "by_mode": {m: dict(c) for m, c in by_mode.items()},
        "attempts_by_status": dict(attempts),
    }
    lines = [
        "final answer per delivery: " + ", ".join(f"{n:,} {a}" for a, n in final.most_common()),
        *(
            f"  {mode}: " + ", ".join(f"{n:,} {a}" for a, n in c.most_common())
            for mode, c in sorted(by_mode.items())
        ),
        "every attempt (GHL retries a non-2xx): "
        + ", ".join(f"{n:,} × {a}" for a, n in attempts.most_common()),
    ]
    report.section("intake", lines)
    report.check(
        "every delivery taken (2xx) within GHL's 12 attempts",
        not not_taken,
        f"{len(not_taken)} not taken, e.g. "
        + ", ".join(f"#{d.number} {d.type} {d.attempts}" for d in not_taken[:5])
        if not_taken
        else f"{len(w.deliveries):,} of {len(w.deliveries):,}",
    )
    report.check(
        "the intake never answered 5xx",
        five_xx == 0,
        f"{five_xx} answers 5xx" if five_xx else f"0 of {sum(attempts.values()):,} answers",
    )
    # One delivery, byte-identical copies: exactly one of them is taken as new work.
    groups: dict[int, list[Any]] = defaultdict(list)
    for d in w.deliveries:
        if d.mode != "new webhook id":
            groups[d.copy_of if d.copy_of is not None else d.number].append(d)
    twice = [
        g
        for g in groups.values()
        if sum(1 for d in g if d.answer in ("queued", "recorded", "unknown")) > 1
    ]
    none = [g for g in groups.values() if all(d.answer == "duplicate" for d in g)]
    report.check(
        "each delivery taken as new work once, its copies answered duplicate",
        not twice and not none,
        f"{len(twice)} taken twice, {len(none)} never taken as new"
        if twice or none
        else f"{len(groups):,} deliveries, {sum(len(g) - 1 for g in groups.values()):,} copies answered duplicate",
    )
    inbound = {
        d.message_id: d
        for d in w.unique
        if d.type == "InboundMessage" and d.status and d.status < 300 and d.message_id
    }
    return inbound


def _terminal(
    report: Report,
    stack: SoakStack,
    w: Workload,
    idempotency: list[dict[str, Any]],
    inbox: dict[str, dict[str, Any]],
    dlq: dict[str, list[str]],
    alarms: dict[str, Any],
    depths: dict[str, dict[str, int]],
    runs: dict[str, dict[str, Any]],
    timings: dict[str, Any],
) -> dict[str, str]:
    """Where each accepted delivery ended; returns job id → outcome."""
    completed = {
        i["id"].rsplit("#", 1)[1]
        for i in idempotency
        if ".converse#" in i["id"] and i.get("status") == "COMPLETED"
    }
    in_dlq = set()
    for body in dlq.get("JobsDLQ", []):
        try:
            in_dlq.add(str(json.loads(body).get("id")))
        except ValueError:
            in_dlq.add("(not JSON)")
    outcome: dict[str, str] = {}
    counts: Counter[str] = Counter()
    stuck = []
    for d in w.deliveries:
        if not (d.status and d.status < 300) or d.answer == "duplicate":
            continue
        job = f"wh:{d.webhook_id}"
        if d.answer == "queued":
            if _idempotency_key(job) in completed:
                state = "processed"
            elif job in in_dlq:
                state = "in the DLQ"
            else:
                state = "not terminal"
                stuck.append(job)
        elif d.answer in ("recorded", "unknown", "refused"):
            state = f"{d.answer} (kept in the webhooks table)" if job in inbox else "not recorded"
            if job not in inbox:
                stuck.append(job)
        else:
            state = f"answered {d.answer!r}"
            stuck.append(job)
        outcome[job] = state
        counts[state] += 1
    main = {q: v for q, v in depths.items() if not q.endswith("DLQ")}
    left = {q: v for q, v in main.items() if q in unfinished(depths)}
    scheduled = depths.get(SCHEDULED, {}).get("delayed", 0)
    lines = [
        "accepted deliveries (not counting those answered duplicate): "
        + ", ".join(f"{n:,} {s}" for s, n in counts.most_common()),
        "queues at the end: "
        + ("all empty" if not left else json.dumps(left))
        + (f"; {scheduled:,} workflow steps scheduled for later (waits)" if scheduled else ""),
        "DLQs: "
        + (
            ", ".join(
                f"{q} {len(b)} message(s), {alarms.get(q, ('no alarm',))[0]} ({alarms.get(q, ('', '', '?'))[2]})"
                for q, b in dlq.items()
            )
            or "all empty"
        ),
    ]
    now = time.time()
    statuses = Counter(f"{r['workflow']} {r['status']}" for r in runs.values())
    overdue = [
        r
        for r in runs.values()
        if r.get("status") == "active" and r.get("dueAt") and float(r["dueAt"]) < now - 180
    ]
    lines.append("workflow runs: " + ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items())))
    report.section("where every accepted delivery ended", lines)
    report.numbers["terminal"] = {
        "counts": dict(counts),
        "queues_left": left,
        "dlq": {q: len(b) for q, b in dlq.items()},
        "runs": dict(statuses),
    }
    waiting = sum(
        1
        for r in runs.values()
        if r.get("status") == "active" and r.get("dueAt") and float(r["dueAt"]) >= now - 180
    )
    report.check(
        "the stack settled (every queue empty but for steps scheduled later, no invocation"
        " running)",
        bool(timings.get("settled")) and scheduled <= waiting,
        (f"left: {left}; " if not timings.get("settled") else "")
        + f"{scheduled:,} steps scheduled for later, {waiting:,} runs waiting",
    )
    unalarmed = [q for q in dlq if alarms.get(q, ("OK",))[0] != "ALARM"]
    report.check(
        "every accepted delivery in a terminal state (processed, or in a DLQ with its alarm raised)",
        not stuck and not unalarmed,
        (f"{len(stuck)} not terminal, e.g. {stuck[:5]}; " if stuck else "")
        + (f"DLQs without a raised alarm: {unalarmed}" if unalarmed else "")
        or f"{sum(counts.values()):,} accepted: "
        + ", ".join(f"{n:,} {s}" for s, n in counts.most_common()),
    )
    report.check(
        "no workflow run stuck past its due time",
        not overdue,
        f"{len(overdue)} overdue, e.g. {[r['runId'] for r in overdue[:3]]}"
        if overdue
        else f"{len(runs):,} runs",
    )
    return outcome


def _replies(
    report: Report,
    w: Workload,
    outbox: dict[str, dict[str, Any]],
    ghl_messages: list[dict[str, Any]],
    unanswered: list[tuple[Any, int, Any]],
    inbound: dict[str, Any],
    jobs: dict[str, str],
) -> None:
    # Why GHL's answer to a text it carried out never reached the sender, by message id.
    lost_answer: dict[str, str] = {}
    for call, status, payload in unanswered:
        if call.method == "POST" and call.path == "/conversations/messages" and status < 300:
            lost_answer[str((payload or {}).get("messageId"))] = call.fault or "caller killed"
    texts = {
        str(m["id"]): m
        for m in ghl_messages
        if m.get("direction") == "outbound" and m.get("messageType") == "TYPE_SMS"
    }
    claims = [o for o in outbox.values() if o.get("kind") in SMS_KINDS]

    def key_of(claim: dict[str, Any]) -> tuple[str, str]:
        body = (
            (claim.get("decision") or {}).get("reply")
            if claim["kind"] == "sms"
            else claim.get("body")
        )
        return str(claim.get("contactId")), str(body or "")

    # 1. A claim recorded as sent names its text at GHL by message id.
    delivered: dict[str, int] = {}  # claim id → texts at GHL for it
    attributed: set[str] = set()
    open_claims: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    never_at_ghl: Counter[str] = Counter()
    shared: list[str] = []  # claims naming a text another claim names already
    for claim in sorted(claims, key=lambda c: str(c.get("sentAt") or "")):
        message_id = str(claim.get("messageId") or "")
        if claim.get("status") == "done" and message_id in attributed:
            shared.append(f"{claim['id']} names {message_id} too")
            open_claims[key_of(claim)].append({**claim, "status": "uncertain"})
            delivered[claim["id"]] = 0
        elif claim.get("status") == "done" and message_id in texts:
            attributed.add(message_id)
            delivered[claim["id"]] = 1
        elif claim.get("status") == "done":
            never_at_ghl[_sms_kind(claim)] += 1  # recorded as sent, GHL has no such text
            delivered[claim["id"]] = 0
        else:  # uncertain / sending / pending / failed: GHL's record decides
            open_claims[key_of(claim)].append(claim)
            delivered[claim["id"]] = 0
    # 2. Texts no claim names: one carried out with its answer lost may be an open claim's
    # (sent, never recorded); any other is a text sent again.
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for message_id, m in texts.items():
        if message_id not in attributed:
            by_key[(str(m["contactId"]), str(m.get("body") or ""))].append(m)
    claims_by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for claim in claims:
        claims_by_key[key_of(claim)].append(claim)
    again: Counter[str] = Counter()  # texts sent a second time, by kind of text
    again_after: Counter[str] = Counter()  # why the sender did not know the first went out
    unclaimed = 0
    examples: list[str] = []
    for key, extra in by_key.items():
        group = claims_by_key.get(key, [])
        if not group:
            unclaimed += len(extra)
            examples.append(f"{key[0]}: {len(extra)} text(s) no claim accounts for")
            continue
        kind = _sms_kind(group[0])
        waiting = [
            c for c in open_claims.get(key, []) if c.get("status") in ("uncertain", "sending")
        ]
        for m in extra:
            cause = lost_answer.get(str(m["id"]))
            if cause is not None and waiting:
                claim = waiting.pop(0)  # the open claim's own text: delivered once
                delivered[claim["id"]] += 1
                continue
            again[kind] += 1
            again_after[cause or "its answer arrived"] += 1
            for claim in group:
                delivered[claim["id"]] = delivered.get(claim["id"], 0) + 1
                break
            examples.append(
                f"{group[0]['id']}: sent again ({'first answer lost: ' + cause if cause else 'both answered'})"
            )
    never = Counter(
        _sms_kind(c)
        for group in open_claims.values()
        for c in group
        if delivered.get(c["id"], 0) == 0 and c.get("status") != "failed"
    )
    never += never_at_ghl
    # 3. Per unique inbound message: how many replies reached the lead.
    statuses: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    replies: Counter[int] = Counter()
    for message_id, d in inbound.items():
        reply = outbox.get(f"reply:{LOCATION_ID}:{message_id}")
        if reply is None:
            dlq = jobs.get(f"wh:{d.webhook_id}") == "in the DLQ"
            statuses["no reply claimed" + (" (job in the DLQ)" if dlq else "")] += 1
            replies[0] += 1
            continue
        statuses[str(reply.get("status"))] += 1
        sources[str((reply.get("decision") or {}).get("source"))] += 1
        replies[delivered.get(reply["id"], 0)] += 1
    kinds = Counter(_sms_kind(c) for c in claims)
    lost_kinds = Counter(lost_answer[i] for i in texts if i in lost_answer)
    report.numbers["replies"] = {
        "unique_inbound_taken": len(inbound),
        "replies_per_inbound_message": {str(k): v for k, v in sorted(replies.items())},
        "reply_claims_by_status": dict(statuses),
        "decided_by": dict(sources),
        "texts_sent_again_by_kind": dict(again),
        "texts_sent_again_after": dict(again_after),
        "claimed_but_never_at_ghl_by_kind": dict(never),
        "texts_without_claim": unclaimed,
        "claims_naming_another_claims_text": shared[:20],
        "claims_by_kind": dict(kinds),
        "ghl_texts": len(texts),
        "ghl_texts_carried_out_answer_lost": dict(lost_kinds),
        "examples": examples[:20],
    }
    report.section(
        "replies",
        [
            f"{len(inbound):,} unique inbound texts taken; their reply claims: "
            + ", ".join(f"{n:,} {s}" for s, n in statuses.most_common())
            + "; replies that reached the lead per message: "
            + ", ".join(f"{n:,} × {k}" for k, n in sorted(replies.items())),
            "replies decided by: "
            + ", ".join(f"{n:,} {s}" for s, n in sources.most_common())
            + " (claude: the Messages API stand-in; rules: the fallback after its faults)",
            f"texts at GHL: {len(texts):,} (claims: {', '.join(f'{n:,} {k}' for k, n in kinds.most_common())});"
            f" carried out with the answer lost: "
            + (", ".join(f"{n} {c}" for c, n in lost_kinds.items()) or "none"),
            f"texts sent a second time: {sum(again.values())}"
            + (
                f" ({', '.join(f'{n} {k}' for k, n in again.items())}; "
                + ", ".join(f"{n} after {c}" for c, n in again_after.items())
                + ")"
                if again
                else ""
            )
            + f"; claimed but never at GHL: {sum(never.values())}"
            + (f" ({', '.join(f'{n} {k}' for k, n in never.items())})" if never else "")
            + f"; texts no claim accounts for: {unclaimed}",
        ],
    )
    once = replies[1]
    report.check(
        "exactly one reply per unique inbound message",
        once == len(inbound),
        f"{once:,} of {len(inbound):,} answered exactly once"
        + (
            f"; {replies[0]} never answered ({never['reply']} claimed but not at GHL)"
            if replies[0]
            else ""
        )
        + (
            f"; {sum(n for k, n in replies.items() if k > 1)} answered more than once, e.g. "
            + "; ".join(e for e in examples if e.startswith("reply:"))[:500]
            if any(k > 1 for k in replies)
            else ""
        ),
    )
    both = again_after["its answer arrived"]
    report.check(
        "no reply for a duplicate",
        both == 0 and unclaimed == 0,
        f"{len(w.copies):,} copies delivered; {both + unclaimed} texts sent while the first "
        "was answered (a second sender)",
    )
    report.check(
        "each text at GHL is named by one claim",
        not shared,
        f"{len(shared)}: a retry that found 'its' text in GHL's history by the text alone took "
        f"another reply's message, e.g. {shared[:3]}"
        if shared
        else "",
        required=False,
    )
    others = {k: n for k, n in again.items() if k != "reply"}
    report.check(
        "no other text sent twice (first texts, workflow texts, top matches)",
        not others,
        ", ".join(f"{n} {k}" for k, n in others.items()) or "none",
    )


def _sms_kind(claim: dict[str, Any]) -> str:
    if claim["kind"] == "sms":
        return "reply" if str(claim["id"]).startswith("reply:") else "first text"
    return {"workflow_sms": "workflow text", "matches": "top matches"}.get(
        claim["kind"], claim["kind"]
    )


def _events(
    report: Report,
    w: Workload,
    events: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    inbound: dict[str, Any],
) -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for e in events:
        where[str(e.get("eventId"))].append(str(e.get("lead")))
    accepted: dict[str, int] = {}
    for batch in w.batches:
        if batch.status in (202, 422):
            for e in batch.events:
                accepted[e["eventId"]] = batch.lead
    lost = [e for e in accepted if e not in where]
    twice = [e for e in accepted if len(where.get(e, [])) > 1]
    in_visitor = [
        e
        for e in accepted
        if where.get(e) and all(p.split("#", 1)[-1].startswith("visitor:") for p in where[e])
    ]
    # A text's message_in event is keyed by its message id, or (before that) by the delivery's
    # webhook id; either way one event per text, whatever GHL delivered again.
    resent = [d for d in w.copies if d.mode == "new webhook id" and d.answer == "queued"]
    again_of: dict[int, list[Any]] = defaultdict(list)
    for d in resent:
        if d.copy_of is not None:
            again_of[d.copy_of].append(d)

    def stored(d: Any) -> int:
        keys = {f"msg:{LOCATION_ID}:InboundMessage:{d.message_id}", f"wh:{d.webhook_id}"}
        keys |= {f"wh:{c.webhook_id}" for c in again_of.get(d.number, [])}
        return sum(len(where.get(k, [])) for k in keys)

    message_events = [d for d in inbound.values() if stored(d) == 0]
    counted_twice = sum(1 for d in inbound.values() if stored(d) > 1 and again_of.get(d.number))
    recorded = {str(m.get("messageId")) for m in messages if m.get("direction") == "inbound"}
    unrecorded = [m for m in inbound if m not in recorded]
    sent = sum(len(b.events) for b in w.batches)
    taken = sum(b.accepted for b in w.batches)
    dups = sum(b.duplicates for b in w.batches)
    report.numbers["events"] = {
        "website_events_sent": sent,
        "accepted": taken,
        "answered_duplicate": dups,
        "distinct_accepted": len(accepted),
        "lost": len(lost),
        "stored_twice": len(twice),
        "still_in_the_visitor_stream": len(in_visitor),
        "message_events_missing": len(message_events),
        "inbound_messages_not_in_history": len(unrecorded),
        "message_counted_twice_new_webhook_id": counted_twice,
    }
    report.section(
        "events",
        [
            f"website events: {sent:,} sent, {taken:,} accepted, {dups:,} answered duplicate (resent "
            f"batches); {len(accepted):,} distinct accepted, {len(accepted) - len(lost):,} in the "
            f"events table, {len(in_visitor):,} still in an anonymous visitor's stream",
            f"conversation events: {len(inbound) - len(message_events):,} of {len(inbound):,} inbound "
            f"texts in the lead's stream; {len(inbound) - len(unrecorded):,} in its message history",
        ],
    )
    report.check(
        "no lost event",
        not lost and not message_events and not unrecorded,
        f"{len(lost)} website events, {len(message_events)} message events, {len(unrecorded)} "
        f"inbound messages missing, e.g. {(lost + [d.message_id for d in message_events] + unrecorded)[:5]}"
        if lost or message_events or unrecorded
        else f"{len(accepted):,} website events and {len(inbound):,} inbound texts all stored",
    )
    report.check(
        "each website event stored once",
        not twice,
        f"{len(twice)} in two streams" if twice else "",
        required=False,
    )
    report.check(
        "identified visitors' earlier events moved to the lead",
        not in_visitor,
        f"{len(in_visitor)} still in a visitor stream" if in_visitor else "",
        required=False,
    )
    report.check(
        "a text GHL delivers again under a new webhookId counted once in the lead's stream",
        counted_twice == 0,
        f"{counted_twice} of {len(resent)} counted again (message_in event keyed by the webhook "
        "id, not the message id)"
        if counted_twice
        else f"{len(resent)} resent",
        required=False,
    )


def _effects(
    report: Report,
    outbox: dict[str, dict[str, Any]],
    runs: dict[str, dict[str, Any]],
    ghl_tasks: list[dict[str, Any]],
    ghl_notes: list[dict[str, Any]],
    ghl_opportunities: list[dict[str, Any]],
    unanswered: list[tuple[Any, int, Any]],
) -> None:
    task_families, note_families = _families()
    # Tasks and notes GHL created whose answer never reached the caller, by cause.
    lost: Counter[str] = Counter()
    for call, status, payload in unanswered:
        if call.method != "POST" or status >= 300:
            continue
        made = (payload or {}).get("task") or (payload or {}).get("note") or {}
        if call.path.endswith("/tasks"):
            lost[_family_of(str(made.get("title")), task_families)] += 1
        elif call.path.endswith("/notes"):
            lost[_family_of(str(made.get("body")), note_families)] += 1
    found_at_ghl = sum(1 for o in outbox.values() if o.get("foundAtGhl"))
    # Our side: each once-effect claim, attributed to (contact, family).
    ours: dict[str, Counter[tuple[str, str]]] = {"done": Counter(), "pending": Counter()}
    steps: Counter[str] = Counter()
    for run in runs.values():
        for entry in run.get("history") or []:
            steps[f"{entry.get('type')}"] += 1
    for item in outbox.values():
        effect = str(item["id"])
        parts = effect.split(":")
        family = contact = None
        if effect.startswith("task:hot:"):
            family, contact = "hot lead task", parts[-1]
        elif effect.startswith("task:handoff:"):
            family, contact = "hand-off task", parts[-1]
        elif effect.startswith("task:question:"):
            # task:question:<location>:<message id>: the contact is on the claim
            family, contact = "question for the agent", str(item.get("contactId") or "")
        elif effect.startswith("note:qualified:"):
            family, contact = "qualification summary", parts[-1]
        elif effect.startswith(("task:alert:", "note:alert:")) and len(parts) >= 6:
            # task:alert:<location>:<contact>:<rule>:<anchor>
            family, contact = f"alert {parts[4]}", parts[3]
        elif effect.startswith("wf:") and ":" in effect[3:]:
            # wf:<location>:<contact>:<run id>:<seq>; run ids hold colons themselves
            head, seq = effect[3:].rsplit(":", 1)
            owner = runs.get(head) or runs.get(head.split(":", 2)[-1])
            if owner is not None:
                step = _step_at(owner, int(seq))
                if step is not None and step[1] in ("create_task", "notify_agent"):
                    family = f"workflow {owner['workflow']}.{step[0]}"
                    contact = str(owner["contactId"])
        if family and contact:
            ours["done" if item.get("status") == "done" else "pending"][(contact, family)] += 1
    theirs: Counter[tuple[str, str]] = Counter()
    for task in ghl_tasks:
        theirs[(str(task["contactId"]), _family_of(str(task.get("title")), task_families))] += 1
    for note in ghl_notes:
        theirs[(str(note["contactId"]), _family_of(str(note.get("body")), note_families))] += 1
    duplicates: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    examples: list[str] = []
    for key in set(theirs) | set(ours["done"]) | set(ours["pending"]):
        extra = theirs[key] - ours["done"][key]
        if extra > ours["pending"][key]:
            duplicates[key[1]] += extra - ours["pending"][key]
            examples.append(f"{key[0]} {key[1]}: {theirs[key]} at GHL, {ours['done'][key]} claimed")
        elif extra < 0:
            missing[key[1]] += -extra
    opportunities = Counter(str(o.get("contactId")) for o in ghl_opportunities)
    double_opps = {c: n for c, n in opportunities.items() if n > 1}
    by_family: Counter[str] = Counter()
    for (_, family), n in theirs.items():
        by_family[family] += n
    report.numbers["effects"] = {
        "workflow_steps_by_type": dict(steps),
        "ghl_tasks_and_notes_by_cause": dict(by_family),
        "duplicates": dict(duplicates),
        "claimed_done_missing_at_ghl": dict(missing),
        "opportunities": len(ghl_opportunities),
        "contacts_with_two_opportunities": len(double_opps),
        "tasks_and_notes_carried_out_answer_lost": dict(lost),
        "claims_finished_from_ghls_side": found_at_ghl,
    }
    report.section(
        "workflow steps and other effects",
        [
            f"workflow steps taken: {sum(steps.values()):,} ("
            + ", ".join(f"{n:,} {t}" for t, n in steps.most_common())
            + ")",
            "tasks and notes at GHL by cause: "
            + ", ".join(f"{n:,} {f}" for f, n in by_family.most_common()),
            f"tasks and notes GHL created but whose answer was lost: {sum(lost.values())} ("
            + (", ".join(f"{n} {f}" for f, n in lost.most_common()) or "none")
            + f"); claims the retry found already done at GHL: {found_at_ghl}",
            f"opportunities at GHL: {len(ghl_opportunities):,} for {len(opportunities):,} contacts",
        ],
    )
    workflow_dups = sum(n for f, n in duplicates.items() if f.startswith("workflow"))
    report.check(
        "no duplicate workflow step effect",
        workflow_dups == 0 and not any(f.startswith("workflow") for f in missing),
        (
            f"{workflow_dups} carried out twice, e.g. {[e for e in examples if 'workflow' in e][:3]}"
            if workflow_dups
            else "none carried out twice"
        )
        + (f"; claimed done but missing at GHL: {dict(missing)}" if missing else ""),
    )
    other = {f: n for f, n in duplicates.items() if not f.startswith("workflow")}
    report.check(
        "no other task or note carried out twice (conversation, alerts)",
        not other,
        f"{dict(other)}, e.g. {[e for e in examples if 'workflow' not in e][:3]}"
        if other
        else "none",
    )
    report.check(
        "one opportunity per lead",
        not double_opps,
        f"{len(double_opps)} leads with two or more, e.g. {list(double_opps.items())[:3]}"
        if double_opps
        else f"{len(opportunities):,} leads",
    )
    report.check(
        "every task and note at GHL has a known cause",
        by_family["unattributed"] == 0,
        f"{by_family['unattributed']} unattributed" if by_family["unattributed"] else "",
        required=False,
    )


def _duplicates(report: Report, stack: SoakStack, w: Workload, driver: Any) -> None:
    at_intake = sum(1 for d in w.deliveries if d.answer == "duplicate")
    in_progress = sum(1 for d in w.deliveries for a in d.attempts if a == 409)
    resent = sum(1 for d in w.copies if d.mode == "new webhook id")
    redelivered: Counter[str] = Counter()
    for c in stack.containers:
        if c.function and c.records:
            redelivered[c.function] += c.redelivered_records
    batches_dup = sum(b.duplicates for b in w.batches)
    lines = [
        f"at the intake: {at_intake:,} deliveries answered duplicate (the idempotency record), "
        f"{in_progress:,} answered 409 while their copy was being taken (GHL retried them)",
        "in the worker, the scoring, workflow and matches functions: "
        + ", ".join(f"{n:,} {f}" for f, n in redelivered.items())
        + " records received again (SQS redelivery: kills, timeouts, lost deletes), each applied once",
        f"texts redelivered by GHL under a new webhookId: {resent:,}, answered from the reply's claim (no second text)",
        f"website events answered duplicate: {batches_dup:,}",
    ]
    report.numbers["duplicates_prevented"] = {
        "intake_answered_duplicate": at_intake,
        "intake_409_in_progress": in_progress,
        "sqs_records_received_again": dict(redelivered),
        "new_webhook_id_resends": resent,
        "website_events_duplicate": batches_dup,
    }
    report.section("duplicates prevented", lines)


def _containers(report: Report, stack: SoakStack) -> None:
    crashed = {
        c.name: {k: n for k, n in c.exits.items() if k.startswith("crashed")}
        for c in stack.containers
        if any(k.startswith("crashed") for k in c.exits)
    }
    cpu = stack.cpu()
    report.section(
        "CPU seconds by process",
        [
            ", ".join(
                f"{name} {seconds:g}"
                for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])
            )
        ],
    )
    report.numbers["cpu_by_process"] = cpu
    report.numbers["containers"] = {
        c.name: {
            "batches": c.batches,
            "records": c.records,
            "records_failed": c.failed_records,
            "exits": dict(c.exits),
        }
        for c in stack.containers
    }
    report.check("no container crashed", not crashed, json.dumps(crashed) if crashed else "")


def _logs(
    report: Report,
    stack: SoakStack,
    w: Workload,
    outbox: dict[str, dict[str, Any]],
    ghl_messages: list[dict[str, Any]],
) -> None:
    from local import devkeys

    files = sorted(stack.logs.glob("*.log"))
    secrets = {
        stack.ghl_token,
        stack.anthropic_key,
        devkeys.WORKFLOW_SECRET,
        devkeys.API_KEY,
        devkeys.SITE_KEY,
        _private_key_text(),
    }
    for lead in w.leads:
        secrets.update({lead.phone, lead.email})
    bodies = {d.text for d in w.deliveries if d.text} | {"Met at the Saturday open house."}
    bodies |= {str(m.get("body")) for m in ghl_messages if m.get("body")}
    bodies |= {
        str((o.get("decision") or {}).get("reply") or o.get("body") or "") for o in outbox.values()
    }
    bodies.discard("")
    lines = 0
    traces: list[str] = []
    by_level: Counter[str] = Counter()
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lines += 1
            if "Traceback (most recent call last)" in line or '"stackTrace"' in line:
                traces.append(f"{path.name}:{number}")
            level = re.search(r'"level": ?"([A-Z]+)"', line)
            by_level[level.group(1) if level else "?"] += 1
    try:
        from local.logscan import find_leaks
    except ImportError:  # local/logscan.py is written alongside: without it, no scan
        find_leaks = None  # type: ignore[assignment]
    leaks: list[str] = []
    if find_leaks is not None:
        for path in files:
            with path.open(errors="replace") as handle:
                leaks += [
                    f"{path.name}: {leak}"
                    for leak in find_leaks(handle, secrets, known_bodies=bodies)
                ]
    report.numbers["logs"] = {
        "files": len(files),
        "lines": lines,
        "by_level": dict(by_level),
        "stack_traces": len(traces),
        "leaks": len(leaks),
        "scanned": find_leaks is not None,
    }
    report.section(
        "logs",
        [
            f"{lines:,} lines from {len(files)} containers in {stack.logs} ("
            + ", ".join(f"{n:,} {lvl}" for lvl, n in by_level.most_common())
            + ")",
            f"looked for {len(secrets):,} secrets, phones and emails and {len(bodies):,} message texts "
            "(local/logscan.py), and for stack traces",
        ],
    )
    report.check(
        "no log line carries a phone number, email, message text, token or key",
        find_leaks is not None and not leaks,
        ("; ".join(leaks[:5]) + (f" … {len(leaks)} in all" if len(leaks) > 5 else ""))
        if leaks
        else ("" if find_leaks is not None else "local/logscan.py is missing: not scanned"),
    )
    report.check(
        "no stack trace in the logs",
        not traces,
        f"{len(traces)}, e.g. {traces[:3]}" if traces else "",
    )


def _private_key_text() -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from local import devkeys

    pem = devkeys.PRIVATE_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return "".join(pem.decode().splitlines()[1:-1])


# -- output ------------------------------------------------------------------------------------


def print_report(report: Report, timings: dict[str, Any], say: Callable[..., None]) -> None:
    say()
    for title, lines in report.sections:
        say(f"{title}:")
        for line in lines:
            say(f"  {line}")
    say()
    say("checks:")
    for c in report.checks:
        mark = "PASS" if c.ok else ("FAIL" if c.required else "NOTE")
        say(f"  {mark}  {c.name}" + (f" — {c.detail}" if c.detail else ""))
    say()
    t = {k: timings.get(k, 0) for k in ("total_s", "setup_s", "traffic_s", "drain_s", "cpu_s")}
    load = timings.get("load_average") or []
    say(
        f"wall time: {t['total_s']:.0f} s (stack up {t['setup_s']:.0f} s, traffic "
        f"{t['traffic_s']:.0f} s, settling {t['drain_s']:.0f} s); CPU {t['cpu_s']:.0f} s in all "
        f"processes; load average {' '.join(str(x) for x in load)} on {os.cpu_count()} CPUs"
    )
    failed = [c.name for c in report.checks if c.required and not c.ok]
    say(
        "soak: PASSED"
        if not failed
        else f"soak: FAILED ({len(failed)} checks): " + "; ".join(failed)
    )


def write(report: Report, timings: dict[str, Any], path: Path) -> None:
    data = {
        "passed": report.passed,
        "timings": timings,
        "checks": [c.__dict__ for c in report.checks],
        **report.numbers,
    }
    path.write_text(json.dumps(data, indent=2, default=str))
