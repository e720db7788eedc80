"""Hypothesis profiles for the property tests.

``suite`` (the default, ``make test``): enough examples per property to cover each input kind a
few times in a second or two. ``fuzz`` (``make fuzz``, ``HYPOTHESIS_PROFILE=fuzz``): many more.
Under CI the runs are derandomised and keep no example database, so a CI run is reproducible.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_CI = bool(os.environ.get("CI"))

settings.register_profile(
    "suite",
    max_examples=50,
    deadline=None,  # two xdist workers on two cores: wall-clock deadlines would flake
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=_CI,
    database=None if _CI else settings.default.database,
    print_blob=True,
)
settings.register_profile("fuzz", parent=settings.get_profile("suite"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))
