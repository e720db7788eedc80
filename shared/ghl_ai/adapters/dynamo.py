"""DynamoDB stores. The only module that knows table layouts; domain code sees dataclasses.

Tables (template.yaml):
- leads      PK locationId, SK contactId                      — one item per lead
- messages   PK lead (``loc#contact``), SK ``sentAt#messageId`` — conversation history
- events     PK lead, SK ``timestamp#eventId``                 — behaviour events
- webhooks   PK locationId, SK dedupeKey, TTL expiresAt        — raw deliveries (audit, replay);
             GSI byLead (lead, dedupeKey): a contact's deliveries (erasure)
- outbox     PK id, TTL expiresAt                              — one item per side effect;
             GSI byLead (lead, id): the effects claimed with the lead's ids (erasure)
- visitors   PK locationId, SK visitorId                       — website visitor → contact;
             GSI byLead (lead, visitorId): a contact's visitors (erasure)
- runs       PK lead, SK runId (``<workflow>:<ms>``) or ``lock#<workflow>``; GSI byDue
             (dueBucket, dueAt): the runs whose next step is due (workflow engine)
- listings   PK locationId, SK listingKey                      — the location's catalogue
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ghl_ai.leads.models import BehaviourEvent, LeadChanges, LeadKey, Message
from ghl_ai.listings.models import Listing

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    """Python values → what DynamoDB accepts (floats as Decimal, datetimes as ISO strings)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_python(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


def _value(attribute: dict[str, Any]) -> Any:
    """One attribute value as :func:`_python` of boto3's deserializer gives it, decoding the
    common types directly (every read of every table goes through here: the deserializer's
    dispatch was a tenth of the worker's own time per message); sets and binary still go
    through the deserializer."""
    if "S" in attribute:
        return attribute["S"]
    if "N" in attribute:
        return _python(Decimal(attribute["N"]))
    if "M" in attribute:
        return {k: _value(v) for k, v in attribute["M"].items()}
    if "L" in attribute:
        return [_value(v) for v in attribute["L"]]
    if "BOOL" in attribute:
        return attribute["BOOL"]
    if "NULL" in attribute:
        return None
    return _python(_deserializer.deserialize(attribute))


def _parts(attributes: Sequence[str]) -> list[str]:
    return [part for attribute in attributes for part in attribute.split(".")]


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def moment(value: Any) -> datetime | None:
    """A stored (or GHL's) ISO-8601 time as a datetime; None when it is absent or unreadable."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class _Table:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.name = table_name

    def _partition(
        self, key_name: str, key_value: str, keys_only: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The raw items of one partition, a page at a time, in sort-key order (only the key
        attributes when ``keys_only`` names the sort key)."""
        names = {"#pk": key_name}
        extra: dict[str, Any] = {}
        if keys_only:
            names["#sk"] = keys_only
            extra["ProjectionExpression"] = "#pk, #sk"
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":pk": {"S": key_value}},
            **extra,
        ):
            yield page.get("Items", [])

    def _delete_partition(self, key_name: str, key_value: str, sort_name: str) -> int:
        """Delete every item of one partition (a lead's history). Returns how many."""
        deleted = 0
        for items in self._partition(key_name, key_value, keys_only=sort_name):
            for start in range(0, len(items), 25):
                requests = [{"DeleteRequest": {"Key": item}} for item in items[start : start + 25]]
                self._batch_write(requests)
                deleted += len(requests)
        return deleted

    #: The table's key attributes (what :meth:`delete_items` deletes by).
    KEY: tuple[str, ...] = ()

    def _query(
        self,
        key_name: str,
        key_value: str,
        *,
        index: str | None = None,
        attributes: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Every item of one partition (of the table or of ``index``), every page, as plain
        values: only the table's key attributes and ``attributes``."""
        wanted = list(dict.fromkeys([*self.KEY, *attributes]))
        names = {"#pk": key_name, **{f"#p{i}": a for i, a in enumerate(wanted)}}
        extra: dict[str, Any] = {"IndexName": index} if index else {}
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            KeyConditionExpression="#pk = :pk",
            ProjectionExpression=", ".join(f"#p{i}" for i in range(len(wanted))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":pk": {"S": key_value}},
            **extra,
        ):
            for item in page.get("Items", []):
                yield from_item(item)

    def delete_items(self, items: Iterable[dict[str, Any]]) -> int:
        """Delete the items (plain values holding at least :attr:`KEY`), 25 per
        BatchWriteItem; an item already gone is no error, one named twice is deleted once.
        Returns how many distinct items were asked for."""
        keys = {tuple(item[k] for k in self.KEY): item for item in items}
        requests = [
            {"DeleteRequest": {"Key": to_item({k: item[k] for k in self.KEY})}}
            for item in keys.values()
        ]
        for start in range(0, len(requests), 25):
            self._batch_write(requests[start : start + 25])
        return len(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem of up to 25 requests, repeated for what DynamoDB left
        unprocessed."""
        pending: dict[str, Any] = {self.name: requests}
        while pending:
            pending = (
                self._client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            )


class LeadStore(_Table):
    KEY = ("locationId", "contactId")

    def get(self, key: LeadKey) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name,
            Key={"locationId": {"S": key.location_id}, "contactId": {"S": key.contact_id}},
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def apply(self, key: LeadKey, changes: LeadChanges) -> None:
        """Apply a partial update, creating the lead if it does not exist yet."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, adds = [], []
        for i, (attr, value) in enumerate(changes.set.items()):
            names[f"#s{i}"] = attr
            values[f":s{i}"] = value
            sets.append(f"#s{i} = :s{i}")
        for i, (attr, value) in enumerate(changes.set_if_absent.items()):
            names[f"#a{i}"] = attr
            values[f":a{i}"] = value
            sets.append(f"#a{i} = if_not_exists(#a{i}, :a{i})")
        for i, (attr, value) in enumerate(changes.increments.items()):
            names[f"#n{i}"] = attr
            values[f":n{i}"] = value
            adds.append(f"#n{i} :n{i}")
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets)
        if adds:
            expression += " ADD " + ", ".join(adds)
        if not expression:
            return
        self._client.update_item(
            TableName=self.name,
            Key={"locationId": {"S": key.location_id}, "contactId": {"S": key.contact_id}},
            UpdateExpression=expression.strip(),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                k: _serializer.serialize(_plain(v)) for k, v in values.items()
            },
        )

    def claim_alert(
        self, key: LeadKey, rule: str, alert_id: str, now: float, cooldown_seconds: float
    ) -> bool:
        """Record that ``rule`` fires now for this lead, unless it fired less than
        ``cooldown_seconds`` ago. The same alert not yet finished (a retry after a crash)
        passes again; once :meth:`finish_alert` marked it, it never does. True when it may
        fire."""
        try:
            self._client.update_item(
                TableName=self.name,
                Key={"locationId": {"S": key.location_id}, "contactId": {"S": key.contact_id}},
                # Every alert id is kept too: erasing the lead finds the effects it caused.
                UpdateExpression="SET #a = :alert ADD #ids :ids",
                ConditionExpression=(
                    "attribute_not_exists(#a) OR #a.#at < :cutoff"
                    " OR (#a.#id = :id AND attribute_not_exists(#a.#done))"
                ),
                ExpressionAttributeNames={
                    "#a": f"alert_{rule}",
                    "#at": "at",
                    "#id": "id",
                    "#done": "done",
                    "#ids": "alertIds",
                },
                ExpressionAttributeValues={
                    ":alert": {"M": {"id": {"S": alert_id}, "at": {"N": repr(now)}}},
                    ":ids": {"SS": [alert_id]},
                    ":cutoff": {"N": repr(now - cooldown_seconds)},
                    ":id": {"S": alert_id},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish_alert(self, key: LeadKey, rule: str) -> None:
        """The alert's tag and task are done: scoring the same situation again stays quiet."""
        self._client.update_item(
            TableName=self.name,
            Key={"locationId": {"S": key.location_id}, "contactId": {"S": key.contact_id}},
            UpdateExpression="SET #a.#done = :true",
            ExpressionAttributeNames={"#a": f"alert_{rule}", "#done": "done"},
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )

    def page(
        self,
        location_id: str,
        attributes: Sequence[str],
        start: str | None = None,
        limit: int = 1000,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a location's leads in contact order (``attributes``: a projection, e.g.
        ``churn.day``), and the contact to start the next page after (None: the last page)."""
        names = {f"#p{i}": part for i, part in enumerate(dict.fromkeys(_parts(attributes)))}
        index = {part: name for name, part in names.items()}
        projection = ", ".join(".".join(index[p] for p in a.split(".")) for a in attributes)
        extra: dict[str, Any] = {}
        if start is not None:
            extra["ExclusiveStartKey"] = {
                "locationId": {"S": location_id},
                "contactId": {"S": start},
            }
        response = self._client.query(
            TableName=self.name,
            KeyConditionExpression="locationId = :l",
            ExpressionAttributeValues={":l": {"S": location_id}},
            ProjectionExpression=projection,
            ExpressionAttributeNames=names,
            Limit=limit,
            **extra,
        )
        last = response.get("LastEvaluatedKey")
        items = [from_item(item) for item in response.get("Items", [])]
        return items, (last["contactId"]["S"] if last else None)

    def get_many(self, location_id: str, contact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The leads of ``contact_ids`` (at most 100: one BatchGetItem, plus a retry of any
        keys DynamoDB left unprocessed), by contact id; unknown ones are absent."""
        found: dict[str, dict[str, Any]] = {}
        request: dict[str, Any] = {
            self.name: {
                "Keys": [
                    {"locationId": {"S": location_id}, "contactId": {"S": c}}
                    for c in dict.fromkeys(contact_ids)
                ],
                "ConsistentRead": True,
            }
        }
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.name, []):
                lead = from_item(item)
                found[str(lead["contactId"])] = lead
            request = response.get("UnprocessedKeys") or {}
        return found

    def save_churn(
        self, key: LeadKey, churn: dict[str, Any], activity: dict[str, Any] | None = None
    ) -> bool:
        """Store the lead's churn risk of ``churn["day"]`` (and its activity summary, when it
        was just made), unless that day's is stored already. True when stored."""
        names = {"#c": "churn", "#d": "day"}
        values = {":c": churn, ":day": churn["day"]}
        expression = "SET #c = :c"
        if activity is not None:
            names["#a"] = "activity"
            values[":a"] = activity
            expression += ", #a = :a"
        try:
            self._client.update_item(
                TableName=self.name,
                Key={"locationId": {"S": key.location_id}, "contactId": {"S": key.contact_id}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(contactId) AND "
                "(attribute_not_exists(#c.#d) OR #c.#d <> :day)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    k: _serializer.serialize(_plain(v)) for k, v in values.items()
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete(self, key: LeadKey) -> None:
        self._client.delete_item(
            TableName=self.name,
            Key={"locationId": {"S": key.location_id}, "contactId": {"S": key.contact_id}},
        )


class MessageStore(_Table):
    def put(self, message: Message) -> None:
        self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "lead": message.lead.partition,
                    "sk": f"{iso(message.sent_at)}#{message.message_id}",
                    "locationId": message.lead.location_id,
                    "contactId": message.lead.contact_id,
                    "messageId": message.message_id,
                    "direction": message.direction,
                    "channel": message.channel,
                    "body": message.body,
                    "sentAt": message.sent_at,
                    "conversationId": message.conversation_id,
                    "userId": message.user_id,
                    "source": message.source,
                }
            ),
        )

    def recent(
        self, key: LeadKey, limit: int = 20, attributes: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The last ``limit`` messages, oldest first; only ``attributes`` of each when given
        (the conversation reads its history on every message: less to decode)."""
        names = {"#pk": "lead"}
        extra: dict[str, Any] = {}
        if attributes:
            names.update({f"#a{i}": name for i, name in enumerate(attributes)})
            extra["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(attributes)))
        response = self._client.query(
            TableName=self.name,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":pk": {"S": key.partition}},
            ScanIndexForward=False,
            Limit=limit,
            **extra,
        )
        return [from_item(item) for item in reversed(response.get("Items", []))]

    def delete_lead(self, key: LeadKey) -> int:
        return self._delete_partition("lead", key.partition, "sk")

    KEY = ("lead", "sk")

    def keys_for_lead(self, key: LeadKey) -> list[dict[str, Any]]:
        """The keys and message ids of the lead's whole history (every page)."""
        return list(self._query("lead", key.partition, attributes=("messageId",)))


class BehaviourEventStore(_Table):
    """Per-lead event streams. A lead's stream is its contact (``loc#contactId``) or, until the
    visitor is identified, its website visitor (``loc#visitor:<visitorId>``)."""

    @staticmethod
    def _item(event: BehaviourEvent) -> dict[str, Any]:
        return to_item(
            {
                "lead": event.lead.partition,
                "sk": f"{iso(event.timestamp)}#{event.event_id}",
                "locationId": event.lead.location_id,
                "contactId": event.lead.contact_id,
                "type": event.type,
                "timestamp": event.timestamp,
                "eventId": event.event_id,
                "source": event.source,
                "propertyId": event.property_id,
                # The byProperty index: who interacted with a listing (price-drop alerts).
                "propertyKey": f"{event.lead.location_id}#{event.property_id}"
                if event.property_id
                else None,
                "value": event.value,
                "data": event.data or None,
            }
        )

    def put(self, event: BehaviourEvent) -> None:
        self._client.put_item(TableName=self.name, Item=self._item(event))

    def put_new(self, event: BehaviourEvent) -> bool:
        """Store the event unless the same event (time and id) is already in its stream.
        Returns False for a duplicate."""
        try:
            self._client.put_item(
                TableName=self.name,
                Item=self._item(event),
                ConditionExpression="attribute_not_exists(sk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def put_new_batch(self, events: list[BehaviourEvent]) -> list[bool]:
        """Store each event unless already in its stream (per event: False for a duplicate),
        in one transaction (two when the batch holds duplicates: the cancellation names
        them). Up to 100 events of distinct keys. A transaction cancelled for another reason
        (a concurrent write of the same event) falls back to one conditional write each."""
        stored = [False] * len(events)
        pending = list(range(len(events)))
        while pending:
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.name,
                                "Item": self._item(events[i]),
                                "ConditionExpression": "attribute_not_exists(sk)",
                            }
                        }
                        for i in pending
                    ]
                )
            except self._client.exceptions.TransactionCanceledException as exc:
                codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                duplicates = {
                    pending[j] for j, c in enumerate(codes) if c == "ConditionalCheckFailed"
                }
                if len(codes) != len(pending) or not all(
                    c in ("ConditionalCheckFailed", "None", None) for c in codes
                ):
                    for i in pending:
                        stored[i] = self.put_new(events[i])
                    return stored
                pending = [i for i in pending if i not in duplicates]
                continue
            for i in pending:
                stored[i] = True
            break
        return stored

    def for_lead(self, key: LeadKey) -> list[dict[str, Any]]:
        """The whole stream, oldest first (every page)."""
        return [from_item(i) for page in self._partition("lead", key.partition) for i in page]

    def move(self, source: LeadKey, target: LeadKey) -> int:
        """Move every event of ``source``'s stream into ``target``'s (same sort keys, so a
        repeated move overwrites instead of duplicating). Returns how many moved."""
        moved = 0
        for items in self._partition("lead", source.partition):
            for start in range(0, len(items), 25):
                chunk = items[start : start + 25]
                puts = [
                    {
                        "PutRequest": {
                            "Item": {
                                **item,
                                "lead": {"S": target.partition},
                                "contactId": {"S": target.contact_id},
                            }
                        }
                    }
                    for item in chunk
                ]
                self._batch_write(puts)
                self._batch_write(
                    [{"DeleteRequest": {"Key": {"lead": i["lead"], "sk": i["sk"]}}} for i in chunk]
                )
                moved += len(chunk)
        return moved

    def delete_lead(self, key: LeadKey) -> int:
        return self._delete_partition("lead", key.partition, "sk")

    KEY = ("lead", "sk")

    def keys_for_lead(self, key: LeadKey) -> list[dict[str, Any]]:
        """The keys of the whole stream (every page)."""
        return list(self._query("lead", key.partition))

    def latest(self, key: LeadKey) -> dict[str, Any] | None:
        """The lead's most recent event, or None."""
        response = self._client.query(
            TableName=self.name,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "lead"},
            ExpressionAttributeValues={":pk": {"S": key.partition}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        return from_item(items[0]) if items else None

    def interest_in(self, location_id: str, property_id: str) -> dict[str, dict[str, int]]:
        """Contact → event type → count, for every identified lead with events on the listing
        (the byProperty index; anonymous visitors left out)."""
        found: dict[str, dict[str, int]] = {}
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            IndexName="byProperty",
            KeyConditionExpression="propertyKey = :p",
            ExpressionAttributeValues={":p": {"S": f"{location_id}#{property_id}"}},
        ):
            for item in page.get("Items", []):
                contact = item.get("contactId", {}).get("S", "")
                if not contact or contact.startswith("visitor:"):
                    continue
                kind = item.get("type", {}).get("S", "")
                counts = found.setdefault(contact, {})
                counts[kind] = counts.get(kind, 0) + 1
        return found


class VisitorStore(_Table):
    """Which GHL contact a website visitor turned out to be (visitor stitching)."""

    KEY = ("locationId", "visitorId")

    def contact_for(self, location_id: str, visitor_id: str) -> str | None:
        response = self._client.get_item(
            TableName=self.name,
            Key={"locationId": {"S": location_id}, "visitorId": {"S": visitor_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return item["contactId"]["S"] if item else None

    def identify(
        self, location_id: str, visitor_id: str, contact_id: str, source: str, at: datetime
    ) -> bool:
        """Record that the visitor is the contact; True when this is news (a new visitor, or
        the visitor now known as another contact: the latest identification wins)."""
        response = self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "locationId": location_id,
                    "visitorId": visitor_id,
                    "contactId": contact_id,
                    "lead": f"{location_id}#{contact_id}",  # the byLead index
                    "source": source,
                    "identifiedAt": at,
                }
            ),
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes") or {}
        return old.get("contactId", {}).get("S") != contact_id

    def visitors_of(self, key: LeadKey) -> list[dict[str, Any]]:
        """The keys of the contact's visitors (the byLead index)."""
        return list(self._query("lead", key.partition, index="byLead"))


class WebhookInbox(_Table):
    """Every delivery we accepted, raw, for audit and replay — unknown types included."""

    KEY = ("locationId", "dedupeKey")

    def record(
        self,
        *,
        location_id: str,
        dedupe_key: str,
        event_type: str,
        status: str,
        payload: dict[str, Any],
        received_at: datetime,
        expires_at: int,
        contact_id: str | None = None,
    ) -> None:
        """Store the delivery; ``contact_id`` (the contact it is about) files it in the byLead
        index, so erasing the contact finds it."""
        self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "locationId": location_id,
                    "dedupeKey": dedupe_key,
                    "lead": f"{location_id}#{contact_id}" if contact_id else None,
                    "type": event_type,
                    "status": status,
                    "payload": json.dumps(payload, separators=(",", ":")),
                    "receivedAt": received_at,
                    "expiresAt": expires_at,
                }
            ),
        )

    def get(self, location_id: str, dedupe_key: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name,
            Key={"locationId": {"S": location_id}, "dedupeKey": {"S": dedupe_key}},
        )
        return from_item(response["Item"]) if "Item" in response else None

    def for_location(self, location_id: str) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self.name,
            KeyConditionExpression="locationId = :l",
            ExpressionAttributeValues={":l": {"S": location_id}},
        )
        return [from_item(item) for item in response.get("Items", [])]

    def keys_for_lead(self, key: LeadKey) -> list[dict[str, Any]]:
        """The keys of the deliveries about the contact (the byLead index)."""
        return list(self._query("lead", key.partition, index="byLead"))


#: How long a claim marked ``sending`` belongs to the caller that marked it: more than a GHL call
#: can take (the client's 20-second deadline, plus a token refresh).
SENDING_LEASE = timedelta(seconds=60)


class EffectInProgress(Exception):
    """Another caller is carrying the effect out right now: retry later (the job is redelivered
    and then finds it done)."""

    def __init__(self, effect_id: str) -> None:
        super().__init__(f"effect in progress elsewhere: {effect_id.split(':', 1)[0]}")
        self.effect_id = effect_id


class OutboxStore(_Table):
    """Exactly-once side effects (an SMS, a note, a task): each effect is claimed under an id
    derived from what caused it before it is carried out, with a conditional write. A retry finds
    the claim and either finishes it (``pending``: carry out the *stored* effect) or skips it
    (``done``)."""

    KEY = ("id",)

    def __init__(self, client: Any, table_name: str, ttl_days: int = 30) -> None:
        super().__init__(client, table_name)
        self._ttl_days = ttl_days

    def claim(self, effect_id: str, attributes: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The effect's record: the new claim (status ``pending``), or the existing one."""
        lead = (
            f"{attributes['locationId']}#{attributes['contactId']}"
            if attributes.get("locationId") and attributes.get("contactId")
            else None
        )
        item = {
            **attributes,
            "id": effect_id,
            "lead": lead,  # the byLead index: erasing the lead finds the claim
            "status": "pending",
            "claimedAt": now,
            "expiresAt": int(now.timestamp()) + self._ttl_days * 86400,
        }
        try:
            self._client.put_item(
                TableName=self.name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(id)",
            )
            return item
        except self._client.exceptions.ConditionalCheckFailedException:
            response = self._client.get_item(
                TableName=self.name, Key={"id": {"S": effect_id}}, ConsistentRead=True
            )
            return from_item(response["Item"]) if "Item" in response else item

    def once(self, effect_id: str, effect: Callable[[], Any], now: datetime) -> bool:
        """Carry out ``effect`` unless its claim is already ``done``; True when it ran now.
        A crash between the effect and ``finish`` (or an answer GHL lost) repeats the effect on
        retry: use this for effects that are the same done twice (a tag, a field); tasks and
        notes go through ``ghl_ai.effects``."""
        claim = self.claim(effect_id, {"kind": effect_id.split(":", 1)[0]}, now)
        return self.carry_out(claim, effect)

    def carry_out(
        self,
        claim: dict[str, Any],
        effect: Callable[[], Any],
        *,
        found: Callable[[datetime | None], bool] | None = None,
    ) -> bool:
        """Carry out the claimed effect unless it is ``done``; True when it ran now.

        With ``found`` — a look at GHL for the effect's result, given the claim's time — the
        caller first takes the claim: ``sending``, with ``sendingAt``, by a conditional write,
        so of two callers at the same time (two jobs that cause the same alert, in two
        containers) one carries it out and the other raises :class:`EffectInProgress` (its job
        is retried, and then finds it ``done``). The effect's own failure releases the claim at
        once; a caller killed while sending holds it :data:`SENDING_LEASE`. A caller that
        finds the claim ``sending`` and released (or the lease over) asks ``found`` first: the
        effect runs again only when GHL does not have it."""
        effect_id, status = str(claim["id"]), claim.get("status")
        if status == "done":
            return False
        if found is not None:
            now = datetime.now(UTC)
            since = moment(claim.get("sendingAt"))
            if status == "sending" and since is not None and now - since < SENDING_LEASE:
                raise EffectInProgress(effect_id)
            if status == "sending" and found(moment(claim.get("claimedAt"))):
                self.finish(effect_id, "done", foundAtGhl=True)
                return False
            self._take(effect_id, status, claim.get("sendingAt"), now)
            try:
                effect()
            except BaseException:
                self._release(effect_id)
                raise
        else:
            effect()
        self.finish(effect_id, "done")
        return True

    def _take(self, effect_id: str, status: Any, sending_at: Any, now: datetime) -> None:
        """Mark the claim ``sending`` by us, if it is still as we read it."""
        values: dict[str, Any] = {":sending": {"S": "sending"}, ":now": {"S": iso(now)}}
        if status is None:
            condition = "attribute_not_exists(#s)"
        else:
            condition = "#s = :read"
            values[":read"] = _serializer.serialize(_plain(status))
        if sending_at is None:
            condition += " AND attribute_not_exists(sendingAt)"
        else:
            condition += " AND sendingAt = :at"
            values[":at"] = _serializer.serialize(_plain(sending_at))
        try:
            self._client.update_item(
                TableName=self.name,
                Key={"id": {"S": effect_id}},
                UpdateExpression="SET #s = :sending, sendingAt = :now",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise EffectInProgress(effect_id) from exc

    def _release(self, effect_id: str) -> None:
        """The effect failed (maybe after GHL carried it out): the next caller may look at GHL
        now rather than wait for the lease. Best effort: if this fails, the lease runs out."""
        with contextlib.suppress(Exception):
            self._client.update_item(
                TableName=self.name,
                Key={"id": {"S": effect_id}},
                UpdateExpression="REMOVE sendingAt",
            )

    def take_message(
        self, message_id: str, claim: dict[str, Any], key: LeadKey, now: datetime
    ) -> bool:
        """Record that GHL's message ``message_id`` is the text of ``claim`` (another claim's
        retry must not take it for its own, though the text is the same); False when another
        claim holds it already."""
        taken = self.claim(
            f"sent:{key.location_id}:{message_id}",
            {
                "kind": "sent",
                "locationId": key.location_id,  # the byLead index: erasing the lead finds it
                "contactId": key.contact_id,
                "owner": claim["id"],
            },
            now,
        )
        return taken.get("owner") == claim["id"]

    def finish(self, effect_id: str, status: str, **attributes: Any) -> None:
        """Record the state: ``sending`` (GHL is being called), ``uncertain`` (GHL may have
        sent it), ``done`` or ``failed``; see conversation.outbound.Outbound.send."""
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status}
        sets = ["#s = :s"]
        for i, (name, value) in enumerate(attributes.items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = value
            sets.append(f"#a{i} = :a{i}")
        self._client.update_item(
            TableName=self.name,
            Key={"id": {"S": effect_id}},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                k: _serializer.serialize(_plain(v)) for k, v in values.items()
            },
        )

    def get(self, effect_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key={"id": {"S": effect_id}}, ConsistentRead=True
        )
        return from_item(response["Item"]) if "Item" in response else None

    def keys_for_lead(self, key: LeadKey) -> list[dict[str, Any]]:
        """The keys of the claims made with the lead's location and contact (byLead index)."""
        return list(self._query("lead", key.partition, index="byLead"))

    def existing(self, effect_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The keys of those of ``effect_ids`` that are claimed (100 per BatchGetItem)."""
        unique = sorted(set(effect_ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), 100):
            pending: dict[str, Any] = {
                self.name: {
                    "Keys": [{"id": {"S": i}} for i in unique[start : start + 100]],
                    "ProjectionExpression": "#id",
                    "ExpressionAttributeNames": {"#id": "id"},
                    "ConsistentRead": True,
                }
            }
            while pending:
                response = self._client.batch_get_item(RequestItems=pending)
                found += [from_item(i) for i in response.get("Responses", {}).get(self.name, [])]
                pending = response.get("UnprocessedKeys") or {}
        return found


class ListingStore(_Table):
    """The location's listings catalogue, one item per listing (``listingKey`` within
    ``locationId``): the listing's own attributes (:meth:`Listing.to_state`) plus
    ``contentHash``, ``importedAt`` (first import), ``updatedAt`` (last change of content),
    and ``priceChangedAt`` / ``previousPrice`` once the ListPrice changed."""

    #: BatchGetItem takes up to 100 keys, BatchWriteItem 25 requests.
    GET_BATCH = 100
    WRITE_BATCH = 25

    @staticmethod
    def _key(location_id: str, listing_key: str) -> dict[str, Any]:
        return {"locationId": {"S": location_id}, "listingKey": {"S": listing_key}}

    def _items(self, location_id: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored items of ``keys`` (plain values), by listing key; absent ones left out."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), self.GET_BATCH):
            pending: dict[str, Any] = {
                self.name: {
                    "Keys": [
                        self._key(location_id, k) for k in unique[start : start + self.GET_BATCH]
                    ],
                    "ConsistentRead": True,
                }
            }
            while pending:
                response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.name, []):
                    plain = from_item(item)
                    found[str(plain["listingKey"])] = plain
                pending = response.get("UnprocessedKeys") or {}
        return found

    def upsert_many(
        self, location_id: str, listings: list[Listing], now: datetime
    ) -> list[tuple[str, Listing | None]]:
        """Store ``listings`` (distinct keys): per listing ``added`` | ``updated`` |
        ``unchanged`` and the version stored before (None when added). Only added and
        updated listings are written; an unchanged one (same content hash) is not."""
        keys = [listing.listing_key for listing in listings]
        if len(set(keys)) != len(keys):
            raise ValueError("upsert_many: the same listing key twice in one batch")
        stored = self._items(location_id, keys)
        outcomes: list[tuple[str, Listing | None]] = []
        puts: list[dict[str, Any]] = []
        for listing in listings:
            digest = listing.content_hash()
            old = stored.get(listing.listing_key, {})
            previous = Listing.from_state(old) if old else None
            if previous is not None and (old.get("contentHash") or previous.content_hash()) == (
                digest
            ):
                outcomes.append(("unchanged", previous))
                continue
            item: dict[str, Any] = {
                **listing.to_state(),
                "locationId": location_id,
                "contentHash": digest,
                "importedAt": old.get("importedAt") or now,
                "updatedAt": now,
                "priceChangedAt": old.get("priceChangedAt"),
                "previousPrice": old.get("previousPrice"),
            }
            if previous is not None and previous.price != listing.price:
                item["priceChangedAt"] = now
                item["previousPrice"] = previous.price
            puts.append({"PutRequest": {"Item": to_item(item)}})
            outcomes.append(("added" if previous is None else "updated", previous))
        for start in range(0, len(puts), self.WRITE_BATCH):
            self._batch_write(puts[start : start + self.WRITE_BATCH])
        return outcomes

    def get(self, location_id: str, listing_key: str) -> Listing | None:
        response = self._client.get_item(
            TableName=self.name, Key=self._key(location_id, listing_key), ConsistentRead=True
        )
        return Listing.from_state(from_item(response["Item"])) if "Item" in response else None

    def get_many(self, location_id: str, keys: Sequence[str]) -> dict[str, Listing]:
        """The stored listings of ``keys``, by key (keys not in the catalogue left out)."""
        return {
            key: Listing.from_state(item) for key, item in self._items(location_id, keys).items()
        }

    def for_location(
        self, location_id: str, statuses: Collection[str] | None = None
    ) -> Iterator[Listing]:
        """Every listing of the location (in listing-key order, every page), only those in
        ``statuses`` when given."""
        if statuses is not None and not statuses:
            return
        names = {"#pk": "locationId"}
        values: dict[str, Any] = {":pk": {"S": location_id}}
        extra: dict[str, Any] = {}
        if statuses is not None:
            names["#status"] = "status"
            placeholders = []
            for i, status in enumerate(sorted(statuses)):
                values[f":s{i}"] = {"S": status}
                placeholders.append(f":s{i}")
            extra["FilterExpression"] = f"#status IN ({', '.join(placeholders)})"
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **extra,
        ):
            for item in page.get("Items", []):
                yield Listing.from_state(from_item(item))


class WorkflowRunStore(_Table):
    """Workflow runs, one item per (lead, run), and a lock item per (lead, workflow) that keeps
    a workflow from running twice for a lead (``allow_concurrent`` workflows take none).

    Every change to a run is conditional on its ``seq`` (the number of steps it has taken), so
    two copies of one step message can never both advance it."""

    DUE = "due"
    KEY = ("lead", "runId")

    def keys_for_lead(
        self, location_id: str, contact_id: str, attributes: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The keys of the lead's runs and locks, with each run's ``seq`` and ``attributes``
        (every page)."""
        partition = f"{location_id}#{contact_id}"
        return list(self._query("lead", partition, attributes=("seq", *attributes)))

    @staticmethod
    def _key(location_id: str, contact_id: str, run_id: str) -> dict[str, Any]:
        return {"lead": {"S": f"{location_id}#{contact_id}"}, "runId": {"S": run_id}}

    def create(self, run: dict[str, Any], lock: bool) -> bool:
        """Store a new run (and its lock); False when the workflow already runs for the lead."""
        item = to_item({**run, "lead": f"{run['locationId']}#{run['contactId']}"})
        puts: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(runId)",
                }
            }
        ]
        if lock:
            puts.append(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": to_item(
                            {
                                "lead": item["lead"]["S"],
                                "runId": f"lock#{run['workflow']}",
                                "run": run["runId"],
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(runId)",
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=puts)
        except self._client.exceptions.TransactionCanceledException:
            return False
        return True

    def get(self, location_id: str, contact_id: str, run_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key=self._key(location_id, contact_id, run_id), ConsistentRead=True
        )
        return from_item(response["Item"]) if "Item" in response else None

    def for_lead(self, location_id: str, contact_id: str) -> list[dict[str, Any]]:
        """Every run of the lead (not the locks), oldest first."""
        items = [
            from_item(i)
            for page in self._partition("lead", f"{location_id}#{contact_id}")
            for i in page
        ]
        return [i for i in items if not str(i["runId"]).startswith("lock#")]

    #: What a lead's read shows of a live run (the history and context stay in the table).
    LIVE_ATTRIBUTES = ("runId", "workflow", "status", "stepId", "dueAt", "startedAt")

    def live_for_lead(self, location_id: str, contact_id: str) -> list[dict[str, Any]]:
        """The lead's active and paused runs, only :attr:`LIVE_ATTRIBUTES`: one Query (the
        partition is small: a lead's runs and locks; the locks have no status)."""
        names = {"#pk": "lead", "#status": "status"}
        names.update({f"#p{i}": attr for i, attr in enumerate(self.LIVE_ATTRIBUTES)})
        paginator = self._client.get_paginator("query")
        found: list[dict[str, Any]] = []
        for page in paginator.paginate(
            TableName=self.name,
            KeyConditionExpression="#pk = :pk",
            FilterExpression="#status IN (:active, :paused)",
            ProjectionExpression=", ".join(f"#p{i}" for i in range(len(self.LIVE_ATTRIBUTES))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                ":pk": {"S": f"{location_id}#{contact_id}"},
                ":active": {"S": "active"},
                ":paused": {"S": "paused"},
            },
        ):
            found += [from_item(i) for i in page.get("Items", [])]
        return found

    def scan(
        self,
        location_id: str | None = None,
        *,
        having: str | None = None,
        attributes: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Every run in the table (of one location when given; only those with the attribute
        ``having``; only ``attributes`` when given), page by page. A Scan reads the whole
        table: for operator commands (``ghl-ai workflows report``), never on a request path."""
        names: dict[str, str] = {"#run": "runId"}
        values: dict[str, Any] = {":lock": {"S": "lock#"}}
        filters = ["NOT begins_with(#run, :lock)"]
        if location_id is not None:
            names["#loc"] = "locationId"
            values[":loc"] = {"S": location_id}
            filters.append("#loc = :loc")
        if having is not None:
            names["#has"] = having
            filters.append("attribute_exists(#has)")
        extra: dict[str, Any] = {}
        if attributes:
            names.update({f"#p{i}": attr for i, attr in enumerate(attributes)})
            extra["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(attributes)))
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.name,
            FilterExpression=" AND ".join(filters),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **extra,
        ):
            for item in page.get("Items", []):
                yield from_item(item)

    def advance(self, run: dict[str, Any], seq: int, changes: dict[str, Any]) -> bool:
        """Apply ``changes`` (None removes an attribute) if the run is still at ``seq``."""
        names = {"#seq": "seq"}
        values: dict[str, Any] = {":seq": {"N": str(seq)}}
        sets, removes = [], []
        for i, (attr, value) in enumerate(changes.items()):
            names[f"#a{i}"] = attr
            if value is None:
                removes.append(f"#a{i}")
            else:
                values[f":a{i}"] = _serializer.serialize(_plain(value))
                sets.append(f"#a{i} = :a{i}")
        expression = ("SET " + ", ".join(sets)) if sets else ""
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            self._client.update_item(
                TableName=self.name,
                Key=self._key(run["locationId"], run["contactId"], run["runId"]),
                UpdateExpression=expression.strip(),
                ConditionExpression="#seq = :seq",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def unlock(self, run: dict[str, Any]) -> None:
        """Free the workflow for the lead again (only if this run holds the lock)."""
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.delete_item(
                TableName=self.name,
                Key=self._key(run["locationId"], run["contactId"], f"lock#{run['workflow']}"),
                ConditionExpression="#r = :r",
                ExpressionAttributeNames={"#r": "run"},
                ExpressionAttributeValues={":r": {"S": run["runId"]}},
            )

    def due(self, now: float, limit: int = 1000) -> list[dict[str, Any]]:
        """Runs whose next step is due by ``now`` (the byDue index), at most ``limit``."""
        found: list[dict[str, Any]] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            IndexName="byDue",
            KeyConditionExpression="dueBucket = :b AND dueAt <= :now",
            ExpressionAttributeValues={":b": {"S": self.DUE}, ":now": {"N": repr(now)}},
        ):
            found += [from_item(i) for i in page.get("Items", [])]
            if len(found) >= limit:
                break
        return found[:limit]
