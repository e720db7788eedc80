"""Churn benchmark: the daily sweep over 100,000 leads (own work apart from storage calls), the
per-lead cost of the churn model, the sweep end to end against the local AWS, and the
ChurnScoreFunction's cold init.

**Leads** (every part): the synthetic generator's leads (``ghl_ai_cli.synthetic``, seeded,
:data:`DAYS` days ending at midnight UTC today; active, fading and long-dormant leads), each
stored as the lead record the system keeps: a GHL contact in the loopback stand-in, name,
phone, tags, mostly a lead score, a few opted-out / DND / handed-off flags, and the
``activity`` summary the ScoringFunction stores, made when the lead's last event arrived
(``Activity.of(stream, last event).as_state()``). :data:`SCORED_BEFORE_SHARE` of them carry
yesterday's ``churn`` state, exactly what yesterday's sweep computed (``ChurnPredictor`` on
``Activity.of(stream, now - 1 day)``), so tiers change and plays start as on a real day;
the others are new to the sweep (scored for the first time), and :data:`SCORED_TODAY_SHARE`
were already scored today (a re-run: the sweep skips them).

1. **Sweep of 100,000 leads**, in process against moto (tables and queues from template.yaml),
   GHL write-back to the loopback stand-in. To use both cores the leads are split into
   ``--churn-shards`` shards (default 2), each a fresh process with its own moto holding its
   leads (moto's calls cost milliseconds and its Query walks the whole table: one process
   would take most of half an hour); own work is added up over the shards, which page and
   chunk exactly as one sweep of all the leads would (pages of 1,000, chunks of 100; one
   location). Per shard:
   ``functions.churn_sweep.app.handler`` once (as its schedule invokes it: pages the
   location's leads with a ``contactId, churn.day`` projection, queues chunks), then the
   churn queue is received ten messages at a time (the template's BatchSize) and each batch
   passed to ``functions.churn_score.app.handler`` (one BatchGetItem per chunk, the model over
   the chunk, GHL write-back on a tier change, plays, one conditional UpdateItem per lead).
   Timed: each handler call. AWS API time is time inside ``BaseClient._make_api_call``
   (botocore + moto), GHL HTTP time inside ``httpx.Client.send``; OWN WORK = total - AWS -
   GHL HTTP, the figure the goal (under 60 s for all the leads) is checked against; AWS and
   GHL HTTP time are reported beside it (moto's, not DynamoDB's). AWS calls are
   counted by operation, and the items they read (Query ``Items``, BatchGetItem
   ``Responses``). Not timed: the setup, receiving and deleting the chunk messages (the event
   source mapping's work), and emptying the workflow queue after each invoke (its messages
   are counted against the plays; moto's SendMessage slows down with the queue's depth).
   Both functions' ``deps()`` and the models are loaded before timing (reported apart).
   After the setup, and after every AWS call, the heap is frozen (``gc.freeze``: what moto
   keeps is not the function's heap, see :class:`StorageMeter`); GC pauses inside own work
   are reported. A breakdown wraps the steps of shard 0's sweep and of its first
   :data:`BREAKDOWN_INVOKES` score invokes (counted in the totals too: the wrappers add
   about 1 us per wrapped call).
   **Baseline** (same run, same handler): the naive design that re-reads each lead's event
   history, i.e. leads without an ``activity`` summary (the scorer then reads the events:
   ``BehaviourEventStore.for_lead`` -> ``stream_from_items`` -> ``Activity.of``), synthetic
   leads of :data:`BASELINE_EVENTS` events, one chunk of 100 per invoke, the events table
   holding one chunk's events at a time (re-created between chunks, not timed: moto's Query
   walks the whole table). Compared per lead with the summary design's score invokes.
2. **Per-lead scoring cost**: ``ChurnPredictor.predict`` (7/14/30-day probabilities, tiers,
   reasons in words) over chunks of 100 leads and over 10,000 leads at once, the summaries
   in memory. Baselines over the same activities: the features alone (``matrix``) and a
   recency-only rule (tier by days since the last engagement). Also ``Activity.from_state``
   (what the scorer does per lead before the model).
3. **End to end against the local AWS**: moto in server mode (``ThreadedMotoServer`` on a
   free loopback port, as ``make run`` starts it), 10,000 leads, the sweep handler, then the
   local event source mapping (``local.sqs_runner.QueueConsumer``) draining the churn queue
   into the score handler; wall time of the sweep + scoring every chunk (no goal), and a
   re-run of the sweep the same day (it must queue nothing).
4. **Cold init**: fresh interpreters importing ``functions/churn_score/app.py`` by path and
   loading the models (``ghl_models.churn_models`` + ``ChurnPredictor``; goal median < 800 ms;
   ``sklearn``, ``pandas``, ``scipy``, ``anthropic`` must not be loaded), and
   ``functions/churn_sweep/app.py`` (whether it loads numpy and the model code). Baselines:
   fresh ``import boto3`` and ``import numpy``. Also a layers check: each function imported
   with the packages of the layers its template entry lacks made unimportable (ModelsLayer
   ships ``ghl_models`` and numpy), as on Lambda.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import random
import re
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    BASE_ENV,
    CLI,
    HEAVY_MODULES,
    LABEL,
    LOCATION_ID,
    MODELS_LAYER,
    ROOT,
    SHARED,
    AwsCallTimer,
    cold_child,
    ms,
    percentile,
    stat_header,
    stat_row,
    stdout_to_devnull,
    summary,
    timed_each,
)

DAY = 86400.0
HOUR = 3600.0

GOAL_SWEEP_OWN_S = 60.0
GOAL_COLD_MS = 800.0
#: Also watched after each import (the sweep should need neither).
WATCHED_MODULES = (*HEAVY_MODULES, "numpy", "ghl_models")

#: Days of synthetic history (ending at midnight UTC today) and leads per generator run.
DAYS = 180
GENERATOR_BATCH = 10_000
#: Of the leads: swept yesterday (yesterday's churn state stored), already scored today.
SCORED_BEFORE_SHARE = 0.85
SCORED_TODAY_SHARE = 0.01
#: Lead flags that keep a lead out of the plays (``churn.score.NO_PLAY``), and their shares.
FLAG_SHARES = {"optedOut": 0.02, "dnd": 0.01, "handedOff": 0.01}
#: Events per lead of the baseline's leads (their whole history is read).
BASELINE_EVENTS = (35, 70)
#: Shard 0's first invokes with the steps wrapped (the breakdown).
BREAKDOWN_INVOKES = 5
#: The recency-only rule of part 2: (days since the last engagement, tier), highest first.
RECENCY_TIERS = ((30.0, "critical"), (14.0, "high"), (7.0, "medium"))

FIRST_NAMES = ("Maria", "James", "Aisha", "Wei", "Carlos", "Emily", "Dmitri", "Priya", "Noah")
LAST_NAMES = ("Lopez", "Smith", "Okafor", "Chen", "Garcia", "Brown", "Ivanov", "Patel", "Kim")
SOURCES = ("zillow lead", "website", "open house", "referral", "facebook ad")
KIND_NAMES = {
    "yesterday": "swept yesterday",
    "new": "new to the sweep (first score)",
    "today": "already scored today",
}


def _progress(text: str) -> None:
    print(f"[bench] churn: {text}", file=sys.stderr, flush=True)


def _paths() -> None:
    for path in (str(ROOT), str(SHARED), str(MODELS_LAYER), str(CLI)):
        if path not in sys.path:
            sys.path.insert(0, path)


def _busy_share(seconds: float = 1.0) -> float | None:
    """The share of the machine's CPU time busy over ``seconds`` (from /proc/stat; None where
    there is none): other work running inflates every wall-clock timing here."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return round(1 - (idle1 - idle0) / max(total1 - total0, 1), 3)


class CpuWatch:
    """CPU time the rest of the machine used while a part ran: the machine's busy time
    (/proc/stat) minus this process's and its waited-for children's (the shards, the
    cold-init interpreters). Other work inflates every wall-clock timing here."""

    def __init__(self) -> None:
        self.start = (time.perf_counter(), self._machine_busy_s(), self._ours_s())

    @staticmethod
    def _machine_busy_s() -> float | None:
        try:
            with open("/proc/stat") as fh:
                values = [int(v) for v in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ours_s() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def result(self) -> dict[str, Any]:
        wall0, busy0, ours0 = self.start
        wall, busy = time.perf_counter() - wall0, self._machine_busy_s()
        if busy is None or busy0 is None:
            return {}
        ours = self._ours_s() - ours0
        other = max(busy - busy0 - ours, 0.0)
        return {
            "wall_s": round(wall, 1),
            "ours_cpu_s": round(ours, 1),
            "other_cpu_s": round(other, 1),
            "other_share_of_one_core": round(other / max(wall, 1e-9), 3),
        }


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------------- meters


class StorageMeter:
    """AWS calls by operation (``service:Operation``), the time inside them and the DynamoDB
    items they read (Query/Scan ``Items``, BatchGetItem ``Responses``, GetItem ``Item``).

    ``freeze_heap``: ``gc.freeze()`` after every call (inside it: AWS time). Moto keeps what
    every call creates (updated items, and more as it reads them); the collector's full
    passes, set off every time the unfrozen heap grows by a quarter, would walk all of it,
    at points that fall as often into own work as into moto. Frozen, it is not the
    function's heap; objects are still freed by reference counting.
    """

    def __init__(self, freeze_heap: bool = False) -> None:
        self.freeze_heap = freeze_heap
        self.calls: Counter[str] = Counter()
        self.ns: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def reset(self) -> None:
        self.calls, self.ns, self.items = Counter(), Counter(), Counter()

    @staticmethod
    def _read(operation: str, result: Any) -> int:
        if not isinstance(result, dict):
            return 0
        if operation in ("Query", "Scan"):
            return len(result.get("Items") or [])
        if operation == "BatchGetItem":
            return sum(len(v) for v in (result.get("Responses") or {}).values())
        if operation == "GetItem":
            return 1 if result.get("Item") else 0
        return 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[StorageMeter]:
        import botocore.client

        meter = self
        original = botocore.client.BaseClient._make_api_call

        def _make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            start = time.perf_counter_ns()
            result = None
            try:
                result = original(client, operation_name, api_params)
                return result
            finally:
                name = f"{client.meta.service_model.service_name}:{operation_name}"
                meter.calls[name] += 1
                meter.ns[name] += time.perf_counter_ns() - start
                meter.items[name] += meter._read(operation_name, result)
                if meter.freeze_heap:
                    gc.freeze()

        botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@dataclass
class Phase:
    """The sums of a phase's handler invokes (one shard's, or added up over shards)."""

    leads: int = 0
    invokes: int = 0
    total_ns: int = 0
    aws_ns: int = 0
    emulation_ns: int = 0
    ghl_ns: int = 0
    gc_own_ns: int = 0
    failures: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    call_ns: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    ghl_calls: Counter[str] = field(default_factory=Counter)
    invoke_own_ms: list[float] = field(default_factory=list)
    invoke_total_ms: list[float] = field(default_factory=list)

    @property
    def own_ns(self) -> int:
        return self.total_ns - self.aws_ns - self.ghl_ns

    def add(self, other: Phase) -> None:
        for name in ("leads", "invokes", "total_ns", "aws_ns", "emulation_ns", "ghl_ns"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.gc_own_ns += other.gc_own_ns
        self.failures += other.failures
        self.calls.update(other.calls)
        self.call_ns.update(other.call_ns)
        self.items.update(other.items)
        self.ghl_calls.update(other.ghl_calls)
        self.invoke_own_ms += other.invoke_own_ms
        self.invoke_total_ms += other.invoke_total_ms

    def as_json(self) -> dict[str, Any]:
        n = max(self.leads, 1)
        calls = sum(self.calls.values())
        return {
            "leads": self.leads,
            "invokes": self.invokes,
            "batch_item_failures": self.failures,
            "total_s": round(self.total_ns / 1e9, 3),
            "aws_s": round(self.aws_ns / 1e9, 3),
            "moto_emulation_s": round(self.emulation_ns / 1e9, 3),
            "ghl_http_s": round(self.ghl_ns / 1e9, 3),
            "own_work_s": round(self.own_ns / 1e9, 3),
            "gc_in_own_work_s": round(self.gc_own_ns / 1e9, 3),
            "own_work_per_lead_us": round(self.own_ns / n / 1e3, 2),
            "own_work_excl_gc_per_lead_us": round((self.own_ns - self.gc_own_ns) / n / 1e3, 2),
            "aws_per_lead_us": round(self.aws_ns / n / 1e3, 2),
            "leads_per_own_s": round(self.leads / (self.own_ns / 1e9), 1) if self.own_ns else 0,
            "aws_calls": dict(sorted(self.calls.items())),
            "aws_calls_total": calls,
            "aws_calls_per_lead": {k: round(v / n, 4) for k, v in sorted(self.calls.items())},
            "aws_calls_per_lead_total": round(calls / n, 4),
            "aws_ms_per_call": {
                k: round(ms(self.call_ns[k]) / v, 3) for k, v in sorted(self.calls.items())
            },
            "items_read": dict(sorted((k, v) for k, v in self.items.items() if v)),
            "items_read_per_lead": round(sum(self.items.values()) / n, 3),
            "ghl_calls": dict(sorted(self.ghl_calls.items())),
            "invoke_own_work_ms": summary(self.invoke_own_ms) if self.invoke_own_ms else {},
            "invoke_total_ms": summary(self.invoke_total_ms) if self.invoke_total_ms else {},
        }

    def as_raw(self) -> dict[str, Any]:
        """For the trip from a shard's process (Counters and lists as JSON)."""
        return {k: (dict(v) if isinstance(v, Counter) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Phase:
        phase = cls()
        for key, value in raw.items():
            setattr(phase, key, Counter(value) if isinstance(value, dict) else value)
        return phase


class Invoker:
    """Times handler invokes: total, AWS (botocore + moto), GHL HTTP, calls and items read."""

    def __init__(self, aws: AwsCallTimer, http: Any, meter: StorageMeter) -> None:
        self.aws, self.http, self.meter = aws, http, meter

    def __call__(self, phase: Phase, leads: int, handler: Callable[..., Any], *args: Any) -> Any:
        self.aws.reset()
        self.http.reset()
        self.meter.reset()
        start = time.perf_counter_ns()
        result = handler(*args)
        total = time.perf_counter_ns() - start
        phase.leads += leads
        phase.invokes += 1
        phase.total_ns += total
        phase.aws_ns += self.aws.api_ns
        phase.emulation_ns += self.aws.emulation_ns
        phase.ghl_ns += self.http.ghl_ns
        phase.gc_own_ns += self.aws.gc_own_ns
        phase.calls.update(self.meter.calls)
        phase.call_ns.update(self.meter.ns)
        phase.items.update(self.meter.items)
        phase.ghl_calls.update(self.http.ghl_calls)
        phase.invoke_own_ms.append(ms(total - self.aws.api_ns - self.http.ghl_ns))
        phase.invoke_total_ms.append(ms(total))
        if isinstance(result, dict):
            phase.failures += len(result.get("batchItemFailures") or [])
        return result


def sqs_batch_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Received SQS messages as Lambda's event source mapping delivers them
    (``local.sqs_runner.QueueConsumer``)."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


# --------------------------------------------------------------------------------- leads


@dataclass
class Population:
    """The leads stored by :func:`populate`."""

    contacts: list[str] = field(default_factory=list)
    #: Yesterday's tier by contact (None: new to the sweep); leads already scored today absent.
    previous: dict[str, str | None] = field(default_factory=dict)
    #: The raw events by contact (only when asked for: the baseline's leads).
    histories: dict[str, list[Any]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    yesterday_tiers: Counter[str] = field(default_factory=Counter)
    events: list[int] = field(default_factory=list)
    recency_days: list[float] = field(default_factory=list)
    setup_s: float = 0.0

    def describe(self) -> dict[str, Any]:
        events = sorted(float(v) for v in self.events)
        recency = sorted(self.recency_days)
        return {
            "leads": len(self.contacts),
            "kinds": dict(self.kinds.most_common()),
            "flags": dict(self.flags.most_common()),
            "yesterday_tiers": dict(self.yesterday_tiers.most_common()),
            "events_per_lead": {
                "mean": round(statistics.fmean(events), 1) if events else 0,
                "p50": percentile(events, 50),
                "p90": percentile(events, 90),
                "max": events[-1] if events else 0,
                "total": sum(events),
            },
            "days_since_last_engagement": {
                "p25": round(percentile(recency, 25), 1),
                "p50": round(percentile(recency, 50), 1),
                "p75": round(percentile(recency, 75), 1),
                "p90": round(percentile(recency, 90), 1),
                "over_30_days_share": round(sum(d > 30 for d in recency) / max(len(recency), 1), 3),
            },
        }


def populate(
    dynamodb: Any,
    table: str,
    ghl: Any,
    predictor: Any,
    *,
    count: int,
    seed: int,
    now: datetime,
    summaries: bool = True,
    events_range: tuple[int, int] | None = None,
    label: str = "",
) -> Population:
    """Generate ``count`` synthetic leads, seed their GHL contacts, store their lead records
    (batch-written, 25 per call). ``summaries=False``: no ``activity`` attribute (the naive
    design's leads; their raw events are kept, ``events_range`` bounds their number)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    pop = Population()
    # No collections while the tables fill (a growing heap of acyclic items: each full
    # collection would walk all of it); the caller collects and freezes afterwards.
    enabled = gc.isenabled()
    gc.disable()
    try:
        _populate(
            dynamodb,
            table,
            ghl,
            predictor,
            pop,
            rng,
            count,
            seed,
            now,
            summaries,
            events_range,
            label,
        )
    finally:
        if enabled:
            gc.enable()
    pop.setup_s = time.perf_counter() - started
    return pop


def _populate(
    dynamodb: Any,
    table: str,
    ghl: Any,
    predictor: Any,
    pop: Population,
    rng: random.Random,
    count: int,
    seed: int,
    now: datetime,
    summaries: bool,
    events_range: tuple[int, int] | None,
    label: str,
) -> None:
    from bench.scoring import RawEvent
    from ghl_ai.adapters.dynamo import to_item
    from ghl_ai.churn.activity import Activity
    from ghl_ai.churn.sweep import sweep_day
    from ghl_ai_cli.synthetic import Config, generate

    started = time.perf_counter()
    at = now.timestamp()
    yesterday_at, today_at = at - DAY, at - HOUR
    yesterday_day, today_day = sweep_day(now - timedelta(days=1)), sweep_day(now)
    run = 0
    while len(pop.contacts) < count:
        wanted = count - len(pop.contacts)
        size = GENERATOR_BATCH if events_range else min(GENERATOR_BATCH, wanted)
        log = generate(Config(leads=size, days=DAYS, seed=seed + 101 * run))
        run += 1
        streams = log.streams()
        picked = [
            (lead, s)
            for lead, s in streams.items()
            if events_range is None or events_range[0] <= len(s) <= events_range[1]
        ][:wanted]
        raw: dict[str, list[Any]] = defaultdict(list)
        if not summaries:
            keep = {lead for lead, _ in picked}
            for e in log.events:
                if e.lead in keep:
                    raw[e.lead].append(RawEvent(e.t, e.type, e.property_id, e.value, e.data))
        del log
        # Which leads were swept before, and what that sweep stored (computed as it did).
        status: list[str] = []
        earlier: dict[str, list[tuple[int, Any]]] = {"yesterday": [], "today": []}
        for i, (_, stream) in enumerate(picked):
            draw = rng.random()
            kind = (
                "today"
                if draw < SCORED_TODAY_SHARE
                else "yesterday"
                if draw < SCORED_TODAY_SHARE + SCORED_BEFORE_SHARE
                else "new"
            )
            if kind != "new":
                cut = today_at if kind == "today" else yesterday_at
                activity = Activity.of(stream, cut)
                if activity is None:
                    kind = "new"  # it arrived since
                else:
                    earlier[kind].append((i, activity))
            status.append(kind)
        states: dict[int, dict[str, Any]] = {}
        for kind, cut, day in (
            ("yesterday", yesterday_at, yesterday_day),
            ("today", today_at, today_day),
        ):
            risks = predictor.predict([a for _, a in earlier[kind]], cut)
            for (i, _), risk in zip(earlier[kind], risks, strict=True):
                states[i] = risk.as_state(cut, day)
        items = []
        for i, (lead, stream) in enumerate(picked):
            first, last = float(stream.t[0]), float(stream.t[-1])
            activity = Activity.of(stream, last)  # the ScoringFunction's, at the last event
            assert activity is not None
            first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            phone = f"+1909{rng.randrange(10**7):07d}"
            tags = sorted({"buyer" if rng.random() < 0.8 else "seller", rng.choice(SOURCES)})
            contact = ghl.seed_contact(
                LOCATION_ID, firstName=first_name, lastName=last_name, phone=phone, tags=tags
            )
            contact_id = str(contact["id"])
            record: dict[str, Any] = {
                "locationId": LOCATION_ID,
                "contactId": contact_id,
                "firstName": first_name,
                "lastName": last_name,
                "phone": phone,
                "tags": tags,
                "createdAt": datetime.fromtimestamp(first, UTC),
                "ghlSyncedAt": datetime.fromtimestamp(last, UTC),
            }
            if rng.random() < 0.7:
                value = rng.randint(5, 95)
                temperature = "hot" if value >= 70 else "warm" if value >= 40 else "cold"
                record["score"] = {
                    "value": value,
                    "probability": round(value / 200, 4),
                    "temperature": temperature,
                }
            for flag, share in FLAG_SHARES.items():
                if rng.random() < share:
                    record[flag] = True
                    pop.flags[flag] += 1
            if summaries:
                record["activity"] = activity.as_state()
            if i in states:
                record["churn"] = states[i]
            kind = status[i]
            pop.kinds[KIND_NAMES[kind]] += 1
            if kind != "today":
                tier = states[i]["tier"] if i in states else None
                pop.previous[contact_id] = tier
                pop.yesterday_tiers[tier or "(not swept yet)"] += 1
            pop.contacts.append(contact_id)
            pop.events.append(len(stream))
            pop.recency_days.append(activity.recency_days(at))
            if not summaries:
                pop.histories[contact_id] = raw[lead]
            items.append(to_item(record))
        for start in range(0, len(items), 25):
            pending: dict[str, Any] = {
                table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            }
            while pending:
                pending = (
                    dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                )
        _progress(
            f"{label}{len(pop.contacts):,}/{count:,} leads stored"
            f" ({time.perf_counter() - started:.0f} s, RSS {_rss_mb():,.0f} MB)"
        )


# --------------------------------------------------------------------------------- 1. shards


def _function_env(template: dict[str, Any], resources: Any, ghl_url: str | None) -> dict[str, str]:
    """The ChurnSweepFunction's and ChurnScoreFunction's environment from template.yaml
    (merged: they agree on shared names), GHL pointed at the stand-in."""
    from local import devkeys
    from local.template import function_environment

    parameters = {
        "GhlWebhookPublicKey": devkeys.PUBLIC_KEY_PEM,
        "GhlWorkflowSecret": devkeys.WORKFLOW_SECRET,
        "GhlLocationId": LOCATION_ID,
        "ApiKey": devkeys.API_KEY,
        "LyrioSiteKey": devkeys.SITE_KEY,
    }
    if ghl_url:
        parameters.update({"GhlApiToken": "pit-bench-token", "GhlApiBaseUrl": ghl_url})
    env: dict[str, str] = {}
    for function in ("ChurnSweepFunction", "ChurnScoreFunction"):
        env.update(function_environment(template, function, resources, parameters))
    env.update({k: BASE_ENV[k] for k in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_LOG_LEVEL")})
    return env


def _reset_apps() -> None:
    from functions.churn_score import app as churn_score_app
    from functions.churn_sweep import app as churn_sweep_app
    from ghl_ai import config

    config.churn_settings.cache_clear()
    config.churn_sweep_settings.cache_clear()
    churn_sweep_app.deps.cache_clear()
    churn_score_app.deps.cache_clear()
    churn_score_app.predictor_for.cache_clear()


def sweep_targets() -> list[tuple[Any, str, str]]:
    from ghl_ai.adapters.dynamo import LeadStore
    from ghl_ai.adapters.queue import JobQueue
    from ghl_ai.churn.sweep import ChurnSweep

    return [
        (ChurnSweep, "run", "ChurnSweep.run (the page loop, day check)"),
        (LeadStore, "page", "LeadStore.page (from_item of a page, excl. AWS)"),
        (ChurnSweep, "_fan_out", "ChurnSweep._fan_out (ChurnChunkJob JSON)"),
        (JobQueue, "send_many", "JobQueue.send_many (excl. AWS)"),
    ]


def score_targets() -> list[tuple[Any, str, str]]:
    from functions.churn_score import app as churn_score_app
    from ghl_ai.adapters.dynamo import LeadStore
    from ghl_ai.adapters.ghl import GhlClient
    from ghl_ai.churn import risk
    from ghl_ai.churn.risk import ChurnPredictor, ChurnRisk
    from ghl_ai.churn.score import ChurnScorer
    from ghl_ai.workflows.triggers import WorkflowStarter
    from ghl_models.churn import ChurnModel

    return [
        (churn_score_app, "process_partial_response", "Powertools BatchProcessor (batch glue)"),
        (churn_score_app, "record_handler", "record_handler (job JSON, summarise, log)"),
        (ChurnScorer, "handle", "ChurnScorer.handle (its loop, outcomes)"),
        (LeadStore, "get_many", "LeadStore.get_many (from_item of the chunk, excl. AWS)"),
        (ChurnScorer, "_activity", "ChurnScorer._activity (Activity.from_state)"),
        (ChurnPredictor, "predict", "ChurnPredictor.predict (tiers, reasons, ChurnRisk)"),
        (risk, "matrix", "activity.matrix (features + BG/NBD counts)"),
        (ChurnModel, "probability", "ChurnModel.probability (3 horizons)"),
        (ChurnPredictor, "_contributions", "ChurnPredictor._contributions (reason groups)"),
        (ChurnScorer, "_apply", "ChurnScorer._apply (decisions, write-back, plays)"),
        (GhlClient, "_request", "GhlClient._request (client side, excl. HTTP send)"),
        (WorkflowStarter, "fire", "WorkflowStarter.fire (excl. AWS)"),
        (ChurnRisk, "as_state", "ChurnRisk.as_state"),
        (LeadStore, "save_churn", "LeadStore.save_churn (serialise, excl. AWS)"),
    ]


def _breakdown(profiler: Any, leads: int) -> dict[str, Any]:
    steps = {k: v / 1e3 / max(leads, 1) for k, v in profiler.exclusive_ns.items()}
    return {
        "leads": leads,
        "note": "us per lead, exclusive: a step's wall time minus AWS / GHL HTTP time minus "
        "the own time of wrapped steps inside it",
        "steps_us_per_lead": {
            k: round(v, 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])
        },
        "calls": dict(sorted(profiler.calls.items())),
    }


def run_shard(cfg: dict[str, Any]) -> dict[str, Any]:
    """One shard of part 1, in a fresh process (``spawn``): its own moto, GHL stand-in and
    leads; the sweep handler once, the score handler on every chunk it queued, then the
    naive baseline's leads. Returns raw sums (see :meth:`Phase.as_raw`)."""
    os.environ.update(BASE_ENV)
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    _paths()
    import boto3
    from moto import mock_aws

    from bench.scoring import behaviour_event
    from bench.worker import HttpTimer, StepProfiler
    from functions.churn_score import app as churn_score_app
    from functions.churn_sweep import app as churn_sweep_app
    from ghl_ai.adapters.dynamo import BehaviourEventStore
    from ghl_ai.churn.risk import ChurnPredictor
    from ghl_ai.churn.score import ChurnScorer
    from ghl_ai.churn.sweep import sweep_day
    from ghl_ai.jobs import ChurnChunkJob
    from ghl_models import churn_models
    from local.apigw import LambdaContext
    from local.ghl_standin import GhlStandIn
    from local.template import create_resources, create_tables, load_template

    shard, shards = cfg["shard"], cfg["shards"]
    tag = f"shard {shard + 1}/{shards}: "
    template = load_template()
    aws = AwsCallTimer()
    http = HttpTimer(aws)
    meter = StorageMeter(freeze_heap=True)
    invoke = Invoker(aws, http, meter)
    saved_env = dict(os.environ)
    outcomes: list[list[Any]] = []
    original_handle = ChurnScorer.handle

    def capturing(scorer: Any, job: Any) -> Any:
        result = original_handle(scorer, job)
        outcomes.append(result)
        return result

    with (
        mock_aws(),
        meter.installed(),  # inside the AWS timer's wrapper: counted in AWS time
        aws.installed(),
        http.installed(),
        stdout_to_devnull(),
        GhlStandIn() as ghl,
    ):
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        resources = create_resources(dynamodb, sqs, template)
        env = _function_env(template, resources, ghl.base_url)
        predictor = ChurnPredictor(churn_models(LOCATION_ID))
        now = datetime.now(UTC)
        leads_table = resources.tables["LeadsTable"]
        _progress(f"{tag}generating and storing {cfg['leads']:,} leads ...")
        pop = populate(
            dynamodb,
            leads_table,
            ghl,
            predictor,
            count=cfg["leads"],
            seed=cfg["seed"],
            now=now,
            label=tag,
        )
        os.environ.update(env)
        # A purge at most every 60 s is SQS's rule; here it stands for the workflow function.
        os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"
        _reset_apps()
        ChurnScorer.handle = capturing  # type: ignore[method-assign,assignment]
        gc.collect()
        gc.freeze()  # moto's tables are not the function's heap
        try:
            start = time.perf_counter()
            churn_sweep_app.deps()
            churn_score_app.deps()
            churn_score_app.predictor_for(LOCATION_ID)
            init_ms = (time.perf_counter() - start) * 1e3
            churn_url = resources.queue_urls["ChurnQueue"]
            churn_arn = resources.queue_arns["ChurnQueue"]
            workflow_url = resources.queue_urls["WorkflowQueue"]
            profiler = StepProfiler(lambda: aws.api_ns + http.ghl_ns)
            breakdown_invokes = cfg["breakdown_invokes"] if shard == 0 else 0

            # -- the sweep: one invoke, as the schedule does
            _progress(f"{tag}sweep ...")
            sweep = Phase()
            event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
            context = LambdaContext("ChurnSweepFunction", timeout_seconds=900)
            wrapped = profiler.wrapping(sweep_targets()) if breakdown_invokes else None
            with wrapped or contextlib.nullcontext():
                report = invoke(sweep, len(pop.contacts), churn_sweep_app.handler, event, context)
            sweep_breakdown = _breakdown(profiler, len(pop.contacts)) if wrapped else None

            # -- the chunks, ten per invoke (the event source mapping's BatchSize)
            score = Phase()
            queued_plays = 0
            number = 0
            breakdown_leads = 0
            score_start = time.perf_counter()
            profiler = StepProfiler(lambda: aws.api_ns + http.ghl_ns)
            while True:
                response = sqs.receive_message(
                    QueueUrl=churn_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
                )
                messages = response.get("Messages", [])
                if not messages:
                    break
                number += 1
                leads = sum(len(json.loads(m["Body"])["contacts"]) for m in messages)
                context = LambdaContext("ChurnScoreFunction", timeout_seconds=120)
                batch = sqs_batch_event(messages, churn_arn)
                if number <= breakdown_invokes:
                    with profiler.wrapping(score_targets()):
                        result = invoke(score, leads, churn_score_app.handler, batch, context)
                    breakdown_leads += leads
                else:
                    result = invoke(score, leads, churn_score_app.handler, batch, context)
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures") or []}
                done = [m for m in messages if m["MessageId"] not in failed]
                if done:
                    sqs.delete_message_batch(
                        QueueUrl=churn_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(done)
                        ],
                    )
                attributes = sqs.get_queue_attributes(
                    QueueUrl=workflow_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                queued_plays += int(attributes["ApproximateNumberOfMessages"])
                sqs.purge_queue(QueueUrl=workflow_url)
                if failed:
                    break  # would be retried; reported
                if number % 10 == 0:
                    _progress(
                        f"{tag}{score.leads:,} leads scored"
                        f" ({time.perf_counter() - score_start:.0f} s)"
                    )
            score_wall_s = time.perf_counter() - score_start

            score_breakdown = _breakdown(profiler, breakdown_leads) if breakdown_leads else None
            main_outcomes = [o for chunk in outcomes for o in chunk]
            outcomes.clear()

            # -- baseline: leads without a summary (their history is read), a chunk at a time
            baseline = Phase()
            base_pop = None
            if cfg["baseline_leads"]:
                _progress(f"{tag}baseline: {cfg['baseline_leads']:,} leads without a summary")
                base_pop = populate(
                    dynamodb,
                    leads_table,
                    ghl,
                    predictor,
                    count=cfg["baseline_leads"],
                    seed=cfg["seed"] + 50_000,
                    now=now,
                    summaries=False,
                    events_range=BASELINE_EVENTS,
                    label=f"{tag}baseline: ",
                )
                events_table = resources.tables["EventsTable"]
                events_only = {"Resources": {"EventsTable": template["Resources"]["EventsTable"]}}
                day = sweep_day(datetime.now(UTC))
                todo = [c for c in base_pop.contacts if c in base_pop.previous]
                gc.collect()
                gc.freeze()
                for start_i in range(0, len(todo), 100):
                    chunk = todo[start_i : start_i + 100]
                    items = [
                        BehaviourEventStore._item(behaviour_event(e, LOCATION_ID, contact))
                        for contact in chunk
                        for e in base_pop.histories[contact]
                    ]
                    for s in range(0, len(items), 25):
                        requests = [{"PutRequest": {"Item": i}} for i in items[s : s + 25]]
                        dynamodb.batch_write_item(RequestItems={events_table: requests})
                    job = ChurnChunkJob(
                        id=f"churn:{LOCATION_ID}:{day}:{chunk[0]}",
                        location_id=LOCATION_ID,
                        day=day,
                        contacts=chunk,
                    )
                    message = {
                        "MessageId": f"baseline-{start_i}",
                        "ReceiptHandle": f"baseline-{start_i}",
                        "Body": job.model_dump_json(),
                        "Attributes": {"ApproximateReceiveCount": "1"},
                    }
                    context = LambdaContext("ChurnScoreFunction", timeout_seconds=120)
                    batch = sqs_batch_event([message], churn_arn)
                    invoke(baseline, len(chunk), churn_score_app.handler, batch, context)
                    sqs.purge_queue(QueueUrl=workflow_url)
                    # The next chunk's events alone (moto's Query walks the whole table).
                    dynamodb.delete_table(TableName=events_table)
                    create_tables(dynamodb, events_only)
            base_outcomes = [o for chunk in outcomes for o in chunk]
        finally:
            ChurnScorer.handle = original_handle  # type: ignore[method-assign]
            gc.unfreeze()
            _reset_apps()
            os.environ.clear()
            os.environ.update(saved_env)

    tiers: Counter[str] = Counter()
    details: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    plays = written = 0
    for o in main_outcomes:
        if o.tier is None:
            details[o.detail or "skipped"] += 1
            continue
        tiers[o.tier] += 1
        plays += len(o.plays)
        written += bool(o.written)
        if o.detail:
            details[o.detail.split(":")[0]] += 1
        before = pop.previous.get(o.contact_id, "?")
        if before != o.tier:
            transitions[f"{before or 'new'} -> {o.tier}"] += 1
    expected = len(pop.previous)
    unexpected = []
    if report.get("leads") != expected:
        unexpected.append(f"sweep queued {report.get('leads')} leads, expected {expected}")
    if report.get("already_scored") != pop.kinds["already scored today"]:
        unexpected.append(f"sweep skipped {report.get('already_scored')} leads")
    if sum(tiers.values()) != expected:
        unexpected.append(f"{sum(tiers.values())} leads scored, expected {expected}")
    if queued_plays != plays:
        unexpected.append(f"{queued_plays} workflow starts queued, {plays} plays reported")
    if score.failures or baseline.failures:
        unexpected.append(f"batch item failures: {score.failures} + {baseline.failures}")
    base_scored = sum(1 for o in base_outcomes if o.tier is not None)
    if base_pop is not None and base_scored != len(base_pop.previous):
        unexpected.append(f"baseline: {base_scored} of {len(base_pop.previous)} scored")
    return {
        "shard": shard,
        "population": pop.describe(),
        "setup_s": round(pop.setup_s, 1),
        "init_ms": round(init_ms, 1),
        "report": report,
        "sweep": sweep.as_raw(),
        "score": score.as_raw(),
        "score_wall_s": round(score_wall_s, 1),
        "baseline": baseline.as_raw(),
        "baseline_population": base_pop.describe() if base_pop else None,
        "outcomes": {
            "tiers": dict(tiers),
            "plays": plays,
            "workflow_starts_queued": queued_plays,
            "ghl_written": written,
            "details": dict(details),
            "transitions": dict(transitions),
        },
        "unexpected": unexpected,
        "sweep_breakdown": sweep_breakdown,
        "score_breakdown": score_breakdown,
        "peak_rss_mb": _rss_mb(),
    }


def run_sweep(args: argparse.Namespace) -> dict[str, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shards = max(1, min(args.churn_shards, args.churn_leads // 100 or 1))
    per = [args.churn_leads // shards + (i < args.churn_leads % shards) for i in range(shards)]
    wanted = args.churn_baseline_leads
    base = [wanted // shards + (i < wanted % shards) for i in range(shards)]
    configs = [
        {
            "shard": i,
            "shards": shards,
            "leads": per[i],
            "baseline_leads": base[i],
            "seed": args.seed + 7919 * (i + 1),
            "breakdown_invokes": BREAKDOWN_INVOKES,
        }
        for i in range(shards)
    ]
    started = time.perf_counter()
    watch = CpuWatch()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=shards, mp_context=context) as pool:
        results = list(pool.map(run_shard, configs))
    wall = time.perf_counter() - started
    cpu = watch.result()

    sweep, score, baseline = Phase(), Phase(), Phase()
    for r in results:
        sweep.add(Phase.from_raw(r["sweep"]))
        score.add(Phase.from_raw(r["score"]))
        baseline.add(Phase.from_raw(r["baseline"]))
    total = Phase()
    total.add(sweep)
    total.add(score)
    total.leads = sweep.leads  # every lead paged once; the scored ones once more

    def added(key: str) -> dict[str, Any]:
        out: Counter[str] = Counter()
        for r in results:
            out.update(r["outcomes"][key])
        return dict(out.most_common())

    def population(key: str) -> dict[str, Any]:
        kinds: Counter[str] = Counter()
        flags: Counter[str] = Counter()
        tiers: Counter[str] = Counter()
        for r in results:
            p = r[key]
            if p:
                kinds.update(p["kinds"])
                flags.update(p["flags"])
                tiers.update(p["yesterday_tiers"])
        first = results[0][key] or {}
        return {
            "leads": sum((r[key] or {}).get("leads", 0) for r in results),
            "kinds": dict(kinds.most_common()),
            "flags": dict(flags.most_common()),
            "yesterday_tiers": dict(tiers.most_common()),
            "events_total": sum(
                (r[key] or {}).get("events_per_lead", {}).get("total", 0) for r in results
            ),
            "shard_0": first,
        }

    reports: Counter[str] = Counter()
    for r in results:
        reports.update(
            {k: v for k, v in r["report"].items() if isinstance(v, int) and k != "locations"}
        )
    return {
        "leads": args.churn_leads,
        "shards": shards,
        "wall_s": round(wall, 1),
        "cpu": cpu,
        "shard_setup_s": [r["setup_s"] for r in results],
        "shard_score_wall_s": [r["score_wall_s"] for r in results],
        "shard_peak_rss_mb": [r["peak_rss_mb"] for r in results],
        "init_ms": [r["init_ms"] for r in results],
        "population": population("population"),
        "sweep_report": dict(reports),
        "sweep": sweep.as_json(),
        "score": score.as_json(),
        "total": total.as_json(),
        "outcomes": {
            "tiers": added("tiers"),
            "plays": sum(r["outcomes"]["plays"] for r in results),
            "workflow_starts_queued": sum(r["outcomes"]["workflow_starts_queued"] for r in results),
            "ghl_written": sum(r["outcomes"]["ghl_written"] for r in results),
            "details": added("details"),
            "transitions": added("transitions"),
        },
        "baseline": baseline.as_json(),
        "baseline_population": population("baseline_population"),
        "unexpected": [f"shard {r['shard']}: {u}" for r in results for u in r["unexpected"]],
        "sweep_breakdown": results[0]["sweep_breakdown"],
        "score_breakdown": results[0]["score_breakdown"],
    }


# --------------------------------------------------------------------------------- 2. predict


def recency_rule(activities: list[Any], at: float) -> list[str]:
    """The baseline: a tier from the days since the last engagement alone."""
    out = []
    for a in activities:
        days = a.recency_days(at)
        out.append(next((tier for limit, tier in RECENCY_TIERS if days >= limit), "low"))
    return out


def run_predict(args: argparse.Namespace) -> dict[str, Any]:
    from ghl_ai.churn.activity import Activity, matrix
    from ghl_ai.churn.risk import ChurnPredictor
    from ghl_ai_cli.synthetic import Config, generate
    from ghl_models import churn_models

    n = args.churn_predict_leads
    _progress(f"per-lead cost: generating {n:,} leads ...")
    start = time.perf_counter()
    log = generate(Config(leads=n, days=DAYS, seed=args.seed + 41))
    streams = list(log.streams().values())
    del log
    activities = [a for s in streams if (a := Activity.of(s, float(s.t[-1]))) is not None]
    states = [a.as_state() for a in activities]
    setup_s = time.perf_counter() - start
    at = datetime.now(UTC).timestamp()
    predictor = ChurnPredictor(churn_models(LOCATION_ID))
    chunks = [activities[i : i + 100] for i in range(0, len(activities), 100)]
    state_chunks = [states[i : i + 100] for i in range(0, len(states), 100)]
    passes = 3

    def per_lead_us(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
        out: list[float] = []
        for _ in range(passes):
            out += [v * 1e3 / 100 for v in timed_each(fn, items, items[:5])]
        return out

    _progress(f"per-lead cost: chunks of 100 ({len(chunks)} chunks x {passes} passes)")
    predict_us = per_lead_us(lambda c: predictor.predict(c, at), chunks)
    matrix_us = per_lead_us(lambda c: matrix(c, at), chunks)
    rule_us = per_lead_us(lambda c: recency_rule(c, at), chunks)
    from_state_us = per_lead_us(lambda c: [Activity.from_state(s) for s in c], state_chunks)

    def whole(fn: Callable[[], Any]) -> dict[str, Any]:
        fn()
        runs = []
        for _ in range(3):
            t0 = time.perf_counter_ns()
            fn()
            runs.append(ms(time.perf_counter_ns() - t0))
        median = statistics.median(runs)
        return {
            "median_ms": round(median, 1),
            "min_ms": round(min(runs), 1),
            "per_lead_us": round(median * 1e3 / len(activities), 2),
        }

    _progress(f"per-lead cost: {len(activities):,} leads at once")
    all_predict = whole(lambda: predictor.predict(activities, at))
    all_matrix = whole(lambda: matrix(activities, at))
    all_rule = whole(lambda: recency_rule(activities, at))
    risks = predictor.predict(activities, at)
    rule = recency_rule(activities, at)
    tiers = Counter(r.tier for r in risks)
    agree = sum(r.tier == t for r, t in zip(risks, rule, strict=True))
    examples = {}
    for r, a in zip(risks, activities, strict=True):
        if r.tier not in examples:
            examples[r.tier] = {
                "d7": round(r.d7, 3),
                "d14": round(r.d14, 3),
                "d30": round(r.d30, 3),
                "days_since_last_engagement": round(a.recency_days(at), 1),
                "reasons": r.reasons,
            }
    return {
        "leads": len(activities),
        "setup_s": round(setup_s, 1),
        "model_version": predictor.version,
        "chunk_predict_us_per_lead": summary(predict_us),
        "chunk_matrix_us_per_lead": summary(matrix_us),
        "chunk_rule_us_per_lead": summary(rule_us),
        "chunk_from_state_us_per_lead": summary(from_state_us),
        "all_predict": all_predict,
        "all_matrix": all_matrix,
        "all_rule": all_rule,
        "tiers": dict(tiers.most_common()),
        "rule_agrees_with_model_share": round(agree / len(activities), 3),
        "d7_ge_d14_ge_d30": all(r.d7 >= r.d14 >= r.d30 for r in risks),
        "examples": {
            t: examples[t] for t in ("low", "medium", "high", "critical") if t in examples
        },
    }


# --------------------------------------------------------------------------------- 3. e2e


def run_end_to_end(args: argparse.Namespace) -> dict[str, Any]:
    """The sweep of ``--churn-e2e-leads`` leads against moto in server mode (as ``make run``)."""
    import logging
    import socket

    from bench.worker import HttpTimer
    from functions.churn_score import app as churn_score_app
    from functions.churn_sweep import app as churn_sweep_app
    from ghl_ai.churn.risk import ChurnPredictor
    from ghl_models import churn_models
    from local.apigw import LambdaContext
    from local.ghl_standin import GhlStandIn
    from local.sqs_runner import QueueConsumer
    from local.template import create_resources, load_template

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    saved_env = dict(os.environ)
    aws = AwsCallTimer()
    http = HttpTimer(aws)
    meter = StorageMeter()
    template = load_template()
    n = args.churn_e2e_leads
    server.start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        import boto3

        with (
            meter.installed(),
            aws.installed(),
            http.installed(),
            stdout_to_devnull(),
            GhlStandIn() as ghl,
        ):
            dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
            resources = create_resources(dynamodb, sqs, template)
            _progress(f"end to end: storing {n:,} leads in the moto server ...")
            pop = populate(
                dynamodb,
                resources.tables["LeadsTable"],
                ghl,
                ChurnPredictor(churn_models(LOCATION_ID)),
                count=n,
                seed=args.seed + 97,
                now=datetime.now(UTC),
                label="end to end: ",
            )
            os.environ.update(_function_env(template, resources, ghl.base_url))
            _reset_apps()
            event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
            consumer = QueueConsumer(
                sqs,
                resources.queue_urls["ChurnQueue"],
                resources.queue_arns["ChurnQueue"],
                churn_score_app.handler,
                function_name="ChurnScoreFunction",
                batch_size=10,
            )
            aws.reset()
            meter.reset()
            http.reset()
            ghl_before = len(ghl.calls)
            _progress("end to end: sweep + scoring every chunk ...")
            start = time.perf_counter_ns()
            report = churn_sweep_app.handler(event, LambdaContext("ChurnSweepFunction", 900))
            swept = time.perf_counter_ns()
            batches = consumer.drain(max_batches=10**6)
            end = time.perf_counter_ns()
            total_ns, api_ns, ghl_ns = end - start, aws.api_ns, http.ghl_ns
            calls, items = Counter(meter.calls), Counter(meter.items)
            ghl_calls = len(ghl.calls) - ghl_before
            _progress("end to end: re-run of the sweep the same day ...")
            again_start = time.perf_counter_ns()
            again = churn_sweep_app.handler(event, LambdaContext("ChurnSweepFunction", 900))
            again_ms = ms(time.perf_counter_ns() - again_start)
    finally:
        _reset_apps()
        os.environ.clear()
        os.environ.update(saved_env)
        server.stop()
    received = sum(b.received for b in batches)
    failed = sum(b.failed for b in batches)
    unexpected = []
    if report["leads"] != len(pop.previous):
        unexpected.append(f"queued {report['leads']}, expected {len(pop.previous)}")
    if failed:
        unexpected.append(f"{failed} chunks failed")
    if again["leads"] != 0:
        unexpected.append(f"the re-run queued {again['leads']} leads")
    return {
        "leads": n,
        "setup_s": round(pop.setup_s, 1),
        "report": report,
        "wall_s": round(total_ns / 1e9, 2),
        "sweep_wall_s": round((swept - start) / 1e9, 2),
        "scoring_wall_s": round((end - swept) / 1e9, 2),
        "leads_per_s": round(n / (total_ns / 1e9), 1),
        "aws_s": round(api_ns / 1e9, 2),
        "ghl_http_s": round(ghl_ns / 1e9, 2),
        "own_work_s": round((total_ns - api_ns - ghl_ns) / 1e9, 2),
        "aws_calls": dict(sorted(calls.items())),
        "items_read": dict(sorted((k, v) for k, v in items.items() if v)),
        "ghl_calls": ghl_calls,
        "batches": len(batches),
        "chunks_received": received,
        "chunks_failed": failed,
        "rerun": {"report": again, "wall_ms": round(again_ms, 1)},
        "unexpected": unexpected,
    }


# --------------------------------------------------------------------------------- 4. cold init

#: Runs in a fresh interpreter (as the other cold-init children: little imported before).
#: ``blocked``: top-level packages made unimportable (what the function's layers lack).
CHILD = r"""
import sys, time
import importlib, importlib.util, json
cfg = json.loads(sys.argv[1])
sys.path[:0] = cfg["sys_path"]
blocked = set(cfg.get("blocked", []))
if blocked:
    class Blocked:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Blocked())
out = {}
if cfg["kind"] == "handler":
    spec = importlib.util.spec_from_file_location(cfg["module"], cfg["path"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[cfg["module"]] = module
    start = time.perf_counter()
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        out["import_error"] = f"{type(exc).__name__}: {exc}"
        print("@@bench " + json.dumps(out))
        sys.exit(0)
    out["import_ms"] = (time.perf_counter() - start) * 1e3
    out["after_import"] = {m: m in sys.modules for m in cfg["watch"]}
    if cfg.get("models"):
        start = time.perf_counter()
        from ghl_models import churn_models
        from ghl_ai.churn.risk import ChurnPredictor
        ChurnPredictor(churn_models(cfg["location"]))
        out["model_ms"] = (time.perf_counter() - start) * 1e3
        out["after_model"] = {m: m in sys.modules for m in cfg["watch"]}
    out["modules_loaded"] = len(sys.modules)
else:
    start = time.perf_counter()
    importlib.import_module(cfg["module"])
    out["import_ms"] = (time.perf_counter() - start) * 1e3
print("@@bench " + json.dumps(out))
"""


def _child(cfg: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    return cold_child(CHILD, cfg, env)


def _layer_packages() -> dict[str, list[str]]:
    """What each optional layer ships that the shared layer and the runtime do not: the
    models layer's own package and its requirements (layers/models/requirements.txt)."""
    names = ["ghl_models"]
    for line in (MODELS_LAYER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0].lower().replace("-", "_"))
    return {"ModelsLayer": names}


def _layers(template: dict[str, Any], function: str) -> list[str]:
    from local.template import functions

    refs = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    refs = [*refs, *functions(template)[function].get("Layers", [])]
    return [r["Ref"] if isinstance(r, dict) else str(r) for r in refs]


def run_cold(args: argparse.Namespace) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from local.template import create_resources, handler_module_path, load_template

    template = load_template()
    with mock_aws():
        resources = create_resources(boto3.client("dynamodb"), boto3.client("sqs"), template)
        function_env = _function_env(template, resources, None)
    # As the other cold-init sections: dependencies from their .pyc, project code compiled.
    env = {**os.environ, **BASE_ENV, **function_env, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    runs = args.cold_runs
    subjects: dict[str, dict[str, Any]] = {}
    layers: dict[str, list[str]] = {}
    for function, models in (("ChurnScoreFunction", True), ("ChurnSweepFunction", False)):
        path, _ = handler_module_path(template, function)
        layers[function] = _layers(template, function)
        sys_path = [str(path.parent), str(ROOT), str(SHARED)]
        if "ModelsLayer" in layers[function]:
            sys_path.append(str(MODELS_LAYER))
        subjects[f"{function} ({path.relative_to(ROOT)})"] = {
            "kind": "handler",
            "function": function,
            "module": path.stem,
            "path": str(path),
            "sys_path": sys_path,
            "watch": list(WATCHED_MODULES),
            "models": models,
            "location": LOCATION_ID,
        }
    subjects["import boto3"] = {"kind": "module", "module": "boto3", "sys_path": []}
    subjects["import numpy"] = {"kind": "module", "module": "numpy", "sys_path": []}
    rows: dict[str, Any] = {}
    for name, cfg in subjects.items():
        _child(cfg, env)  # prime: .pyc files, the OS page cache; not counted
        outs, walls = [], []
        for i in range(runs):
            _progress(f"cold init {name} {i + 1}/{runs}")
            out, wall = _child(cfg, env)
            outs.append(out)
            walls.append(wall)
        imports = [o["import_ms"] for o in outs]
        row: dict[str, Any] = {
            "runs": runs,
            "import_median_ms": round(statistics.median(imports), 1),
            "import_min_ms": round(min(imports), 1),
            "process_wall_median_ms": round(statistics.median(walls), 1),
            "import_all_ms": [round(v, 1) for v in imports],
        }
        if cfg["kind"] == "handler":
            row["function"] = cfg["function"]
            row["layers"] = layers[cfg["function"]]
            row["modules_loaded"] = outs[0]["modules_loaded"]
            row["loaded_after_import"] = {
                m: any(o["after_import"][m] for o in outs) for m in WATCHED_MODULES
            }
            if cfg["models"]:
                with_model = [o["import_ms"] + o["model_ms"] for o in outs]
                row.update(
                    {
                        "model_load_median_ms": round(
                            statistics.median(o["model_ms"] for o in outs), 1
                        ),
                        "import_and_model_median_ms": round(statistics.median(with_model), 1),
                        "import_and_model_min_ms": round(min(with_model), 1),
                        "loaded_after_model": {
                            m: any(o["after_model"][m] for o in outs) for m in WATCHED_MODULES
                        },
                    }
                )
            # The layers check: what its layers lack is not importable on Lambda.
            provided = _layer_packages()
            blocked = sorted(
                {p for layer, pkgs in provided.items() if layer not in row["layers"] for p in pkgs}
            )
            check, _ = _child({**cfg, "blocked": blocked, "models": False}, env)
            row["layers_check"] = {
                "unimportable": blocked,
                "ok": "import_error" not in check,
                "error": check.get("import_error"),
            }
        rows[name] = row
    return {"rows": rows}


# --------------------------------------------------------------------------------- all


def run(args: argparse.Namespace) -> dict[str, Any]:
    _paths()
    started = time.perf_counter()
    # Timings are wall clock: other work on the machine inflates them (noted in the report).
    busy = _busy_share()
    _progress(
        f"1. sweep of {args.churn_leads:,} leads in {min(args.churn_shards, 64)} shard(s),"
        f" baseline {args.churn_baseline_leads:,} leads without a summary"
    )
    sweep = run_sweep(args)
    predict = run_predict(args)
    end_to_end = run_end_to_end(args)
    cold = run_cold(args)
    return {
        "sweep": sweep,
        "predict": predict,
        "end_to_end": end_to_end,
        "cold_init": cold,
        "peak_rss_mb_main": _rss_mb(),
        "cpu_busy_before": busy,
        "runtime_s": round(time.perf_counter() - started, 1),
    }


def _score_cold(r: dict[str, Any]) -> dict[str, Any]:
    return next(
        v for v in r["cold_init"]["rows"].values() if v.get("function") == "ChurnScoreFunction"
    )


def goals(r: dict[str, Any]) -> list[dict[str, Any]]:
    total = r["sweep"]["total"]
    own_ms = total["own_work_s"] * 1e3
    ok = not r["sweep"]["unexpected"] and not total["batch_item_failures"]
    cold = _score_cold(r)
    heavy = [m for m in HEAVY_MODULES if cold["loaded_after_model"].get(m)]
    cold_ms = cold["import_and_model_median_ms"]
    return [
        {
            "id": "churn_sweep_own_work_total",
            "name": f"churn sweep own work (sweep + scoring), {total['leads']:,} leads",
            "value_ms": round(own_ms, 1),
            "target_ms": GOAL_SWEEP_OWN_S * 1e3,
            "pass": own_ms < GOAL_SWEEP_OWN_S * 1e3 and ok,
        },
        {
            "id": "churn_score_cold_init_median",
            "name": "ChurnScoreFunction cold init (import + models) median"
            + (f"; heavy modules loaded: {', '.join(heavy)}" if heavy else ""),
            "value_ms": cold_ms,
            "target_ms": GOAL_COLD_MS,
            "pass": cold_ms < GOAL_COLD_MS and not heavy,
        },
    ]


# --------------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _named(values: dict[str, float]) -> str:
    """``service:Operation`` counts or times as ``Operation value, ...``."""
    return ", ".join(f"{k.split(':', 1)[-1]} {v:,g}" for k, v in values.items()) or "none"


def _phase_rows(name: str, p: dict[str, Any], mark: str = "") -> list[str]:
    return [
        f"  {name:<{LABEL}}{p['own_work_s']:>9.2f}{p['own_work_per_lead_us']:>10.1f}"
        f"{p['aws_s']:>9.1f}{p['ghl_http_s']:>8.2f}{p['aws_calls_per_lead_total']:>9.3f}"
        f"{p['items_read_per_lead']:>8.2f}  {mark}".rstrip()
    ]


def print_churn(r: dict[str, Any], number: str) -> None:
    s = r["sweep"]
    pop = s["population"]
    busy = r.get("cpu_busy_before")
    cpu = s.get("cpu") or {}
    other = cpu.get("other_share_of_one_core", 0.0)
    total, sweep, score, base = s["total"], s["sweep"], s["score"], s["baseline"]
    print()
    print(
        f"{number}a. Churn sweep of {s['leads']:,} leads: own work apart from storage calls"
        " (sweep + score handlers in process against moto, GHL stand-in on loopback)"
    )
    kinds = ", ".join(f"{k} {v:,}" for k, v in pop["kinds"].items())
    flags = ", ".join(f"{k} {v:,}" for k, v in pop["flags"].items())
    first = pop["shard_0"]
    d = first["days_since_last_engagement"]
    e = first["events_per_lead"]
    print(f"   leads (synthetic generator, {DAYS} days to midnight UTC): {kinds}; flags: {flags}")
    print(
        f"   shard 0: events per lead mean {e['mean']:g}, p50 {e['p50']:g}, p90 {e['p90']:g};"
        f" days since last engagement p25 {d['p25']:g}, p50 {d['p50']:g}, p75 {d['p75']:g},"
        f" p90 {d['p90']:g} ({d['over_30_days_share']:.0%} over 30 days)"
    )
    yt = ", ".join(f"{k} {v:,}" for k, v in pop["yesterday_tiers"].items())
    print(f"   yesterday's tiers (stored churn state): {yt}")
    print(
        f"   {s['shards']} shard(s) in parallel processes, each its own moto; setup"
        f" {', '.join(f'{v:g}' for v in s['shard_setup_s'])} s; scoring wall"
        f" {', '.join(f'{v:g}' for v in s['shard_score_wall_s'])} s; peak RSS"
        f" {', '.join(f'{v:,.0f}' for v in s['shard_peak_rss_mb'])} MB; part 1 wall"
        f" {s['wall_s']:g} s"
        + ("" if busy is None else f"; CPU busy before the section {busy:.0%}")
        + (
            f"; other processes' CPU during part 1: {cpu['other_cpu_s']:g} s"
            f" ({other:.0%} of a core)"
            if cpu
            else ""
        )
        + (
            " (OTHER WORK WAS RUNNING: timings inflated)"
            if (busy or 0) > 0.2 or other > 0.1
            else ""
        )
    )
    head = (
        f"  {'':<{LABEL}}{'own s':>9}{'us/lead':>10}{'AWS s':>9}{'GHL s':>8}"
        f"{'calls/ld':>9}{'read/ld':>8}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    ok = total["own_work_s"] < GOAL_SWEEP_OWN_S and not s["unexpected"]
    for line in _phase_rows(
        "sweep + scoring: TOTAL OWN WORK (total - AWS - GHL HTTP)",
        total,
        f"goal < {GOAL_SWEEP_OWN_S:g} s: {_verdict(ok)}",
    ):
        print(line)
    for line in _phase_rows(f"  sweep handler ({s['shards']} invoke(s): pages + fan-out)", sweep):
        print(line)
    for line in _phase_rows(f"  score handler ({score['invokes']} invokes of 10 chunks)", score):
        print(line)
    for line in _phase_rows(
        f"baseline: history re-read ({base['leads']:,} leads, 1 chunk/invoke)", base
    ):
        print(line)
    gc_total = total["gc_in_own_work_s"]
    print(
        f"   own work {total['own_work_s']:.2f} s = {total['leads_per_own_s']:,.0f} leads/s"
        f" ({total['own_work_excl_gc_per_lead_us']:.1f} us/lead without {gc_total:.2f} s of GC"
        f" pauses); handler total {total['total_s']:.1f} s, of which AWS"
        f" {total['aws_s']:.1f} s (moto {total['moto_emulation_s']:.1f} s) and GHL HTTP"
        f" {total['ghl_http_s']:.2f} s"
    )
    inv = score["invoke_own_work_ms"]
    print(
        f"   score invoke (10 chunks) own work ms: p50 {inv['p50']:.1f}, p90 {inv['p90']:.1f},"
        f" max {inv['max']:.1f};"
        f" deps() + models before timing {', '.join(f'{v:g}' for v in s['init_ms'])} ms"
    )
    print("   AWS calls per lead (summary design):")
    print(f"     sweep     {_named(sweep['aws_calls_per_lead'])}")
    print(f"     score     {_named(score['aws_calls_per_lead'])}")
    print(f"     baseline  {_named(base['aws_calls_per_lead'])}  (+ the sweep's)")
    print(
        f"   items read per lead: summary design {total['items_read_per_lead']:g}"
        f" ({_named(total['items_read'])}); baseline {base['items_read_per_lead']:g}"
        f" ({_named(base['items_read'])}) + the sweep's {sweep['items_read_per_lead']:g}"
    )
    naive = base["own_work_per_lead_us"] + sweep["own_work_per_lead_us"]
    summary_us = total["own_work_per_lead_us"]
    print(
        f"   own work per lead: summary design {summary_us:.1f} us, naive design"
        f" {naive:.1f} us (x{naive / max(summary_us, 1e-9):.1f}); at {s['leads']:,} leads the"
        f" naive design's own work would be {naive * s['leads'] / 1e6:.1f} s"
    )
    print(
        "   mean ms per AWS call, botocore + moto (not DynamoDB's):"
        f" {_named(total['aws_ms_per_call'])}; baseline {_named(base['aws_ms_per_call'])}"
    )
    o = s["outcomes"]
    tiers = ", ".join(f"{k} {v:,}" for k, v in o["tiers"].items())
    moves = ", ".join(f"{k} {v:,}" for k, v in list(o["transitions"].items())[:8])
    details = ", ".join(f"{k} {v:,}" for k, v in o["details"].items()) or "none"
    print(f"   today's tiers: {tiers}")
    print(f"   tier changes (GHL written for {o['ghl_written']:,}): {moves}")
    print(
        f"   plays started {o['plays']:,} (workflow starts queued {o['workflow_starts_queued']:,});"
        f" other outcomes: {details}; sweep report: "
        + ", ".join(f"{k} {v:,}" for k, v in s["sweep_report"].items())
    )
    ghl = ", ".join(f"{k} {v:,}" for k, v in score["ghl_calls"].items()) or "none"
    print(f"   GHL calls: {ghl}")
    if s["unexpected"]:
        print(f"   UNEXPECTED: {s['unexpected']}")
    for title, bd in (("sweep", s.get("sweep_breakdown")), ("score", s.get("score_breakdown"))):
        if not bd:
            continue
        print(
            f"   own work by step, {title} (us per lead, exclusive; shard 0,"
            f" {bd['leads']:,} leads with the steps wrapped):"
        )
        for step, value in bd["steps_us_per_lead"].items():
            if abs(value) >= 0.05:
                print(f"     {value:>8.2f}  {step}")

    p = r["predict"]
    print()
    print(
        f"{number}b. Churn model cost per lead: ChurnPredictor.predict on {p['leads']:,}"
        f" synthetic leads' summaries (model {p['model_version']})"
    )
    head = f"  {'(us per lead, chunks of 100)':<{LABEL}}" + stat_header()[0][LABEL + 2 :]
    print(head)
    print(stat_header()[1])
    print(
        stat_row(
            "predict: 7/14/30-day probabilities, tiers, reasons", p["chunk_predict_us_per_lead"]
        )
    )
    print(stat_row("baseline: features only (activity.matrix)", p["chunk_matrix_us_per_lead"]))
    print(stat_row("baseline: recency-only rule", p["chunk_rule_us_per_lead"]))
    print(
        stat_row(
            "(scorer, before the model) Activity.from_state", p["chunk_from_state_us_per_lead"]
        )
    )
    head = f"  {'(all leads at once)':<{LABEL}}{'median ms':>11}{'min ms':>11}{'us/lead':>11}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for label, key in (
        ("predict", "all_predict"),
        ("baseline: features only (matrix)", "all_matrix"),
        ("baseline: recency-only rule", "all_rule"),
    ):
        v = p[key]
        print(
            f"  {label:<{LABEL}}{v['median_ms']:>11.1f}{v['min_ms']:>11.1f}"
            f"{v['per_lead_us']:>11.2f}"
        )
    tiers = ", ".join(f"{k} {v:,}" for k, v in p["tiers"].items())
    print(
        f"   tiers: {tiers}; the recency rule gives the model's tier to"
        f" {p['rule_agrees_with_model_share']:.0%}; d7 >= d14 >= d30 everywhere:"
        f" {p['d7_ge_d14_ge_d30']}"
    )
    for tier, ex in p["examples"].items():
        print(
            f"   {tier}: d30 {ex['d30']:g} ({ex['days_since_last_engagement']:g} days quiet):"
            f" {'; '.join(ex['reasons'])}"
        )

    x = r["end_to_end"]
    print()
    print(
        f"{number}c. Churn sweep end to end, {x['leads']:,} leads against the local AWS (moto"
        " server on loopback, as `make run`; local event source mapping; GHL stand-in)"
    )
    print(
        f"   wall {x['wall_s']:g} s = sweep {x['sweep_wall_s']:g} s + scoring"
        f" {x['chunks_received']} chunks in {x['batches']} batches {x['scoring_wall_s']:g} s"
        f" ({x['leads_per_s']:,.0f} leads/s; no goal: moto, not DynamoDB); of which AWS calls"
        f" {x['aws_s']:g} s, GHL HTTP {x['ghl_http_s']:g} s, own work {x['own_work_s']:g} s"
    )
    print(
        f"   AWS calls: {_named(x['aws_calls'])}; items read: {_named(x['items_read'])};"
        f" GHL calls {x['ghl_calls']:,}; setup {x['setup_s']:g} s"
    )
    rr = x["rerun"]
    print(
        f"   re-run the same day: queued {rr['report']['leads']}, already scored"
        f" {rr['report']['already_scored']:,} ({rr['wall_ms']:.0f} ms)"
        + (f"; UNEXPECTED: {x['unexpected']}" if x["unexpected"] else "")
    )

    cold = r["cold_init"]["rows"]
    runs = next(iter(cold.values()))["runs"]
    print()
    print(
        f"{number}d. Churn functions' cold init: fresh interpreters, median/min of {runs}"
        " (no deps(); deps from .pyc, project code compiled from source; warm page cache)"
    )
    head = (
        f"  {'(ms)':<{LABEL}}{'import med':>11}{'import min':>11}{'+model med':>11}"
        f"{'+model min':>11}{'proc wall':>11}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for name, row in cold.items():
        if "import_and_model_median_ms" in row:
            ok = row["import_and_model_median_ms"] < GOAL_COLD_MS and not any(
                row["loaded_after_model"].get(m) for m in HEAVY_MODULES
            )
            print(
                f"  {name:<{LABEL}}{row['import_median_ms']:>11.1f}{row['import_min_ms']:>11.1f}"
                f"{row['import_and_model_median_ms']:>11.1f}{row['import_and_model_min_ms']:>11.1f}"
                f"{row['process_wall_median_ms']:>11.1f}"
                f"  goal import + models median < {GOAL_COLD_MS:g} ms: {_verdict(ok)}"
            )
        else:
            label = name if "function" in row else "baseline: " + name
            print(
                f"  {label:<{LABEL}}{row['import_median_ms']:>11.1f}"
                f"{row['import_min_ms']:>11.1f}{'-':>11}{'-':>11}"
                f"{row['process_wall_median_ms']:>11.1f}"
            )
    for row in cold.values():
        if "function" not in row:
            continue
        after = ", ".join(
            f"{m} {'YES' if v else 'no'}" for m, v in row["loaded_after_import"].items()
        )
        print(
            f"   {row['function']} (layers {', '.join(row['layers'])}): after the import: {after}"
        )
        if "loaded_after_model" in row:
            model = ", ".join(
                f"{m} {'YES' if row['loaded_after_model'][m] else 'no'}" for m in HEAVY_MODULES
            )
            clean = not any(row["loaded_after_model"][m] for m in HEAVY_MODULES)
            print(
                f"     models (churn_models + ChurnPredictor) median"
                f" {row['model_load_median_ms']:.1f} ms; after them: {model} -> {_verdict(clean)}"
            )
        lc = row["layers_check"]
        if lc["ok"]:
            print(
                f"     layers check (unimportable: {', '.join(lc['unimportable']) or 'nothing'}):"
                " imports"
            )
        else:
            print(
                f"     layers check (unimportable as on Lambda: {', '.join(lc['unimportable'])}):"
                f" IMPORT FAILS: {lc['error']}"
            )
