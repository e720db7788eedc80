"""One place for logging and metrics. Structured key/value logs; never log message bodies,
phone numbers, emails or tokens — log ids (locationId, contactId, webhookId) and outcomes."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

SERVICE = "ghl-real-estate-ai"
NAMESPACE = "GhlRealEstateAI"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

# Routes like /health publish no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
