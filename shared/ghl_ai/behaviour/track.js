/*
 * GHL Real Estate AI - website behaviour tracking. The agent's site includes one tag:
 *   <script src="https://<api>/track.js" data-site-key="<site key>" async></script>
 * and this script sends page views, listing views (with the seconds the listing was visible),
 * saves, shares, tour and valuation requests and searches to POST <api>/events, the API it was
 * loaded from. No dependencies, no build step. The only cookie it sets is the first-party
 * visitor id `ghl_vid`; the contact id of a tracked link (?cid=) and the unsent events live in
 * localStorage. It never breaks the host page (every entry point is wrapped in try/catch) and
 * never writes to the console. Markup it understands:
 *   [data-ghl-property-id] (+ data-ghl-price, -beds, -baths, -city, -zip): the listing of a
 *       listing page, i.e. a page with exactly one such element (result cards on a search page
 *       carry the attribute too, for their buttons, and are not "viewed");
 *   [data-ghl-action="property_save|property_unsave|property_share|tour_request|
 *       valuation_request"]: an action, for its own data-ghl-property-id or its listing's;
 *   <form data-ghl-search>: a search, fields minPrice maxPrice beds baths city zip propertyType;
 * and for anything else: window.ghlTrack(type, {propertyId, value, dwellSeconds, data}).
 */
(() => {
  "use strict";
  const FLUSH_MS = 4000; // a batch goes out this long after its first event...
  const BATCH_SIZE = 10; // ...or as soon as this many are queued
  const MAX_BATCH = 100; // the API takes at most 100 events per request
  const MAX_QUEUE = 500; // beyond this the oldest unsent events are dropped
  const QUEUE_KEY = "ghl_q";
  const CID_KEY = "ghl_cid";
  const CONTACT_ID = /^[A-Za-z0-9_-]{1,64}$/;
  const ACTIONS = ["property_save", "property_unsave", "property_share", "tour_request",
    "valuation_request"];
  const NUMBER_FILTERS = ["minPrice", "maxPrice", "beds", "baths"];
  const TEXT_FILTERS = ["city", "zip", "propertyType"];
  const LISTING = "[data-ghl-property-id]:not([data-ghl-action])";

  /** fn, made unable to throw into the host page. */
  const safe = (fn) => (...args) => {
    try { return fn(...args); } catch (e) { return undefined; }
  };

  // -- small helpers -------------------------------------------------------------------------
  const randomId = () => {
    const c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID(); // secure contexts only
    const bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else bytes.forEach((_, i) => { bytes[i] = Math.floor(Math.random() * 256); });
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // an RFC 4122 version 4 UUID
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  };

  const stored = safe((key) => window.localStorage.getItem(key)); // may throw: private mode,
  const store = safe((key, value) => window.localStorage.setItem(key, value)); // quota, policy

  /** "$650,000" -> 650000, "3+" -> 3, "" -> undefined. */
  const toNumber = (value) => {
    if (value === null || value === undefined) return undefined;
    const n = parseFloat(String(value).replace(/[$,\s]/g, ""));
    return Number.isFinite(n) ? n : undefined;
  };

  /** obj without its empty fields, so events stay small. */
  const compact = (obj) => Object.fromEntries(
    Object.entries(obj).filter(([, v]) => v !== undefined && v !== null && v !== ""));

  // -- who the visitor is --------------------------------------------------------------------
  const visitorId = () => { // document.cookie throws in sandboxed frames: then one page only
    const found = safe(() => document.cookie.match(/(?:^|;\s*)ghl_vid=([A-Za-z0-9._:-]{1,128})/))();
    if (found) return found[1];
    const id = randomId(); // created once, kept a year
    safe(() => {
      document.cookie = `ghl_vid=${id}; Max-Age=31536000; Path=/; SameSite=Lax` +
        (location.protocol === "https:" ? "; Secure" : "");
    })();
    return id;
  };

  /** The contact a tracked link (?cid=...) identified, remembered for every later event. */
  const contactId = () => {
    const cid = new URLSearchParams(location.search).get("cid");
    if (cid && CONTACT_ID.test(cid)) { store(CID_KEY, cid); return cid; }
    const known = stored(CID_KEY);
    return known && CONTACT_ID.test(known) ? known : undefined;
  };

  // -- the queue -----------------------------------------------------------------------------
  // `queue` is not yet handed to the network; `inflight` is the batch a fetch is sending. Both
  // are kept in localStorage until answered, so a page change or a closed tab loses nothing:
  // the next page sends them again with the same eventIds (the API's dedupe key).
  const loadQueue = () => {
    try {
      const events = JSON.parse(stored(QUEUE_KEY) || "[]");
      return Array.isArray(events) ? events.slice(-MAX_QUEUE) : [];
    } catch (e) { return []; }
  };

  let endpoint, siteKey, visitor, contact;
  let queue = [];
  let inflight = [];
  let timer = null;
  let failures = 0; // consecutive retryable failures, for the backoff

  const save = () => store(QUEUE_KEY, JSON.stringify(inflight.concat(queue)));
  const payload = (events) => JSON.stringify({ siteKey, events });

  const schedule = (ms) => {
    if (timer === null) timer = setTimeout(safe(() => { timer = null; flush(); }), ms);
  };
  const unschedule = () => { clearTimeout(timer); timer = null; };

  const enqueue = (type, props = {}) => {
    queue.push(compact({
      type,
      timestamp: new Date().toISOString(),
      eventId: randomId(),
      visitorId: visitor,
      contactId: contact,
      propertyId: props.propertyId === undefined ? undefined : String(props.propertyId),
      value: toNumber(props.value),
      dwellSeconds: toNumber(props.dwellSeconds),
      data: props.data && typeof props.data === "object" ? props.data : undefined,
    }));
    if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
    save();
    if (queue.length >= BATCH_SIZE && failures === 0) flush();
    else schedule(FLUSH_MS);
  };

  // One batch at a time. text/plain and no custom header make it a CORS "simple request" (no
  // preflight); the site key travels in the body. 2xx, 422 (the good events were stored, the
  // bad ones would fail again) and other 4xx are final; a network error, 429 or 5xx is retried
  // with exponential backoff and full jitter (up to 2 s, 4 s, 8 s ... 60 s), same eventIds.
  const flush = () => {
    if (inflight.length || !queue.length) return;
    if (typeof window.fetch !== "function") { flushBeacon(); return; }
    unschedule();
    inflight = queue.splice(0, MAX_BATCH);
    save();
    const done = safe((retry) => {
      if (retry) queue = inflight.concat(queue);
      failures = retry ? failures + 1 : 0;
      inflight = [];
      save();
      if (!queue.length) return;
      if (retry) schedule(Math.max(250, Math.random() * Math.min(60000, 1000 * 2 ** failures)));
      else schedule(queue.length >= BATCH_SIZE ? 0 : FLUSH_MS);
    });
    const body = payload(inflight);
    try {
      window.fetch(endpoint, {
        method: "POST",
        keepalive: body.length < 60000, // finishes even if the visitor leaves meanwhile
        credentials: "omit",
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
        body,
      }).then((response) => done(response.status === 429 || response.status >= 500),
        () => done(true));
    } catch (e) {
      done(true);
    }
  };

  // The page is being hidden or left: hand the queue to sendBeacon, which cannot set headers
  // (the site key also goes in the query) and whose answer nobody reads. A batch in flight
  // stays in storage until its fetch is answered (by the next page, if this one is gone).
  const flushBeacon = () => {
    if (!queue.length || !navigator.sendBeacon) return;
    unschedule();
    const url = `${endpoint}?siteKey=${encodeURIComponent(siteKey)}`;
    while (queue.length) {
      const batch = queue.slice(0, MAX_BATCH);
      const blob = new Blob([payload(batch)], { type: "text/plain;charset=UTF-8" });
      if (!navigator.sendBeacon(url, blob)) break; // over the browser's quota: keep them
      queue.splice(0, batch.length);
    }
    save();
  };

  // -- what the visitor does -----------------------------------------------------------------
  let listing = null; // the listing of a listing page
  let visibleSince = null; // performance.now() when the listing page last became visible

  const listingData = (element) => compact({
    path: location.pathname,
    price: toNumber(element.getAttribute("data-ghl-price")),
    beds: toNumber(element.getAttribute("data-ghl-beds")),
    baths: toNumber(element.getAttribute("data-ghl-baths")),
    city: element.getAttribute("data-ghl-city"),
    zip: element.getAttribute("data-ghl-zip"),
  });

  const startDwell = () => {
    if (listing && visibleSince === null && document.visibilityState === "visible") {
      visibleSince = performance.now();
    }
  };

  // property_view is sent when the page is hidden, with the seconds it was visible; if the
  // visitor comes back and leaves again, one more with the extra seconds (a new eventId).
  const endDwell = () => {
    if (!listing || visibleSince === null) return;
    const seconds = Math.round((performance.now() - visibleSince) / 100) / 10;
    visibleSince = null;
    if (seconds <= 0) return;
    enqueue("property_view", {
      propertyId: listing.getAttribute("data-ghl-property-id"),
      dwellSeconds: Math.min(seconds, 86400),
      data: listingData(listing),
    });
  };

  const referrerHost = () => {
    const host = document.referrer ? new URL(document.referrer).host : "";
    return host && host !== location.host ? host : undefined;
  };

  const onPageReady = safe(() => {
    enqueue("page_view", { data: compact({ path: location.pathname, referrer: referrerHost() }) });
    const listings = document.querySelectorAll(LISTING);
    if (listings.length === 1) {
      listing = listings[0];
      startDwell();
    }
  });

  const onClick = safe((event) => {
    const target = event.target.closest && event.target.closest("[data-ghl-action]");
    const type = target && target.getAttribute("data-ghl-action");
    if (!ACTIONS.includes(type)) return;
    const owner = target.closest("[data-ghl-property-id]"); // the button itself, or its listing
    const propertyId = owner ? owner.getAttribute("data-ghl-property-id") : undefined;
    enqueue(type, { propertyId: propertyId || undefined, data: { path: location.pathname } });
  });

  const onSubmit = safe((event) => {
    const form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-ghl-search")) return;
    const filters = {};
    for (const name of NUMBER_FILTERS.concat(TEXT_FILTERS)) {
      const field = form.elements.namedItem(name);
      if (!field || typeof field.value !== "string") continue;
      const value = field.value.trim();
      filters[name] = NUMBER_FILTERS.includes(name) ? toNumber(value) : value;
    }
    enqueue("search", { data: { path: location.pathname, filters: compact(filters) } });
  });

  const onHide = safe(() => { endDwell(); flushBeacon(); });

  /** window.ghlTrack(type, props): anything else worth knowing ("mortgage_calc", ...). */
  const track = safe((type, props) => {
    if (typeof type !== "string" || !/^[a-z][a-z0-9_]*$/.test(type)) return false;
    enqueue(type, props && typeof props === "object" ? props : {});
    return true;
  });

  // -- start ---------------------------------------------------------------------------------
  safe(() => {
    if (window.ghlTrack && window.ghlTrack.loaded) return; // the tag is on the page twice
    const script = document.currentScript || document.querySelector("script[data-site-key]");
    if (!script || !script.src) return;
    endpoint = new URL("/events", script.src).href; // the API this file came from
    siteKey = script.getAttribute("data-site-key") || "";
    visitor = visitorId();
    contact = contactId();
    queue = loadQueue();

    // Capture phase: we see the click before the page's own handler changes the button.
    document.addEventListener("click", onClick, true);
    document.addEventListener("submit", onSubmit, true);
    document.addEventListener("visibilitychange", safe(() => {
      if (document.visibilityState === "hidden") onHide();
      else startDwell();
    }));
    window.addEventListener("pagehide", onHide);
    window.addEventListener("pageshow", safe((event) => {
      if (!event.persisted) return; // back from the back/forward cache: another page may
      inflight = []; // have sent or changed the stored queue meanwhile, so it is the truth
      queue = loadQueue();
      startDwell();
    }));

    // Calls made before this async script loaded: window.ghlTrack = {q: [[type, props], ...]}
    const early = window.ghlTrack && Array.isArray(window.ghlTrack.q) ? window.ghlTrack.q : [];
    window.ghlTrack = track;
    track.loaded = true;
    early.forEach((args) => track(...args));

    if (queue.length) schedule(500); // what an earlier page could not send: soon
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", onPageReady);
    } else {
      onPageReady();
    }
  })();
})();
