"""What the agent sees in GHL: the conversation's results written back through the GHL client.

* Temperature tags ``hot-lead`` / ``warm-lead`` / ``cold-lead``: the current one added, the other
  two removed — never a PUT of the whole tag list (that would erase the agent's tags).
  ``long-term-nurture`` marks a lead handed to long-term nurture (browsing, no rush, curious
  about value); it goes when the lead turns out to be ready.
* Qualification custom fields, written by *display name*: the ids come from the location's
  custom-field list (cached per location for ``cache_seconds``). Fields the location does not
  have are skipped and logged once, by name.
* The opportunity in the configured pipeline, created on first contact and moved by stage name
  ("Contacted", "Qualified").
* The lead's language: *Preferred Language* ("English" / "Spanish") is written when it
  changes, and read (with the contact's own ``language`` / ``locale``, when GHL sends one) as the
  starting point of a lead we have not heard from (:meth:`GhlWriteBack.contact_language`).
* Notes and call tasks are not idempotent in GHL: the engine guards them with outbox claims.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.conversation.model import Answer, Language
from ghl_ai.conversation.qualification import READINESS_WORDS, Temperature, describe
from ghl_ai.observability import logger

TEMPERATURE_TAGS: dict[str, str] = {"hot": "hot-lead", "warm": "warm-lead", "cold": "cold-lead"}
OPTED_OUT_TAG = "opted-out"
HANDOFF_TAG = "ai-handoff"
#: A lead handed to long-term nurture; it starts the ``browsing_nurture`` workflow.
NURTURE_TAG = "long-term-nurture"

#: Our field → the GHL custom field display name it is written to.
FIELD_NAMES: dict[str, str] = {
    "intent": "Buy/Sell Intent",
    "budget": "Budget",
    "area": "Preferred Area",
    "timeline": "Timeline",
    "pre_approval": "Pre-Approval",
    "bedrooms": "Bedrooms",
    "property_type": "Property Type",
    "must_haves": "Must-Haves",
    "address": "Property Address",
    "motivation": "Seller Motivation",
    "condition": "Property Condition",
    "price": "Price Expectation",
    "bathrooms": "Bathrooms",
    "readiness": "Readiness",
    "language": "Preferred Language",
    "temperature": "Lead Temperature",
    "summary": "AI Summary",
    "score": "AI Score",
    "churn_risk": "Churn Risk",
}
_INTENT = {"buy": "Buy", "sell": "Sell", "both": "Buy and sell", "rent": "Rent", "invest": "Invest"}
_PRE_APPROVAL = {
    "yes": "Pre-approved",
    "in_progress": "In progress",
    "cash": "Cash buyer",
    "no": "No",
}
_PROPERTY_TYPE = {
    "single_family": "Single family",
    "condo": "Condo",
    "townhouse": "Townhouse",
    "multi_family": "Multi-family",
    "land": "Land",
    "manufactured": "Manufactured",
}

_CONDITION = {
    "move_in_ready": "Move-in ready",
    "good": "Good",
    "needs_work": "Needs work",
    "fixer_upper": "Fixer upper",
}
_LANGUAGE = {"en": "English", "es": "Spanish"}
#: What GHL (a locale, the agent's picklist, a form) may call each language.
_LANGUAGE_NAMES: dict[str, Language] = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "ingles": "en",
    "inglés": "en",
    "es": "es",
    "spa": "es",
    "spanish": "es",
    "espanol": "es",
    "español": "es",
}


def language_of(value: Any) -> Language | None:
    """ "Spanish", "Español", "es", "es-MX", "es_US" → "es"; "English", "en-US" → "en"."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    return _LANGUAGE_NAMES.get(text) or _LANGUAGE_NAMES.get(text.replace("_", "-").split("-")[0])


def field_value(name: str, value: Any) -> Any:
    """A value in the form GHL's picklists and number fields expect."""
    if name == "intent":
        return _INTENT.get(value, value)
    if name in ("temperature", "churn_risk"):
        return str(value).capitalize()
    if name == "pre_approval":
        return _PRE_APPROVAL.get(value, value)
    if name == "property_type":
        return _PROPERTY_TYPE.get(value, value)
    if name == "condition":
        return _CONDITION.get(value, value)
    if name == "language":
        return _LANGUAGE.get(value, value)
    if name == "readiness":
        return READINESS_WORDS.get(value, value)
    if name == "bathrooms" and isinstance(value, int | float):
        return int(value) if float(value).is_integer() else float(value)
    if name == "timeline":
        days = int(value)
        if days <= 31:
            return "ASAP"
        if days <= 93:
            return "1-3 months"
        if days <= 186:
            return "3-6 months"
        return "6+ months"
    if name == "budget" and isinstance(value, Mapping):
        return value.get("max") or value.get("min")
    if name in ("bedrooms", "price", "score"):
        return int(value)
    return describe(name, value)  # type: ignore[arg-type]


class GhlWriteBack:
    def __init__(self, ghl: GhlClient, cache_seconds: float = 600) -> None:
        self._ghl = ghl
        self._cache_seconds = cache_seconds
        self._fields: dict[str, tuple[float, dict[str, str]]] = {}
        self._pipelines: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._missing_logged: set[tuple[str, str]] = set()

    # -- tags --------------------------------------------------------------------------------

    def set_temperature_tag(self, contact_id: str, temperature: Temperature) -> None:
        current = TEMPERATURE_TAGS[temperature]
        self._ghl.add_tags(contact_id, [current])
        self._ghl.remove_tags(contact_id, [t for t in TEMPERATURE_TAGS.values() if t != current])

    def add_tags(self, contact_id: str, *tags: str) -> None:
        self._ghl.add_tags(contact_id, tags)

    def remove_tags(self, contact_id: str, *tags: str) -> None:
        self._ghl.remove_tags(contact_id, tags)

    # -- custom fields -----------------------------------------------------------------------

    def write_fields(
        self,
        location_id: str,
        contact_id: str,
        answers: Mapping[str, Answer],
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write answers (and ``extra`` values such as intent, temperature, summary) to the
        contact's custom fields. Returns what was written, by display name."""
        ids = self._field_ids(location_id)
        values: dict[str, Any] = {}
        written: dict[str, Any] = {}
        items = {name: answer.value for name, answer in answers.items()} | dict(extra or {})
        for name, value in items.items():
            label = FIELD_NAMES.get(name)
            if label is None or value in (None, "", [], {}):
                continue
            field_id = ids.get(label.lower())
            if field_id is None:
                if (location_id, label) not in self._missing_logged:
                    self._missing_logged.add((location_id, label))
                    logger.info(
                        "custom field missing in GHL; skipped",
                        extra={"location_id": location_id, "field": label},
                    )
                continue
            values[field_id] = written[label] = field_value(name, value)
        self._ghl.update_custom_fields(contact_id, values)
        return written

    def write_named_field(self, location_id: str, contact_id: str, name: str, value: Any) -> bool:
        """Set the custom field called ``name`` (a workflow step); False when the location has
        no such field."""
        field_id = self._field_ids(location_id).get(name.lower())
        if field_id is None:
            logger.info(
                "custom field missing in GHL; skipped",
                extra={"location_id": location_id, "field": name},
            )
            return False
        self._ghl.update_custom_fields(contact_id, {field_id: value})
        return True

    def clear_fields(self, location_id: str, contact_id: str, *names: str) -> None:
        """Empty our fields ``names`` (e.g. readiness, once the lead is ready after all)."""
        ids = self._field_ids(location_id)
        values = {
            ids[label.lower()]: ""
            for label in (FIELD_NAMES.get(n) for n in names)
            if label and label.lower() in ids
        }
        if values:
            self._ghl.update_custom_fields(contact_id, values)

    def contact_language(
        self, location_id: str, contact_id: str
    ) -> tuple[Language | None, Language | None]:
        """What GHL says of the contact's language: its *Preferred Language* field, and its own
        ``language`` / ``locale`` attribute (GHL sends one for some contacts)."""
        field_id = self._field_ids(location_id).get(FIELD_NAMES["language"].lower())
        contact = self._ghl.get_contact(contact_id)
        field: Language | None = None
        for entry in contact.get("customFields") or []:
            if isinstance(entry, dict) and field_id and entry.get("id") == field_id:
                field = language_of(entry.get("value", entry.get("field_value")))
        return field, language_of(contact.get("language") or contact.get("locale"))

    def named_fields(self, location_id: str, contact_id: str) -> dict[str, Any]:
        """The contact's custom-field values by lower-case field name (from GHL)."""
        names = {v: k for k, v in self._field_ids(location_id).items()}
        contact = self._ghl.get_contact(contact_id)
        values: dict[str, Any] = {}
        for entry in contact.get("customFields") or []:
            if isinstance(entry, dict) and entry.get("id") in names:
                values[names[entry["id"]]] = entry.get("value", entry.get("field_value"))
        return values

    def _field_ids(self, location_id: str) -> dict[str, str]:
        cached = self._fields.get(location_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        ids: dict[str, str] = {}
        for field in self._ghl.list_custom_fields(location_id):
            if field.get("id") and field.get("name"):
                ids[str(field["name"]).lower()] = str(field["id"])
        self._fields[location_id] = (time.monotonic() + self._cache_seconds, ids)
        return ids

    # -- opportunity -------------------------------------------------------------------------

    def move_opportunity(
        self, location_id: str, contact_id: str, pipeline_name: str, stage_name: str, title: str
    ) -> str | None:
        """Create the lead's opportunity in the pipeline at ``stage_name``, or move the existing
        one there (never backwards). Returns the opportunity id, None when the pipeline or stage
        does not exist in this location."""
        pipeline = self._pipeline(location_id, pipeline_name)
        if pipeline is None:
            logger.warning(
                "pipeline not found; opportunity skipped",
                extra={"location_id": location_id, "pipeline": pipeline_name},
            )
            return None
        stages = [s for s in pipeline.get("stages", []) if s.get("id")]
        order = {s["id"]: i for i, s in enumerate(stages)}
        target = next(
            (s for s in stages if str(s.get("name", "")).lower() == stage_name.lower()), None
        )
        if target is None:
            logger.warning(
                "stage not found; opportunity skipped",
                extra={"location_id": location_id, "stage": stage_name},
            )
            return None
        existing = [
            o
            for o in self._ghl.search_opportunities(location_id, contact_id)
            if o.get("pipelineId") == pipeline["id"]
        ]
        if not existing:
            created = self._ghl.create_opportunity(
                location_id, pipeline["id"], contact_id, title, stage_id=target["id"]
            )
            return str(created.get("id")) if created.get("id") else None
        opportunity = existing[0]
        if order.get(opportunity.get("pipelineStageId"), -1) < order[target["id"]]:
            self._ghl.update_opportunity(opportunity["id"], {"pipelineStageId": target["id"]})
        return str(opportunity["id"])

    def _pipeline(self, location_id: str, name: str) -> dict[str, Any] | None:
        cached = self._pipelines.get(location_id)
        if not (cached and cached[0] > time.monotonic()):
            cached = (time.monotonic() + self._cache_seconds, self._ghl.list_pipelines(location_id))
            self._pipelines[location_id] = cached
        return next((p for p in cached[1] if str(p.get("name", "")).lower() == name.lower()), None)
