"""The location's listings catalogue: RESO listings as the agent's MLS feed gives them.

* ``models.py``    — :class:`~ghl_ai.listings.models.Listing` (RESO Data Dictionary fields,
  normalised), its stored form and content hash, which statuses may be recommended;
* ``reso.py``      — reading listings from a RESO CSV export or RESO Web API JSON pages, with
  one :class:`~ghl_ai.listings.reso.RowError` per bad field (never a crash);
* ``catalogue.py`` — importing them into the listings table (idempotent upsert, price drops).
"""
