"""Churn sweep Lambda (EventBridge schedule, daily by default: ``ChurnSweepSchedule``): pages
through every lead of every location and queues them in chunks on the churn queue, for the
ChurnScoreFunction. Quick and light: it reads keys and one attribute per lead, scores nothing,
and imports no model. A re-run on the same day queues only the leads not scored yet.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from ghl_ai.adapters.dynamo import LeadStore
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.churn.sweep import ChurnSweep
from ghl_ai.config import ChurnSweepSettings, churn_sweep_settings
from ghl_ai.observability import metrics
from ghl_ai.tenants import TenantDirectory


@lru_cache(maxsize=1)
def deps() -> ChurnSweep:
    settings: ChurnSweepSettings = churn_sweep_settings()
    dynamodb = boto3.client("dynamodb")
    tenants = TenantDirectory(settings, dynamodb)
    return ChurnSweep(
        LeadStore(dynamodb, settings.leads_table),
        JobQueue(boto3.client("sqs"), settings.churn_queue_url),
        tenants.locations,
    )


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = deps().run()
    metrics.add_metric(name="ChurnLeadsQueued", unit=MetricUnit.Count, value=report.leads)
    return {
        "day": report.day,
        "locations": report.locations,
        "leads": report.leads,
        "already_scored": report.already_scored,
        "chunks": report.chunks,
    }
