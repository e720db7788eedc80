"""The website tracking script (shared/ghl_ai/behaviour/track.js) in a real browser.

Debian's headless Chromium, driven by Playwright, browses the demo listing site in
tests/browser/site/ (served from one loopback port) while the intake function answers
``GET /track.js`` and ``POST /events`` behind the local API Gateway on another port — so the
page is cross-origin to the API, as on the agent's real site. What the visitor did must end up
in the EventsTable (moto), once each.

Playwright's own browser download is never used: the test needs /usr/bin/chromium
(``apt-get install chromium``; ``.ci/run`` installs it in CI).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from functions.intake import app as intake_app
from ghl_ai.behaviour.events import visitor_partition_id
from local import devkeys
from local.apigw import ApiGateway
from tests.conftest import Stack

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SITE = Path(__file__).parent / "site"
#: The contact id a tracked link from GHL carries (``?cid=``).
CONTACT_ID = "vK3pQ8rT2mXn7LwY9aBc"
LISTING_ID = "IE-RC-10482"  # 12745 Banyan Creek Dr, Rancho Cucamonga (listing.html)
CARD_ID = "IE-ON-20931"  # a result card on search.html (Ontario)
ARRIVAL_TIMEOUT = 12.0  # seconds: the script batches for 4 s, then backs off up to 2 s


# -- the browser ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


# -- the API: the intake handler behind the local API Gateway ---------------------------------
@dataclass
class EventsRequest:
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.body.get("events", []))

    @property
    def event_ids(self) -> list[str]:
        return [event["eventId"] for event in self.events]


@dataclass
class RecordingIntake:
    """The intake handler, recording each ``POST /events``; the first ``fail_first`` of them
    are answered 503 (with the CORS header, so the script can read the status) and never reach
    the handler. One lock around the handler and the table scans: one invocation at a time, as
    in one Lambda container, and moto never scanned while it writes."""

    fail_first: int = 0
    requests: list[EventsRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            if event["rawPath"] != "/events" or event["requestContext"]["http"]["method"] != "POST":
                return intake_app.handler(event, context)
            raw = event.get("body") or ""
            if event.get("isBase64Encoded"):
                raw = base64.b64decode(raw).decode()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            request = EventsRequest(event.get("rawQueryString", ""), event["headers"], body)
            self.requests.append(request)
            if len(self.requests) <= self.fail_first:
                origin = event["headers"].get("origin", "*")
                result = {
                    "statusCode": 503,
                    "headers": {"access-control-allow-origin": origin},
                    "body": '{"error": "try again later"}',
                }
            else:
                result = intake_app.handler(event, context)
            request.status = int(result["statusCode"])
            return result

    def sent(self) -> dict[str, dict[str, Any]]:
        """Every event the script sent, as it sent it, by eventId."""
        with self.lock:
            return {event["eventId"]: event for r in self.requests for event in r.events}


@dataclass
class Api:
    url: str
    intake: RecordingIntake
    stack: Stack

    def stored_events(self) -> list[dict[str, Any]]:
        with self.intake.lock:
            return self.stack.scan("EventsTable")

    def wait_for_events(self, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """The stored events once ``done(events)`` holds (fails after ARRIVAL_TIMEOUT)."""
        deadline = time.monotonic() + ARRIVAL_TIMEOUT
        while True:
            events = self.stored_events()
            if done(events):
                return events
            if time.monotonic() > deadline:
                types = sorted(e.get("type") for e in events)
                pytest.fail(f"events did not arrive in {ARRIVAL_TIMEOUT} s; stored: {types}")
            time.sleep(0.2)


def serve_api(stack: Stack, intake: RecordingIntake) -> Iterator[Api]:
    # The page is served from another loopback origin: the gateway's CORS must allow it.
    gateway = ApiGateway(intake, parameters={"LyrioAllowedOrigins": "*"}).start()
    try:
        yield Api(gateway.url, intake, stack)
    finally:
        gateway.stop()


@pytest.fixture
def api(stack: Stack) -> Iterator[Api]:
    yield from serve_api(stack, RecordingIntake())


@pytest.fixture
def flaky_api(stack: Stack) -> Iterator[Api]:
    yield from serve_api(stack, RecordingIntake(fail_first=1))


# -- the agent's website: the demo pages on another loopback port -----------------------------
class Website:
    """tests/browser/site/ on 127.0.0.1, the script tag pointed at the API (``__GHL_API__``)."""

    def __init__(self, api_url: str) -> None:
        replacements = {"__GHL_API__": api_url, "__GHL_SITE_KEY__": devkeys.SITE_KEY}

        class _Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.split("?", 1)[0].lstrip("/")
                page = SITE / name
                if "/" in name or page.suffix != ".html" or not page.is_file():
                    self.send_error(404)
                    return
                html = page.read_text()
                for placeholder, value in replacements.items():
                    html = html.replace(placeholder, value)
                data = html.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def website(api: Api) -> Iterator[Website]:
    site = Website(api.url)
    yield site
    site.stop()


@pytest.fixture
def flaky_website(flaky_api: Api) -> Iterator[Website]:
    site = Website(flaky_api.url)
    yield site
    site.stop()


@dataclass
class Visit:
    """One visitor's browser: a fresh context (no cookies, empty storage) and its page."""

    context: Any
    page: Any
    errors: list[str]

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.wait_for_script()

    def wait_for_script(self) -> None:
        self.page.wait_for_function("window.ghlTrack && window.ghlTrack.loaded === true")


@pytest.fixture
def visit(browser: Any) -> Iterator[Visit]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(f"console: {message.text}"))
    yield Visit(context, page, errors)
    context.close()


# -- the tests --------------------------------------------------------------------------------
# Stored events (ghl_ai.behaviour.events.normalised): the stream (contactId) is the contact, or
# the visitor until identified; the visitor id and the dwell time are kept in ``data``.
def by_type(events: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [event for event in events if event.get("type") == type_]


def visitor_of(event: dict[str, Any]) -> str:
    return str(event["data"]["visitorId"])


def dwell_of(event: dict[str, Any]) -> float:
    return float(event["data"]["dwellSeconds"])


def test_a_visit_to_the_site_is_recorded_event_by_event(
    api: Api, website: Website, visit: Visit
) -> None:
    page = visit.page
    # An anonymous visitor looks at the search page and saves a home from the results...
    visit.open(f"{website.url}/search.html")
    page.click(f"article[data-ghl-property-id={CARD_ID}] button[data-ghl-action]")
    # ...then opens a tracked link from the agent's text, stays, saves it, asks for a tour...
    visit.open(f"{website.url}/listing.html?cid={CONTACT_ID}")
    time.sleep(2)
    page.click("#save")
    page.click("#tour")
    assert page.text_content("#save") == "Saved"  # the page's own handler still ran
    # ...goes back to the search page (the listing page's beacon goes out) and searches.
    page.click("#back-to-search")
    page.wait_for_url("**/search.html")
    visit.wait_for_script()
    page.fill("input[name=minPrice]", "600000")
    page.fill("input[name=maxPrice]", "950,000")
    page.select_option("select[name=beds]", "4")
    page.select_option("select[name=city]", "Rancho Cucamonga")
    page.select_option("select[name=propertyType]", "single_family")
    page.click("form[data-ghl-search] button[type=submit]")
    page.wait_for_url("**/search.html?*")
    visit.wait_for_script()
    cookies = visit.context.cookies()
    storage = page.evaluate("Object.fromEntries(Object.entries(localStorage))")
    page.close()  # the last page's beacon

    expected = Counter(page_view=4, property_save=2, property_view=1, tour_request=1, search=1)
    events = api.wait_for_events(lambda events: len(events) >= expected.total())

    assert Counter(event["type"] for event in events) == expected
    assert len({event["eventId"] for event in events}) == len(events)
    assert {event["eventId"] for event in events} == set(api.intake.sent())
    # One visitor throughout, and the only cookie is the script's visitor id.
    assert [cookie["name"] for cookie in cookies] == ["ghl_vid"]
    (cookie,) = cookies
    visitor_id = cookie["value"]
    assert {visitor_of(event) for event in events} == {visitor_id}
    assert cookie["path"] == "/" and cookie["sameSite"] == "Lax"
    assert 360 * 86400 < cookie["expires"] - time.time() < 366 * 86400
    # localStorage: the contact id of the tracked link and the queue of unsent events.
    assert sorted(storage) == ["ghl_cid", "ghl_q"] and storage["ghl_cid"] == CONTACT_ID
    # Identified from the tracked link on: the script sends the contact id on every later
    # event (none before), so they are stored in the contact's stream; the two before wait in
    # the visitor's stream (the scoring worker, not run here, stitches them later).
    ordered = sorted(events, key=lambda event: event["timestamp"])
    sent = api.intake.sent()
    assert [sent[e["eventId"]].get("contactId") for e in ordered] == [None] * 2 + [CONTACT_ID] * 7
    assert [e["contactId"] for e in ordered] == [visitor_partition_id(visitor_id)] * 2 + [
        CONTACT_ID
    ] * 7

    (card_save,) = by_type(ordered[:2], "property_save")
    assert card_save["propertyId"] == CARD_ID
    (view,) = by_type(events, "property_view")
    assert view["propertyId"] == LISTING_ID
    assert 1.5 <= dwell_of(view) < 60
    listing = {k: view["data"].get(k) for k in ("path", "price", "beds", "baths", "city", "zip")}
    assert listing == {
        "path": "/listing.html",
        "price": 899000,
        "beds": 4,
        "baths": 3,
        "city": "Rancho Cucamonga",
        "zip": "91739",
    }
    for type_ in ("property_save", "tour_request"):
        assert [e["propertyId"] for e in by_type(ordered[2:], type_)] == [LISTING_ID], type_
    (search,) = by_type(events, "search")
    assert search["data"]["filters"] == {
        "minPrice": 600000,
        "maxPrice": 950000,
        "beds": 4,
        "city": "Rancho Cucamonga",
        "propertyType": "single_family",
    }
    assert [e["data"]["path"] for e in by_type(ordered, "page_view")] == [
        "/search.html",
        "/listing.html",
        "/search.html",
        "/search.html",
    ]
    # Simple CORS requests only: text/plain, the site key in the body or the beacon's query,
    # no custom header (a preflight would have been refused: the gateway answers no OPTIONS).
    for request in api.intake.requests:
        assert request.headers["content-type"].startswith("text/plain")
        assert "x-site-key" not in request.headers
        assert request.body["siteKey"] == devkeys.SITE_KEY
    assert visit.errors == []


def test_events_the_api_could_not_take_are_sent_again_with_the_same_ids(
    flaky_api: Api, flaky_website: Website, visit: Visit
) -> None:
    visit.open(f"{flaky_website.url}/listing.html")
    visit.page.click("#save")
    visit.page.click("#share")

    events = flaky_api.wait_for_events(lambda events: len(events) >= 3)

    first, second = flaky_api.intake.requests[:2]
    assert (first.status, second.status) == (503, 202)
    assert second.event_ids == first.event_ids  # the same batch, the same eventIds
    assert sorted(e["type"] for e in events) == ["page_view", "property_save", "property_share"]
    assert sorted(e["eventId"] for e in events) == sorted(first.event_ids)
    # The script read the 202 (the API's CORS header) and forgot the batch: no more resends.
    visit.page.wait_for_function("localStorage.getItem('ghl_q') === '[]'", timeout=5000)
    assert len(flaky_api.intake.requests) == 2

    # Leaving the page sends the listing view; nothing is stored twice.
    visit.page.close()
    events = flaky_api.wait_for_events(lambda events: len(events) >= 4)
    time.sleep(0.5)
    events = flaky_api.stored_events()
    assert sorted(e["type"] for e in events) == [
        "page_view",
        "property_save",
        "property_share",
        "property_view",
    ]
    assert len({e["eventId"] for e in events}) == len(events) == 4
    assert [e for e in visit.errors if "page error" in e] == []


HIDE_AND_SHOW = """state => {
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_visitor_who_comes_back_to_a_listing_adds_one_more_view(
    api: Api, website: Website, visit: Visit
) -> None:
    page = visit.page
    visit.open(f"{website.url}/listing.html")
    time.sleep(1)
    page.evaluate(HIDE_AND_SHOW, "hidden")  # another tab: the first view goes out at once
    first = api.wait_for_events(lambda events: len(by_type(events, "property_view")) == 1)
    page.evaluate(HIDE_AND_SHOW, "visible")
    time.sleep(1)
    page.evaluate(HIDE_AND_SHOW, "hidden")
    # Anything else the site wants to record goes through the public API.
    recorded = page.evaluate(
        """() => [
            window.ghlTrack("mortgage_calculation", {propertyId: "IE-RC-10482", value: 4210}),
            window.ghlTrack("Not A Type"),
            window.ghlTrack(42, null),
        ]"""
    )
    page.close()

    events = api.wait_for_events(
        lambda events: (
            len(by_type(events, "property_view")) == 2
            and len(by_type(events, "mortgage_calculation")) == 1
        )
    )

    assert recorded == [True, False, False]
    views = by_type(events, "property_view")
    assert len({view["eventId"] for view in views}) == 2
    assert by_type(first, "property_view")[0]["eventId"] in {view["eventId"] for view in views}
    for view in views:
        assert view["propertyId"] == LISTING_ID
        assert 0.5 <= dwell_of(view) < 30  # each visible stretch, not the total
    (calculation,) = by_type(events, "mortgage_calculation")
    assert calculation["propertyId"] == LISTING_ID and float(calculation["value"]) == 4210
    assert Counter(event["type"] for event in events) == Counter(
        page_view=1, property_view=2, mortgage_calculation=1
    )
    assert visit.errors == []
