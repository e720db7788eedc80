"""Property recommendations: listings matched to a lead, each with reasons in plain words.

* ``history.py``  — what a lead did with listings (views, saves, shares, tours) as weights;
* ``index.py``    — a location's catalogue as numpy arrays (one row per listing);
* ``content.py``  — the content match: factor scores against stated and revealed preferences,
  weights per buyer segment, reasons and concerns;
* ``ranker.py``   — the hybrid: content blended with the collaborative model of the model layer
  (blend chosen by validation, ``ghl-ai train recommend``), top-k;
* ``service.py``  — the RecommendationsFunction's work: the route's JSON and "send top matches".
"""
