"""Sending the workload as GHL and the website would.

Every lead talks at once: it sends its next move once our text for the last one arrived (seen
at the GHL stand-in) or, when none comes, after ``reply_timeout``; a moment of "typing" in
between. Deliveries are signed like GHL's and retried like GHL retries them — any non-2xx or a
timeout, up to 12 attempts with backoff — against one of the intake containers in turn; the
copies of a delivery go out as the workload says (at the same moment to another container,
seconds or tens of seconds later). Event batches are posted with the site key and resent like
the tracking script does.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from soak.workload import Delivery, EventBatch, Workload, payload

MAX_ATTEMPTS = 12
#: Share of a lead's texts followed by its next one at once (before our reply).
DOUBLE_TEXTS = 0.15
#: Answers GHL retries (and the tracking script resends on).
RETRIED = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def _can_bind(address: str) -> bool:
    import socket

    try:
        with socket.socket() as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


@dataclass
class LeadRun:
    index: int
    next: int = 0
    waiting: bool = False
    token: int = 0
    sms_seen: int = 0
    sms_at_send: int = 0
    waiting_since: float = 0.0
    done: bool = False
    finished: float = 0.0


@dataclass
class Progress:
    accepted: int = 0
    sent: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)


class Driver:
    def __init__(
        self,
        workload: Workload,
        intake_urls: list[str],
        *,
        location_id: str,
        site_key: str,
        seed: int,
        say: Callable[[str], None],
        threads: int = 24,
        reply_timeout: float = 20.0,
        on_progress: Callable[[float], None] | None = None,
    ) -> None:
        self.w = workload
        self.urls = intake_urls
        self.location_id = location_id
        self.site_key = site_key
        self.seed = seed
        self.say = say
        self.reply_timeout = reply_timeout
        self.on_progress = on_progress
        self._rng = random.Random(seed + 11)
        self._rng_lock = threading.Lock()
        self._heap: list[tuple[float, int, Callable[[], None], bool]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._running = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._turn = itertools.count()
        self.runs = [LeadRun(i) for i in range(len(workload.leads))]
        self._by_contact: dict[str, LeadRun] = {}
        self.progress = Progress()
        self._threads = threads
        self._stop = threading.Event()
        self._unique_total = len(workload.unique)
        self._reported = 0
        self.double_texts = 0
        self.last_request = 0.0
        self._visitors: dict[int, httpx.Client] = {}
        self._own_addresses = _can_bind("127.0.1.2")
        #: Waits for our reply that ran out (the lead texted on without it).
        self.reply_timeouts = 0
        self.reply_waits: list[float] = []

    # -- the scheduler -----------------------------------------------------------------------
    def _rand(self, low: float, high: float) -> float:
        with self._rng_lock:
            return self._rng.uniform(low, high)

    def at(self, delay: float, task: Callable[[], None], *, timer: bool = False) -> None:
        """Run ``task`` in ``delay`` seconds. A ``timer`` (a wait for a reply that may be over
        before it fires) does not keep the soak's traffic going."""
        with self._cv:
            entry = (time.monotonic() + delay, next(self._seq), task, timer)
            heapq.heappush(self._heap, entry)
            self._cv.notify()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._cv:
                while not self._stop.is_set():
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, _, task, _ = heapq.heappop(self._heap)
                        self._running += 1
                        break
                    wait = self._heap[0][0] - now if self._heap else 0.5
                    self._cv.wait(min(wait, 0.5))
                else:
                    return
            try:
                task()
            except Exception as exc:  # a harness bug must not hang the soak
                self.say(f"  ! soak driver task failed: {type(exc).__name__}: {exc}")
            finally:
                with self._cv:
                    self._running -= 1
                    self._cv.notify_all()

    def _idle(self) -> bool:
        with self._cv:
            return self._running == 0 and all(timer for _, _, _, timer in self._heap)

    def run(self) -> None:
        for lead in self.w.leads:
            self._by_contact[lead.contact_id] = self.runs[lead.index]
        threads = [
            threading.Thread(target=self._loop, name=f"sender-{i}", daemon=True)
            for i in range(self._threads)
        ]
        for t in threads:
            t.start()
        for run in self.runs:
            self.at(self._rand(0.0, 2.0), functools.partial(self._advance, run))
        while True:
            time.sleep(0.25)
            if all(r.done for r in self.runs) and self._idle():
                break
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        for t in threads:
            t.join(timeout=5)

    # -- leads -------------------------------------------------------------------------------
    def on_sms(self, contact_id: str) -> None:
        """Our text reached a lead (the GHL stand-in carried it out)."""
        run = self._by_contact.get(contact_id)
        if run is None:
            return
        with self._lock:
            run.sms_seen += 1
            if not run.waiting:
                return
            run.waiting = False
            run.token += 1
            self.reply_waits.append(time.monotonic() - run.waiting_since)
        self.at(self._rand(0.05, 0.4), lambda: self._advance(run))

    def _advance(self, run: LeadRun) -> None:
        plan = self.w.plans[run.index]
        with self._lock:
            if run.next >= len(plan):
                run.done = True
                run.finished = time.monotonic() - self.progress.started
                return
            step = plan[run.next]
            run.next += 1
            run.sms_at_send = run.sms_seen
        if step.delivery is not None:
            self._send_unique(self.w.deliveries[step.delivery], run)
        else:
            assert step.batch is not None
            self._send_batch(self.w.batches[step.batch], run)

    def _after(self, run: LeadRun, delivery: Delivery | None) -> None:
        """The lead's move was taken (or refused for good): wait for our text, or go on. Now
        and then a lead texts twice in a row without waiting (its two texts are then worked at
        the same time)."""
        owed = delivery is not None and delivery.type in ("InboundMessage", "ContactCreate")
        if owed and delivery is not None and delivery.type == "InboundMessage":
            plan = self.w.plans[run.index]
            following = plan[run.next].delivery if run.next < len(plan) else None
            texts_again = (
                following is not None and self.w.deliveries[following].type == "InboundMessage"
            )
            if texts_again and self._rand(0.0, 1.0) < DOUBLE_TEXTS:
                with self._lock:
                    self.double_texts += 1
                self.at(self._rand(0.3, 2.0), lambda: self._advance(run))
                return
        with self._lock:
            if owed and delivery is not None and delivery.status and delivery.status < 300:
                if run.sms_seen > run.sms_at_send:
                    run.waiting = False
                else:
                    run.waiting = True
                    run.waiting_since = time.monotonic()
                    run.token += 1
                    token = run.token
                    self.at(self.reply_timeout, lambda: self._reply_timeout(run, token), timer=True)
                    return
        self.at(self._rand(0.05, 0.4), lambda: self._advance(run))

    def _reply_timeout(self, run: LeadRun, token: int) -> None:
        with self._lock:
            if not run.waiting or run.token != token:
                return
            run.waiting = False
            self.reply_timeouts += 1
        self._advance(run)

    # -- webhooks ----------------------------------------------------------------------------
    def _client(self) -> httpx.Client:
        """GHL's side: its webhook senders, one connection pool per sending thread."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(timeout=30.0)
            self._local.client = client
        return client

    def _visitor(self, lead: int) -> httpx.Client:
        """The lead's own browser: its own address (127.0.x.y; all of 127/8 is loopback on
        Linux), so per-client limits see a visitor, not the whole soak as one client."""
        with self._lock:
            client = self._visitors.get(lead)
            if client is None:
                address = (
                    f"127.0.{1 + lead // 250}.{2 + lead % 250}" if self._own_addresses else None
                )
                transport = httpx.HTTPTransport(local_address=address) if address else None
                client = httpx.Client(timeout=30.0, transport=transport)
                self._visitors[lead] = client
            return client

    def _build(self, delivery: Delivery) -> None:
        from local import devkeys

        lead = self.w.leads[delivery.lead]
        if delivery.copy_of is None:
            body = payload(delivery, lead, self.location_id, self.seed)
        else:
            original = self.w.deliveries[delivery.copy_of]
            assert original.raw is not None
            if delivery.mode != "new webhook id":
                delivery.raw, delivery.signature = original.raw, original.signature
                delivery.webhook_id, delivery.message_id = original.webhook_id, original.message_id
                return
            body = json.loads(original.raw)
            body["webhookId"] = f"wh-{self.seed}-{delivery.number:06d}-again"
        delivery.raw = json.dumps(body, separators=(",", ":")).encode()
        delivery.signature = devkeys.sign(delivery.raw)
        delivery.webhook_id = str(body.get("webhookId"))
        delivery.message_id = body.get("messageId")

    def _send_unique(self, delivery: Delivery, run: LeadRun) -> None:
        self._build(delivery)
        copies = [self.w.deliveries[n] for n in self.w.copies_of.get(delivery.number, [])]
        together = [c for c in copies if c.mode == "concurrent"]
        for c in together:
            self._build(c)
        if together:
            # The copies race the original: the same body at the same moment, each to another
            # intake container.
            barrier = threading.Barrier(1 + len(together))
            first = next(self._turn)

            def racer(d: Delivery, k: int) -> None:
                barrier.wait()
                self._attempt(d, first + k, run if d is delivery else None)

            racers = [
                threading.Thread(target=racer, args=(d, k), daemon=True)
                for k, d in enumerate([delivery, *together])
            ]
            for t in racers:
                t.start()
            for t in racers:
                t.join()
        else:
            self._attempt(delivery, next(self._turn), run)
        for c in copies:
            if c.mode == "soon":
                self.at(self._rand(0.2, 3.0), functools.partial(self._first, c))
            elif c.mode == "late":
                self.at(self._rand(10.0, 40.0), functools.partial(self._first, c))
            elif c.mode == "new webhook id":
                self.at(self._rand(1.0, 5.0), functools.partial(self._first, c))

    def _first(self, delivery: Delivery) -> None:
        self._build(delivery)
        self._attempt(delivery, next(self._turn), None)

    def _attempt(self, delivery: Delivery, turn: int, run: LeadRun | None) -> None:
        assert delivery.raw is not None
        url = self.urls[turn % len(self.urls)] + "/webhooks/ghl"
        headers = {"content-type": "application/json", "x-ghl-signature": delivery.signature}
        result: int | str
        answer = ""
        try:
            response = self._client().post(url, content=delivery.raw, headers=headers)
            result = response.status_code
            if response.status_code < 300:
                answer = str(response.json().get("status", ""))
        except httpx.TransportError as exc:
            result = type(exc).__name__
        except ValueError:
            result, answer = 200, "unreadable answer"
        with self._lock:
            delivery.attempts.append(result)
            self.progress.sent += 1
            self.last_request = time.monotonic() - self.progress.started
        if isinstance(result, int) and result < 300:
            delivery.status, delivery.answer = result, answer
            delivery.accepted_at = time.monotonic()
            if delivery.copy_of is None:
                self._accepted()
            if run is not None:
                self._after(run, delivery)
            return
        retried = not isinstance(result, int) or result in RETRIED
        if retried and len(delivery.attempts) < MAX_ATTEMPTS:
            wait = min(10.0, 0.5 * 2 ** (len(delivery.attempts) - 1)) * self._rand(0.5, 1.0)
            self.at(wait, lambda: self._attempt(delivery, next(self._turn), run))
            return
        delivery.status = result if isinstance(result, int) else 0
        delivery.answer = "refused" if not retried else "gave up"
        if delivery.copy_of is None:
            self._accepted()
        if run is not None:
            self._after(run, delivery)

    def _accepted(self) -> None:
        with self._lock:
            self.progress.accepted += 1
            done = self.progress.accepted
        if self.on_progress is not None:
            self.on_progress(done / self._unique_total)
        step = max(1, self._unique_total // 10)
        if done // step > self._reported and done < self._unique_total:
            self._reported = done // step
            elapsed = time.monotonic() - self.progress.started
            self.say(
                f"  {done:,} of {self._unique_total:,} unique deliveries taken "
                f"({self.progress.sent:,} requests) after {elapsed:.0f} s"
            )

    # -- website events ----------------------------------------------------------------------
    def _send_batch(self, batch: EventBatch, run: LeadRun | None) -> None:
        contact = self.w.leads[batch.lead].contact_id
        events = [
            {k: (contact if v == "{contact}" else v) for k, v in e.items()} for e in batch.events
        ]
        body = json.dumps({"events": events}, separators=(",", ":")).encode()
        self._post_batch(batch, body, run)

    def _post_batch(self, batch: EventBatch, body: bytes, run: LeadRun | None) -> None:
        url = self.urls[next(self._turn) % len(self.urls)] + "/events"
        headers = {"content-type": "application/json", "x-site-key": self.site_key}
        result: int | str
        data: dict[str, Any] = {}
        try:
            response = self._visitor(batch.lead).post(url, content=body, headers=headers)
            result = response.status_code
            if response.status_code in (202, 422):
                data = response.json()
        except httpx.TransportError as exc:
            result = type(exc).__name__
        except ValueError:
            result = "unreadable answer"
        with self._lock:
            batch.attempts.append(result)
        if result in (202, 422):
            batch.status = int(result)
            batch.accepted = int(data.get("accepted", 0))
            batch.duplicates = int(data.get("duplicates", 0))
            with self._lock:
                self.progress.batches += 1
            for n in self.w.batch_copies_of.get(batch.number, []):
                copy = self.w.batches[n]
                self.at(
                    self._rand(1.0, 10.0), functools.partial(self._post_batch, copy, body, None)
                )
            if run is not None:
                self.at(self._rand(0.05, 0.4), lambda: self._advance(run))
            return
        retried = not isinstance(result, int) or result in RETRIED
        if retried and len(batch.attempts) < MAX_ATTEMPTS:
            wait = min(10.0, 0.5 * 2 ** (len(batch.attempts) - 1)) * self._rand(0.5, 1.0)
            self.at(wait, lambda: self._post_batch(batch, body, run))
            return
        batch.status = result if isinstance(result, int) else 0
        if run is not None:
            self.at(0.1, lambda: self._advance(run))
