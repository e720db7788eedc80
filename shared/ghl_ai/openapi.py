"""The HTTP API's OpenAPI 3.1 document, as data: every route's parameters, credentials, bodies
and answers (status, headers, JSON body schema).

The routes take a raw request on purpose (credentials are checked before a body is read, and
bodies are read by our own parsers), so FastAPI can infer nothing about them: each intake route's
decorator carries its part (:func:`operation`), and :func:`document` completes what FastAPI
generates (``app.openapi()``) with the shared components and the RecommendationsFunction's route
(a Powertools resolver behind the same HTTP API). The deployed API does not serve the document
(``openapi_url=None``); the tests build it, check it against template.yaml and fuzz every
operation with it (tests/fuzz/), and ``python -m tests.fuzz.schema`` prints it.

Bodies are documented as the code reads them, not narrower: the Marketplace webhook takes any
JSON object (an unknown ``type`` is answered ``status: unknown``), so its schema is the known
shapes *or* any object.
"""

from __future__ import annotations

import copy
from typing import Any

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str | list[str]) -> Schema:
    kinds = [kind] if isinstance(kind, str) else kind
    return {"type": [*kinds, "null"]}


_STRING, _INTEGER, _NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "number"}
_OBJECT: Schema = {"type": "object"}

# -- request bodies ----------------------------------------------------------------------------

_MARKETPLACE_COMMON: Schema = {
    "type": {"type": "string", "minLength": 1, "description": "the GHL event name"},
    "locationId": {"type": "string", "minLength": 1},
    "webhookId": {"type": "string", "description": "GHL's delivery id: the dedupe key"},
    "timestamp": {"type": "string", "format": "date-time"},
}

_SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
        "description": "Every error answer: a message, never quoting the request.",
    },
    "SchemaProblems": {
        "type": "object",
        "required": ["error", "details"],
        "properties": {
            "error": {"const": "invalid payload"},
            "details": {"type": "array", "items": _STRING},
        },
    },
    "RateLimited": {
        "type": "object",
        "required": ["error", "retryAfter"],
        "properties": {"error": _STRING, "retryAfter": {"type": "integer", "minimum": 0}},
    },
    "InboundMessage": {
        "type": "object",
        "description": "InboundMessage / OutboundMessage (SMS, Email, CALL, ...).",
        "required": ["type", "locationId", "contactId", "direction"],
        "properties": {
            **_MARKETPLACE_COMMON,
            "type": {"enum": ["InboundMessage", "OutboundMessage"]},
            "contactId": {"type": "string", "minLength": 1},
            "direction": {"enum": ["inbound", "outbound"]},
            "messageType": _STRING,
            "messageTypeString": _STRING,
            "messageId": _STRING,
            "emailMessageId": _STRING,
            "body": _STRING,
            "to": {"oneOf": [_STRING, {"type": "array", "items": _STRING}]},
            "dateAdded": {"type": "string", "format": "date-time"},
        },
    },
    "ContactEvent": {
        "type": "object",
        "description": "ContactCreate / Update / Delete / DndUpdate / TagUpdate: the contact's "
        "id is ``id``.",
        "required": ["type", "locationId", "id"],
        "properties": {
            **_MARKETPLACE_COMMON,
            "type": {"type": "string", "pattern": "^Contact"},
            "id": {"type": "string", "minLength": 1},
        },
    },
    "AppointmentEvent": {
        "type": "object",
        "required": ["type", "locationId", "appointment"],
        "properties": {
            **_MARKETPLACE_COMMON,
            "type": {"type": "string", "pattern": "^Appointment"},
            "appointment": {
                "type": "object",
                "required": ["id", "contactId"],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "contactId": {"type": "string", "minLength": 1},
                    "startTime": _STRING,
                },
            },
        },
    },
    "ContactScopedEvent": {
        "type": "object",
        "description": "Opportunity*, Note*, Task* events.",
        "required": ["type", "locationId", "contactId"],
        "properties": {
            **_MARKETPLACE_COMMON,
            "type": {"type": "string", "pattern": "^(Opportunity|Note|Task)"},
            "id": _STRING,
            "contactId": {"type": "string", "minLength": 1},
        },
    },
    "MarketplaceWebhook": {
        "description": "A GHL Marketplace webhook: one of the shapes we act on, flat or wrapped "
        "in ``data``; any other object is recorded (status unknown / refused).",
        "anyOf": [
            _ref("InboundMessage"),
            _ref("ContactEvent"),
            _ref("AppointmentEvent"),
            _ref("ContactScopedEvent"),
            {
                "type": "object",
                "required": ["type", "data"],
                "properties": {"type": _STRING, "data": _OBJECT, "webhookId": _STRING},
            },
            _OBJECT,
        ],
    },
    "WorkflowWebhook": {
        "type": "object",
        "description": "The body of a workflow's Webhook action (snake_case, no delivery id).",
        "required": ["contact_id", "location"],
        "properties": {
            "contact_id": {"type": "string", "minLength": 1},
            "location": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string", "minLength": 1}, "name": _STRING},
            },
            "tags": {
                "description": "a list, or one comma-separated string",
                "oneOf": [_STRING, {"type": "array", "items": _STRING}],
            },
            "customData": _OBJECT,
            "workflow": {
                "type": "object",
                "properties": {"id": _STRING, "name": _STRING},
            },
            "first_name": _STRING,
            "email": _STRING,
            "phone": _STRING,
        },
    },
    "LyrioForm": {
        "type": "object",
        "description": "A website contact form; keys may also be camelCase or kebab-case "
        "(firstName, first-name). A phone or an email is required.",
        "properties": {
            "first_name": {"type": "string", "maxLength": 80},
            "last_name": {"type": "string", "maxLength": 80},
            "name": {"type": "string", "maxLength": 160},
            "email": {"type": "string", "maxLength": 254, "format": "email"},
            "phone": {"type": "string", "maxLength": 32, "examples": ["(909) 555-0147"]},
            "message": {"type": "string", "maxLength": 2000},
            "intent": {"enum": ["buy", "sell", "both", "rent", "invest"]},
            "budget": {"type": "string", "maxLength": 80},
            "timeline": {"type": "string", "maxLength": 80},
            "listing_id": {"type": "string", "maxLength": 64},
            "consent": {"type": ["boolean", "string"], "description": "true / 'on'"},
            "source_page": {"type": "string", "maxLength": 500},
            "utm_source": {"type": "string", "maxLength": 100},
            "visitor_id": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
            "site_key": {"type": "string", "description": "the site key, if not a header"},
            "website": {"type": "string", "description": "honeypot: humans leave it empty"},
        },
    },
    "WebsiteEvent": {
        "type": "object",
        "required": ["type", "timestamp", "eventId"],
        "properties": {
            "type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "timestamp": {"type": "string", "format": "date-time"},
            "eventId": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
            "visitorId": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
            "contactId": {"type": "string", "pattern": "^[A-Za-z0-9_\\-]{1,64}$"},
            "propertyId": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
            "value": _NUMBER,
            "dwellSeconds": {"type": "number", "minimum": 0, "maximum": 86400},
            "data": _OBJECT,
        },
    },
    "EventBatch": {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": _ref("WebsiteEvent"),
            },
            "siteKey": {"type": "string", "description": "the site key, if not a header"},
        },
    },
    # -- answers ---------------------------------------------------------------------------
    "Acceptance": {
        "type": "object",
        "required": ["status", "id", "type"],
        "properties": {
            "status": {"enum": ["queued", "recorded", "unknown", "duplicate"]},
            "id": {"type": "string", "description": "the delivery's dedupe key"},
            "type": _STRING,
        },
    },
    "Refusal": {
        "type": "object",
        "description": "An authentic delivery that can never be processed: recorded and "
        "answered 200 so GHL does not retry it.",
        "required": ["status", "id", "reason"],
        "properties": {
            "status": {"const": "refused"},
            "id": _STRING,
            "reason": _STRING,
            "problems": {"type": "array", "items": _STRING},
        },
    },
    "WebhookAnswer": {"oneOf": [_ref("Acceptance"), _ref("Refusal")]},
    "FormAccepted": {
        "type": "object",
        "required": ["status", "id"],
        "properties": {"status": {"enum": ["accepted", "duplicate"]}, "id": _STRING},
    },
    "FieldProblem": {
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": _STRING, "message": _STRING},
    },
    "InvalidForm": {
        "type": "object",
        "required": ["error", "problems"],
        "properties": {
            "error": {"const": "invalid form"},
            "problems": {"type": "array", "minItems": 1, "items": _ref("FieldProblem")},
        },
    },
    "EventProblem": {
        "type": "object",
        "required": ["index", "field", "message"],
        "properties": {"index": _nullable("integer"), "field": _STRING, "message": _STRING},
    },
    "EventsAccepted": {
        "type": "object",
        "required": ["accepted", "duplicates"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 0},
            "duplicates": {"type": "integer", "minimum": 0},
        },
    },
    "InvalidEvents": {
        "type": "object",
        "description": "The batch is unusable (``invalid batch``), or some of its events are "
        "(``invalid events``: the others were taken, listed by index in ``taken``).",
        "required": ["error", "problems"],
        "properties": {
            "error": {"enum": ["invalid batch", "invalid events"]},
            "problems": {"type": "array", "items": _ref("EventProblem")},
            "accepted": {"type": "integer", "minimum": 0},
            "duplicates": {"type": "integer", "minimum": 0},
            "taken": {"type": "array", "items": _INTEGER},
        },
    },
    "LeadView": {
        "type": "object",
        "required": ["contactId", "locationId", "flags", "lastMessages", "workflows"],
        "properties": {
            "contactId": _STRING,
            "locationId": _STRING,
            "name": _nullable("string"),
            "firstName": _nullable("string"),
            "language": {"type": ["string", "null"], "enum": ["en", "es", None]},
            "intent": _nullable("string"),
            "intentConfidence": _nullable("number"),
            "answers": {"type": "object", "additionalProperties": _OBJECT},
            "temperature": _nullable("string"),
            "qualificationTemperature": _nullable("string"),
            "score": {"type": ["object", "null"]},
            "churn": {"type": ["object", "null"]},
            "flags": {
                "type": "object",
                "required": ["optedOut", "dnd", "handedOff", "aiOff", "smsBlocked"],
                "properties": {
                    "optedOut": {"type": "boolean"},
                    "dnd": {"type": "boolean"},
                    "dndChannels": _OBJECT,
                    "handedOff": {"type": "boolean"},
                    "aiOff": {"type": "boolean"},
                    "smsBlocked": {"type": "boolean"},
                },
            },
            "qualifiedAt": _nullable("string"),
            "lastInboundAt": _nullable("string"),
            "lastOutboundAt": _nullable("string"),
            "lastMessages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "direction": _nullable("string"),
                        "channel": _nullable("string"),
                        "body": _nullable("string"),
                        "at": _nullable("string"),
                    },
                },
            },
            "workflows": {"type": "array", "items": _OBJECT},
            "updatedAt": _nullable("string"),
        },
    },
    "Recommendations": {
        "type": "object",
        "required": ["contactId", "locationId", "k", "modelVersion", "recommendations"],
        "properties": {
            "contactId": _STRING,
            "locationId": _STRING,
            "k": {"type": "integer", "minimum": 1, "maximum": 50},
            "modelVersion": _STRING,
            "blend": _nullable("number"),
            "segment": _nullable("string"),
            "basis": {
                "type": "object",
                "properties": {
                    "stated": {"type": "array", "items": _STRING},
                    "interactions": _INTEGER,
                },
            },
            "recommendations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["listingKey", "price", "score", "reasons", "concerns"],
                    "properties": {
                        "listingKey": _STRING,
                        "address": _nullable("string"),
                        "city": _nullable("string"),
                        "postalCode": _nullable("string"),
                        "price": _NUMBER,
                        "beds": _nullable("integer"),
                        "baths": _nullable("number"),
                        "livingArea": _nullable("number"),
                        "homeType": _nullable("string"),
                        "status": _STRING,
                        "url": _nullable("string"),
                        "photo": _nullable("string"),
                        "score": _NUMBER,
                        "reasons": {"type": "array", "items": _STRING},
                        "concerns": {"type": "array", "items": _STRING},
                        "factors": {"type": "object", "additionalProperties": _nullable("number")},
                    },
                },
            },
        },
    },
    "Connected": {
        "type": "object",
        "required": ["status", "locationId"],
        "properties": {"status": {"const": "connected"}, "locationId": _STRING},
    },
    "KnowledgeUpload": {
        "type": "object",
        "description": "One of the agent's documents: its text (Markdown, plain text, HTML) or, "
        "for a PDF, the file in base64. The same docId again replaces the document; without "
        "one it is made from the title.",
        "required": ["title", "format", "content"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "format": {"enum": ["pdf", "markdown", "text", "html"]},
            "content": {"type": "string", "minLength": 1},
            "docId": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}$"},
        },
    },
    "KnowledgeDocument": {
        "type": "object",
        "required": ["docId", "title", "format", "chunks", "words", "revision", "updatedAt"],
        "properties": {
            "status": {"enum": ["added", "replaced", "unchanged"]},
            "docId": _STRING,
            "title": _STRING,
            "format": _STRING,
            "chunks": {"type": "integer", "minimum": 0},
            "words": {"type": "integer", "minimum": 0},
            "revision": _STRING,
            "updatedAt": _STRING,
            "sha256": _STRING,
            "source": _STRING,
        },
    },
    "KnowledgeDocuments": {
        "type": "object",
        "required": ["locationId", "version", "chunks", "documents"],
        "properties": {
            "locationId": _STRING,
            "version": {"type": "integer", "minimum": 0},
            "chunks": {"type": "integer", "minimum": 0},
            "documents": {"type": "array", "items": _ref("KnowledgeDocument")},
        },
    },
    "KnowledgeRemoved": {
        "type": "object",
        "required": ["docId", "removed", "chunks"],
        "properties": {
            "docId": _STRING,
            "removed": {"const": True},
            "chunks": {"type": "integer", "minimum": 0},
        },
    },
}

_SECURITY_SCHEMES: dict[str, Schema] = {
    "ghlSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-GHL-Signature",
        "description": "Base64 Ed25519 signature of the raw body by GHL's published key.",
    },
    "workflowSecret": {"type": "apiKey", "in": "header", "name": "X-Webhook-Secret"},
    "workflowToken": {"type": "apiKey", "in": "query", "name": "token"},
    "siteKey": {"type": "apiKey", "in": "header", "name": "X-Site-Key"},
    "siteKeyQuery": {"type": "apiKey", "in": "query", "name": "siteKey"},
    "apiKey": {"type": "http", "scheme": "bearer", "description": "the location's API key"},
}

# -- parameters and answers ----------------------------------------------------------------------


def _header(name: str, description: str, *, required: bool = False, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _query(name: str, description: str, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_ORIGIN = _header("Origin", "the website's origin (CORS: echoed when allowed)")
_SITE_KEY = [
    _header("X-Site-Key", "the location's public site key (or siteKey; sent once)"),
    _query("siteKey", "the site key, when a header cannot be set (sendBeacon)"),
]
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
_CORS_HEADERS = {
    "Access-Control-Allow-Origin": {"schema": _STRING},
    "Vary": {"schema": _STRING},
}


def _json(schema: Schema, description: str, headers: dict[str, Any] | None = None) -> Schema:
    answer: Schema = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _err(description: str, headers: dict[str, Any] | None = None) -> Schema:
    return _json(_ref("Error"), description, headers)


_TOO_MANY = _json(
    _ref("RateLimited"),
    "too many requests (this client's bad credentials, or the location's rate): retry later",
    _RETRY_AFTER,
)
_FAILED = _err("internal error: nothing was accepted, retry")
_UNAUTHORIZED_BEARER = _err(
    "missing, ambiguous or invalid API key",
    {"WWW-Authenticate": {"schema": {"const": "Bearer"}}},
)
_WEBHOOK_ANSWERS: dict[str, Schema] = {
    "200": _json(
        _ref("WebhookAnswer"),
        "recorded (queued / recorded / unknown / duplicate), or refused for good",
    ),
    "401": _err("missing, ambiguous or invalid credentials"),
    "409": _err("the same delivery is being processed right now: retry later"),
    "413": _err("body over 128 KB"),
    "429": _TOO_MANY,
    "500": _FAILED,
}

#: Each intake route's part of the document (``openapi_extra`` of its decorator).
OPERATIONS: dict[str, Schema] = {
    "GET /health": {
        "summary": "Liveness",
        "responses": {
            "200": _json(
                {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"const": "ok"}},
                },
                "up",
            )
        },
    },
    "POST /webhooks/ghl": {
        "summary": "GHL Marketplace webhook",
        "description": "Verified on the raw body (X-GHL-Signature) before it is read. A signed "
        "delivery that can never be processed (unreadable, invalid, a location this install "
        "does not serve, outside the replay window) is recorded and answered 200 refused.",
        "security": [{"ghlSignature": []}],
        "parameters": [_header("X-GHL-Signature", "GHL's Ed25519 signature", required=True)],
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": _ref("MarketplaceWebhook")}},
        },
        "responses": _WEBHOOK_ANSWERS,
    },
    "POST /webhooks/ghl/workflow": {
        "summary": "GHL workflow Webhook action",
        "description": "The location's shared secret in X-Webhook-Secret or ?token= (once), "
        "checked before the body is read.",
        "security": [{"workflowSecret": []}, {"workflowToken": []}],
        "parameters": [
            _header("X-Webhook-Secret", "the location's workflow secret"),
            _query("token", "the workflow secret, when the action cannot set a header"),
        ],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("WorkflowWebhook")}}},
        "responses": _WEBHOOK_ANSWERS,
    },
    "POST /forms/lyrio": {
        "summary": "Website contact form",
        "security": [{"siteKey": []}, {"siteKeyQuery": []}, {}],
        "parameters": _SITE_KEY,
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": _ref("LyrioForm")},
                FORM: {"schema": _ref("LyrioForm")},
            },
        },
        "responses": {
            "202": _json(_ref("FormAccepted"), "queued for the worker (or a repeat of one)"),
            "400": _err("the body cannot be read"),
            "401": _err("missing, ambiguous or invalid site key"),
            "409": _err("the same form is being processed right now: retry later"),
            "413": _err("body over 32 KB"),
            "415": _err("not JSON nor form-encoded"),
            "422": _json({"oneOf": [_ref("InvalidForm"), _ref("SchemaProblems")]}, "fields to fix"),
            "429": _TOO_MANY,
            "500": _FAILED,
        },
    },
    "POST /events": {
        "summary": "Behaviour events from the website (a batch)",
        "description": "text/plain is what navigator.sendBeacon sends: its body is JSON too.",
        "security": [{"siteKey": []}, {"siteKeyQuery": []}, {}],
        "parameters": [*_SITE_KEY, _ORIGIN],
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": _ref("EventBatch")},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "202": _json(_ref("EventsAccepted"), "stored (or already stored)", _CORS_HEADERS),
            "400": _err("the body cannot be read as JSON within the limits"),
            "401": _err("missing, ambiguous or invalid site key"),
            "413": _err("body over 256 KB"),
            "415": _err("not JSON nor text/plain"),
            "422": _json(_ref("InvalidEvents"), "problems by event", _CORS_HEADERS),
            "429": _TOO_MANY,
            "500": _FAILED,
        },
    },
    "GET /track.js": {
        "summary": "The website's tracking script",
        "parameters": [_ORIGIN],
        "responses": {
            "200": {
                "description": "the script",
                "headers": {"Cache-Control": {"schema": _STRING}, **_CORS_HEADERS},
                "content": {"application/javascript": {"schema": {"type": "string"}}},
            }
        },
    },
    "GET /leads/{contactId}": {
        "summary": "A lead's state",
        "security": [{"apiKey": []}],
        "parameters": [
            {
                "name": "contactId",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "examples": ["fuzzLead0001"]},
            }
        ],
        "responses": {
            "200": _json(_ref("LeadView"), "the lead"),
            "400": _err("not a contact id"),
            "401": _UNAUTHORIZED_BEARER,
            "404": _err("no such lead in the key's location"),
            "429": _TOO_MANY,
            "500": _FAILED,
        },
    },
    "POST /kb/documents": {
        "summary": "Add or replace one of the location's documents (knowledge base)",
        "description": "The API key decides the location. The document is parsed, cut into "
        "passages and indexed; leads' questions are answered from them (ghl_ai.knowledge).",
        "security": [{"apiKey": []}],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("KnowledgeUpload")}}},
        "responses": {
            "201": _json(_ref("KnowledgeDocument"), "stored (added, or replaced the same docId)"),
            "200": _json(_ref("KnowledgeDocument"), "unchanged: the same document again"),
            "400": _err("the body cannot be read as JSON"),
            "401": _UNAUTHORIZED_BEARER,
            "413": _err("body over 4 MB"),
            "422": _json(
                {"anyOf": [_ref("SchemaProblems"), _ref("Error")]},
                "fields to fix, or a document that cannot be read (no text, too long, not a PDF)",
            ),
            "429": _TOO_MANY,
            "500": _FAILED,
            "503": _err("the knowledge base cannot be reached right now: retry"),
        },
    },
    "GET /kb/documents": {
        "summary": "The location's documents (knowledge base)",
        "security": [{"apiKey": []}],
        "responses": {
            "200": _json(_ref("KnowledgeDocuments"), "the documents, by docId"),
            "401": _UNAUTHORIZED_BEARER,
            "429": _TOO_MANY,
            "500": _FAILED,
            "503": _err("the knowledge base cannot be reached right now: retry"),
        },
    },
    "DELETE /kb/documents/{docId}": {
        "summary": "Remove one of the location's documents (knowledge base)",
        "security": [{"apiKey": []}],
        "parameters": [
            {
                "name": "docId",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "examples": ["hoa-victoria-gardens"]},
            }
        ],
        "responses": {
            "200": _json(_ref("KnowledgeRemoved"), "removed, with its passages"),
            "400": _err("not a document id"),
            "401": _UNAUTHORIZED_BEARER,
            "404": _err("no such document in the key's location"),
            "429": _TOO_MANY,
            "500": _FAILED,
            "503": _err("the knowledge base cannot be reached right now: retry"),
        },
    },
    "GET /oauth/callback": {
        "summary": "The Marketplace app's install: GHL's authorization code for a location",
        "parameters": [
            {"name": "code", "in": "query", "required": False, "schema": {"type": "string"}},
            _header("Accept", "text/html for a page; anything else for JSON"),
        ],
        "responses": {
            **{
                status: {
                    "description": description,
                    "headers": {"Cache-Control": {"schema": {"const": "no-store"}}},
                    "content": {
                        JSON: {"schema": schema},
                        "text/html": {"schema": {"type": "string"}},
                    },
                }
                for status, description, schema in (
                    ("200", "connected", _ref("Connected")),
                    ("400", "no code, or a code GHL refused", _ref("Error")),
                    ("502", "GHL could not be reached", _ref("Error")),
                    ("503", "not configured, or the tokens could not be stored", _ref("Error")),
                )
            },
            "429": _TOO_MANY,
            "500": _FAILED,
        },
    },
}

#: The RecommendationsFunction's route (not FastAPI: merged by :func:`document`).
RECOMMENDATIONS: Schema = {
    "summary": "A lead's top listing matches, with reasons",
    "operationId": "recommendations",
    "security": [{"apiKey": []}],
    "parameters": [
        {
            "name": "contactId",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "examples": ["fuzzLead0001"]},
        },
        {
            "name": "k",
            "in": "query",
            "required": False,
            "description": "how many, 1 to 50 (default 5)",
            "schema": {"type": "string", "examples": ["5"]},
        },
    ],
    "responses": {
        "200": _json(_ref("Recommendations"), "the matches, best first"),
        "400": _err("k is not 1 to 50, or not a contact id"),
        "401": _UNAUTHORIZED_BEARER,
        "404": _err("no lead or activity with this contact id"),
        "503": _err("unavailable right now (the catalogue or model could not be read): retry"),
    },
}


def operation(route: str) -> Schema:
    """The ``openapi_extra`` of the intake route ``"METHOD /path"`` (a copy: FastAPI merges)."""
    return copy.deepcopy(OPERATIONS[route])


def document(intake: dict[str, Any]) -> dict[str, Any]:
    """The whole API's document: FastAPI's (``app.openapi()`` of the intake) with the shared
    components and the recommendations route."""
    doc = copy.deepcopy(intake)
    doc["info"] = {
        **doc.get("info", {}),
        "title": "GHL Real Estate AI",
        "description": "GHL webhooks, website forms and behaviour events, lead reads, the "
        "agent's documents.",
    }
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {}).update(copy.deepcopy(_SCHEMAS))
    components["securitySchemes"] = copy.deepcopy(_SECURITY_SCHEMES)
    path = doc.setdefault("paths", {}).setdefault("/leads/{contactId}/recommendations", {})
    path["get"] = copy.deepcopy(RECOMMENDATIONS)
    return doc
