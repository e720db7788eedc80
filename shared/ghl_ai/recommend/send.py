""" "Send top matches": an SMS with the lead's best listing matches and links to them.

Started by a :class:`~ghl_ai.jobs.MatchesJob` (a GHL workflow adding the location's matches
tag, the conversation once a buyer is qualified, a workflow step). In order:

1. a retry of a send already claimed re-sends the *stored* text (or nothing, if it went out):
   the ranking is never redone, so a redelivery never texts twice or texts other listings;
2. the conversation's gates (opted out, DND for SMS, the bot-off tag, handed off, a human
   writing) and a phone to text;
3. quiet hours in the lead's zone: outside the window the job is re-queued with an SQS delay
   (15-minute hops) until it opens — held, never dropped;
4. the ranking (``ranker.py``) without the listings already texted to this lead, then each
   candidate read again from the catalogue: only those still recommendable *now* are sent;
5. the text claimed in the outbox under the job's id, sent once, and the listings recorded on
   the lead (``sentListings``, a string set) so they are never sent again.

The text is in the lead's language (the conversation keeps it on the lead). Links come from the
location's ``listing_url_template`` (``{listingKey}``, ``{city}``,
``{postalCode}``); without one the text names the addresses only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    ListingStore,
    MessageStore,
    OutboxStore,
    iso,
)
from ghl_ai.adapters.queue import MAX_DELAY_SECONDS, JobQueue
from ghl_ai.conversation.outbound import Outbound
from ghl_ai.jobs import MatchesJob
from ghl_ai.leads.models import LeadChanges, LeadKey, Message
from ghl_ai.listings.models import Listing, recommendable
from ghl_ai.recommend.content import Preferences, money
from ghl_ai.recommend.history import history_from_items
from ghl_ai.recommend.ranker import Recommendation
from ghl_ai.tenants import TenantDirectory
from ghl_ai.webhooks.events import utcnow

#: Longest text (three SMS segments): listings are dropped from the end until it fits.
MAX_SMS_CHARS = 480

#: (location, preferences, k, listing keys to leave out) → the ranked matches.
RankFn = Callable[[str, Preferences, int, Collection[str]], list[Recommendation]]


@dataclass(frozen=True)
class MatchesOutcome:
    action: str  # sent | skipped | held
    reason: str = ""
    listings: list[str] = field(default_factory=list)
    body: str | None = None


def listing_url(template: str, listing: Listing) -> str | None:
    """The listing's page from the location's template, or None without one."""
    if not template:
        return None
    values = {
        "listingKey": listing.listing_key,
        "city": listing.city or "",
        "postalCode": listing.postal_code or "",
    }
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return None


def _street(listing: Listing) -> str:
    address = (listing.address or "").split(",")[0].strip()
    if address and listing.city:
        return f"{address}, {listing.city}"
    return address or listing.city or listing.listing_key


#: The text's words per language (the lead's, ``language`` on the lead): a greeting for one home
#: or several, the bedrooms / bathrooms abbreviations and the closing question.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "hello": "Hi {first}, ",
        "hello_anonymous": "Hi, ",
        "one": "{hello}a home that fits what you're looking for:",
        "many": "{hello}{n} homes that fit what you're looking for:",
        "beds": "bd",
        "baths": "ba",
        "question": "Want to see any of them?",
        "question_one": "Want to see it?",
    },
    "es": {
        "hello": "Hola {first}, ",
        "hello_anonymous": "Hola, ",
        "one": "{hello}le comparto una casa que se ajusta a lo que busca:",
        "many": "{hello}le comparto {n} casas que se ajustan a lo que busca:",
        "beds": "rec",
        "baths": "baños",
        "question": "¿Le gustaría ver alguna?",
        "question_one": "¿Le gustaría verla?",
    },
}


def _line(n: int, listing: Listing, url: str | None, words: dict[str, str]) -> str:
    facts = [money(listing.price)]
    if listing.beds is not None:
        size = f"{listing.beds} {words['beds']}"
        if listing.baths is not None:
            size += f"/{listing.baths:g} {words['baths']}"
        facts.append(size)
    line = f"{n}) {_street(listing)}: {', '.join(facts)}"
    return f"{line} {url}" if url else line


def compose(
    first_name: str | None,
    listings: Sequence[Listing],
    template: str,
    language: str | None = "en",
) -> tuple[str, list[Listing]]:
    """The text in the lead's language (English or Spanish): a greeting, one line per listing
    (address, price, beds/baths, link), a question; and the listings it names. Listings are
    dropped from the end until it fits :data:`MAX_SMS_CHARS`."""
    words = _WORDS.get(language or "en", _WORDS["en"])
    chosen = list(listings)
    while True:
        hello = words["hello"].format(first=first_name) if first_name else words["hello_anonymous"]
        one = len(chosen) == 1
        lines = [words["one" if one else "many"].format(hello=hello, n=len(chosen))]
        lines += [_line(i, x, listing_url(template, x), words) for i, x in enumerate(chosen, 1)]
        lines.append(words["question_one" if one else "question"])
        body = "\n".join(lines)
        if len(body) <= MAX_SMS_CHARS or len(chosen) == 1:
            return body[:MAX_SMS_CHARS], chosen
        chosen.pop()


class MatchSender:
    def __init__(
        self,
        *,
        leads: LeadStore,
        events: BehaviourEventStore,
        listings: ListingStore,
        messages: MessageStore,
        outbox: OutboxStore,
        outbound: Outbound,
        tenants: TenantDirectory,
        queue: JobQueue,
        rank: RankFn,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._events = events
        self._listings = listings
        self._messages = messages
        self._outbox = outbox
        self._outbound = outbound
        self._tenants = tenants
        self._queue = queue
        self._rank = rank
        self._clock = clock

    def send(self, job: MatchesJob) -> MatchesOutcome:
        key = LeadKey(job.location_id, job.contact_id)
        effect_id = f"matches:{job.location_id}:{job.id}"
        claim = self._outbox.get(effect_id)
        if claim is not None:
            if claim.get("status") in ("done", "failed"):
                return MatchesOutcome("skipped", "already sent", list(claim.get("listings") or []))
            # Claimed, maybe sent (GHL's history decides): the same text, at most once.
            return self._deliver(key, effect_id, claim)
        profile = self._tenants.profile(job.location_id)
        lead = self._outbound.lead(key)
        gate = self._outbound.gate(lead, profile)
        if gate:
            return MatchesOutcome("skipped", gate)
        if not lead.get("phone"):
            return MatchesOutcome("skipped", "no phone")
        now = self._clock()
        opens = self._outbound.window_opens(lead, profile, now)
        if opens > now:
            delay = min(MAX_DELAY_SECONDS, int((opens - now).total_seconds()) + 1)
            self._queue.send(job.model_dump_json(), delay_seconds=delay)
            return MatchesOutcome("held", f"quiet hours until {iso(opens)}")

        history = history_from_items(self._events.for_lead(key))
        prefs = Preferences.from_lead(lead, history)
        sent_before = {str(k) for k in lead.get("sentListings") or ()}
        ranked = self._rank(job.location_id, prefs, job.k * 3, sent_before)
        current = self._listings.get_many(job.location_id, [r.listing.listing_key for r in ranked])
        chosen = [
            current[r.listing.listing_key]
            for r in ranked
            if r.listing.listing_key in current
            and recommendable(current[r.listing.listing_key].status, profile.recommend_coming_soon)
        ][: job.k]
        if not chosen:
            return MatchesOutcome("skipped", "no active listing matches that were not sent before")
        body, named = compose(
            lead.get("firstName"), chosen, profile.listing_url_template, lead.get("language")
        )
        keys = [x.listing_key for x in named]
        claim = self._outbox.claim(
            effect_id,
            {
                "kind": "matches",
                "locationId": key.location_id,
                "contactId": key.contact_id,
                "body": body,
                "listings": keys,
                "reason": job.reason,
            },
            now,
        )
        return self._deliver(key, effect_id, claim)

    def _deliver(self, key: LeadKey, effect_id: str, claim: dict[str, Any]) -> MatchesOutcome:
        body, keys = str(claim["body"]), [str(k) for k in claim.get("listings") or []]
        if not self._outbound.send(key, effect_id, claim, body):
            return MatchesOutcome("skipped", "GHL refused the text", keys)
        now = self._clock()
        self._leads.apply(
            key,
            LeadChanges(set={"lastMatchesAt": now}, increments={"sentListings": frozenset(keys)}),
        )
        self._messages.put(
            Message(
                lead=key,
                message_id=str(claim.get("messageId") or effect_id),
                direction="outbound",
                channel="SMS",
                body=body,
                sent_at=now,
                source="ai",
            )
        )
        return MatchesOutcome("sent", "", keys, body)
