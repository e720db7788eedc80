"""Where trained models go: the model layer's artifacts and its manifest (the model card).

``lead_score.json`` is the fresh-install model (trained on the synthetic generator by ``make
models``). A tenant retrained on its own events gets ``lead_score--<locationId>.json``, which the
ScoringFunction serves for that location instead — installed only when its held-out log loss is
no worse than the model the location is served today, measured on the same held-out rows.

A tenant is retrained only once its history holds at least :data:`MIN_CONVERTED_LEADS`
converted leads among :data:`MIN_LEADS` leads: below that, the held-out split is too small to
tell a better model from a lucky one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ghl_ai.behaviour.features import epoch as epoch_of
from ghl_ai.behaviour.features import model_input
from ghl_ai_cli.datasets import Event, EventLog
from ghl_ai_cli.recommend_training import RecommenderResult
from ghl_ai_cli.training import TrainingResult, dump
from ghl_models import ARTIFACTS, MANIFEST, load, metrics

MIN_LEADS = 500
MIN_CONVERTED_LEADS = 100
#: What counts as a conversion in a tenant's own events: an appointment, an opportunity won, or
#: an opportunity moved into one of the stages the operator names (``--conversion-stage``).
TENANT_CONVERSIONS = ("appointment_booked", "opportunity_won", "opportunity_stage_reached")
BASE_MODEL = "lead_score"


def model_name(location: str | None) -> str:
    return BASE_MODEL if location is None else f"{BASE_MODEL}--{location}"


def enough_outcomes(log: EventLog, conversion: Sequence[str]) -> str | None:
    """None when the log can train a tenant model, else why not."""
    leads = {e.lead for e in log.events}
    converted = {e.lead for e in log.events if e.type in conversion}
    if len(leads) < MIN_LEADS or len(converted) < MIN_CONVERTED_LEADS:
        return (
            f"not enough outcomes to retrain: {len(leads)} leads and {len(converted)} converted "
            f"(need {MIN_LEADS} and {MIN_CONVERTED_LEADS}); the current model stays"
        )
    return None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"layer": "ghl-real-estate-ai model layer", "models": {}}


def _paths(directory: Path, name: str, suffix: str = ".json") -> tuple[Path, Path]:
    """Where model ``name``'s artifact and the manifest go: the layer keeps ``artifacts/``
    beside ``manifest.json``; another ``--output`` directory is laid out the same way."""
    if directory == ARTIFACTS:
        return directory / f"{name}{suffix}", MANIFEST
    return directory / "artifacts" / f"{name}{suffix}", directory / "manifest.json"


def _record(manifest_path: Path, name: str, card: dict[str, Any], target: Path) -> None:
    """Add (or replace) the model's card in the manifest, with its artifact's hash."""
    manifest = _manifest(manifest_path)
    manifest["models"][name] = {
        **card,
        "artifact": target.name,
        "sha256": sha256(target),
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    manifest["models"] = dict(sorted(manifest["models"].items()))
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def install(
    result: TrainingResult,
    directory: Path,
    location: str | None,
    log: EventLog,
    conversion: Sequence[str],
    horizon_days: float,
) -> dict[str, Any]:
    """Write the artifact and its manifest entry (for a tenant: only if no worse)."""
    name = model_name(location)
    target, manifest_path = _paths(directory, name)
    new_loss = float(result.fitted.test["log_loss"])
    decision: dict[str, Any] = {"model": name, "artifact": str(target), "installed": True}
    if location is not None:
        current_path = target if target.exists() else target.with_name(f"{BASE_MODEL}.json")
        if current_path.exists():
            current = load(current_path.stem, current_path.parent)
            rows = result.held_out
            p = current.probability(model_input(rows.x))
            current_loss = metrics.log_loss(rows.y, p)
            decision |= {"held_out_log_loss": new_loss, "current_log_loss": current_loss}
            if new_loss > current_loss:
                decision["installed"] = False
                decision["message"] = (
                    f"kept {current_path.name}: its held-out log loss {current_loss:.4f} beats "
                    f"the retrained model's {new_loss:.4f}"
                )
                return decision
    dump(result.spec, target)
    _record(manifest_path, name, result.card, target)
    decision["message"] = f"installed {target} (manifest {manifest_path})"
    return decision


def tenant_events(
    table: str, location: str, step: Callable[[str], None], stages: Sequence[str] = ()
) -> EventLog:
    """A location's behaviour events, read from the events table (identified leads only)."""
    import boto3

    from ghl_ai.adapters.dynamo import from_item

    client = boto3.client("dynamodb")
    events: list[Event] = []
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="locationId = :l",
        ExpressionAttributeValues={":l": {"S": location}},
    ):
        for raw in page.get("Items", []):
            item = from_item(raw)
            contact = str(item.get("contactId", ""))
            if not contact or contact.startswith("visitor:"):
                continue
            kind = str(item.get("type", ""))
            data = item.get("data") or {}
            if kind == "opportunity_status" and str(data.get("status", "")).lower() == "won":
                kind = "opportunity_won"
            elif kind == "opportunity_stage" and data.get("stageId") in stages:
                kind = "opportunity_stage_reached"
            value = item.get("value")
            events.append(
                Event(
                    contact,
                    kind,
                    epoch_of(item["timestamp"]),
                    item.get("propertyId"),
                    float(value) if isinstance(value, int | float) else None,
                    data,
                )
            )
        step(f"read {len(events):,} events of {location}")
    events.sort(key=lambda e: (e.lead, e.t))
    return EventLog(events)


RECOMMENDER = "recommend"


def install_recommender(
    result: RecommenderResult, directory: Path, location: str | None
) -> dict[str, Any]:
    """Write the collaborative model (``recommend[--<location>].npz``) and its card, with the
    blend, in the manifest (``ghl_models.recommender_for`` serves them)."""
    from ghl_ai_cli.collaborative import save

    name = RECOMMENDER if location is None else f"{RECOMMENDER}--{location}"
    target, manifest_path = _paths(directory, name, ".npz")
    target.parent.mkdir(parents=True, exist_ok=True)
    save(result.model, target)
    card = result.card
    data = card["training_data"]
    version = (
        f"{name}-{data['source'].replace(':', '-')}-{data['listings']}x{data['leads']}"
        f"-s{card['seed']}"
    )
    _record(manifest_path, name, {**card, "name": name, "version": version}, target)
    return {
        "model": name,
        "artifact": str(target),
        "installed": True,
        "message": f"installed {target}",
    }


def install_churn(training: Any, directory: Path, location: str | None) -> dict[str, Any]:
    """Write one horizon's churn model (``churn_<H>d[--<location>].json``) and its card; a
    tenant's only if its held-out log loss is no worse than the model the location is served
    today (its own, else the layer's), on the same held-out rows."""
    from ghl_models.churn import ChurnModel

    name = str(training.card["name"])
    base = name.split("--")[0]
    target, manifest_path = _paths(directory, name)
    rows = training.held_out
    new_loss = metrics.log_loss(rows.y, training.held_out_p)
    decision: dict[str, Any] = {"model": name, "artifact": str(target), "installed": True}
    if location is not None:
        current_path = target if target.exists() else target.with_name(f"{base}.json")
        if current_path.exists():
            current = ChurnModel(json.loads(current_path.read_text()))
            if current.model.features == training.spec["features"]:
                current_loss = metrics.log_loss(rows.y, current.probability(rows.x, rows.counts))
                decision |= {"held_out_log_loss": new_loss, "current_log_loss": current_loss}
                if new_loss > current_loss:
                    decision["installed"] = False
                    decision["message"] = (
                        f"kept {current_path.name}: its held-out log loss {current_loss:.4f} "
                        f"beats the retrained model's {new_loss:.4f}"
                    )
                    return decision
    dump(training.spec, target)
    _record(manifest_path, name, training.card, target)
    decision["message"] = f"installed {target}"
    return decision
