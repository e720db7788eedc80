"""``make soak``: the local stack with faults injected at its edges, driven by GHL webhook
deliveries (with the duplicates GHL sends), website events and the workflow steps they start;
then it checks, prints and asserts what must hold under those faults.

    python -m soak --deliveries 10000 --leads 500 --seed 7

Faults, each at a stated rate (``--help``): GHL answers 429 with ``Retry-After``, 500, 502 /
503, or carries a call out and then times out or drops the connection (local/ghl_standin.py);
Anthropic answers 500, 529 or times out (local/anthropic_standin.py); DynamoDB throttles
requests and SQS keeps a copy of deleted messages (local/faults.py, a proxy in front of moto).
Copies of one delivery race in two intake containers; leads now and then text twice before our
reply; worker containers are SIGKILLed in the middle of batches — at a random moment, and just
after GHL carried out one of their texts, before its answer reached them — and end at their
Lambda timeout when GHL or the model is slow; every dead container is started again
(soak/stack.py, soak/driver.py).

The checks (soak/verify.py): every delivery taken without a 5xx; exactly one reply per unique
inbound message and none for a duplicate; every accepted delivery in a terminal state
(processed, or in a DLQ whose alarm is raised); no event lost; no workflow step's effect carried
out twice, nor any other task, note, text or opportunity; no log line carrying a phone number,
email, message text, token or key (local/logscan.py), no stack trace. The exit status is 1 when
a check fails, and the report names it. Output in ``.local/soak/``: ``report.json``, every
container's log (``logs/``) and what the checks read (``state/``).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soak.stack import LOCATION_ID, ROOT, SoakStack, StackConfig

OUT = ROOT / ".local" / "soak"
#: The StackConfig fields that are fault rates (one option each).
FAULT_RATES = (
    "ghl_429",
    "ghl_500",
    "ghl_502_503",
    "ghl_timeout",
    "ghl_dropped",
    "anthropic_500",
    "anthropic_529",
    "anthropic_timeout",
    "dynamodb_throttle",
    "sqs_redeliver",
)


def _say(text: str = "") -> None:
    print(text, flush=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    d = StackConfig()
    p = argparse.ArgumentParser(prog="python -m soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--deliveries", type=int, default=10_000, help="webhook deliveries in all")
    p.add_argument("--leads", type=int, default=500)
    p.add_argument(
        "--duplicates", type=float, default=0.2, help="share of deliveries that copy one"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--kills", type=int, default=6, help="worker containers SIGKILLed mid-batch")
    p.add_argument("--intakes", type=int, default=d.intakes, help="intake containers")
    p.add_argument("--workers", type=int, default=d.workers, help="worker containers")
    p.add_argument("--scorers", type=int, default=d.scorers, help="ScoringFunction containers")
    p.add_argument("--function-timeout", type=float, default=d.function_timeout)
    p.add_argument("--visibility-timeout", type=int, default=d.visibility_timeout)
    p.add_argument("--time-scale", type=float, default=d.time_scale, help="workflow waits")
    p.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait at the end")
    p.add_argument("--out", type=Path, default=OUT)
    for name in FAULT_RATES:
        flag = "--" + name.replace("_", "-")
        p.add_argument(flag, type=float, default=getattr(d, name), help="fault rate")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # A terminated soak still stops its stack (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from local import demo_catalogue, devkeys
    from soak import verify
    from soak.driver import Driver
    from soak.workload import build

    started = time.monotonic()
    config = StackConfig(
        intakes=args.intakes,
        workers=args.workers,
        scorers=args.scorers,
        function_timeout=args.function_timeout,
        visibility_timeout=args.visibility_timeout,
        time_scale=args.time_scale,
        seed=args.seed,
        **{name: getattr(args, name) for name in FAULT_RATES},
    )
    now = datetime.now(UTC)
    listings = [r for r in demo_catalogue.records(now) if "BedroomsTotal" in r]  # homes, not land
    workload = build(
        deliveries=args.deliveries,
        leads=args.leads,
        duplicates=args.duplicates,
        seed=args.seed,
        listings=listings,
        now=now,
    )
    _say(
        f"soak: {args.deliveries:,} deliveries ({len(workload.unique):,} unique, "
        f"{len(workload.copies):,} copies) across {args.leads} leads, "
        f"{len(workload.batches):,} event batches; seed {args.seed}; output {args.out}"
    )
    stack = SoakStack(config, args.out, _say)
    try:
        _say("soak: starting the stack (moto, fault proxy, stand-ins, one process per container)")
        stack.start()
        demo_catalogue.load(
            stack.dynamodb, stack.resources.tables["ListingsTable"], LOCATION_ID, now
        )
        for lead in workload.leads:
            contact = stack.ghl.seed_contact(
                LOCATION_ID,
                firstName=lead.first_name,
                lastName=lead.last_name,
                name=f"{lead.first_name} {lead.last_name}",
                phone=lead.phone,
                email=lead.email,
                tags=["website lead"],
            )
            lead.contact_id = str(contact["id"])
        import httpx

        for url in stack.intake_urls:  # the first request of a container pays its cold start
            httpx.get(f"{url}/health", timeout=120)
        setup = time.monotonic() - started
        _say(f"soak: stack up in {setup:.0f} s; sending")

        kill_points = [(i + 1) / (args.kills + 1) for i in range(args.kills)]
        kill_lock = threading.Lock()

        def on_progress(fraction: float) -> None:
            with kill_lock:
                if not kill_points or fraction < kill_points[0]:
                    return
                kill_points.pop(0)
                number = args.kills - len(kill_points)
            if number % 2:
                stack.kill_at_next_send()
            else:
                threading.Thread(target=stack.kill_mid_batch, daemon=True).start()

        driver = Driver(
            workload,
            stack.intake_urls,
            reply_timeout=60.0,
            location_id=LOCATION_ID,
            site_key=devkeys.SITE_KEY,
            seed=args.seed,
            say=_say,
            on_progress=on_progress,
        )
        stack.on_sms = driver.on_sms
        traffic_started = time.monotonic()
        driver.run()
        traffic = time.monotonic() - traffic_started
        _say(f"soak: traffic done in {traffic:.0f} s; waiting for the stack to settle")
        drain_started = time.monotonic()
        settled = verify.wait_until_settled(stack, args.drain_timeout, _say)
        drain = time.monotonic() - drain_started
        timings: dict[str, Any] = {
            "setup_s": round(setup, 1),
            "traffic_s": round(traffic, 1),
            "drain_s": round(drain, 1),
            "settled": settled,
        }
        report = verify.check(stack, workload, driver, timings)
    finally:
        stack.stop()
    timings["total_s"] = round(time.monotonic() - started, 1)
    cpu = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    timings["cpu_s"] = round(sum(r.ru_utime + r.ru_stime for r in cpu), 1)
    timings["load_average"] = [round(x, 1) for x in os.getloadavg()]
    verify.print_report(report, timings, _say)
    verify.write(report, timings, args.out / "report.json")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
