"""Hypothesis strategies shared by the test packages."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

REGIONS = ["lombardia", "piemonte", "veneto", "basilicata"]

persons = st.fixed_dictionaries({
    "birth_date": st.dates(dt.date(1940, 1, 1), dt.date(2000, 1, 1)).map(str),
    "gender": st.sampled_from(["F", "M"]),
    "residence_region": st.sampled_from(REGIONS),
    "domicile_region": st.sampled_from(REGIONS),
    "workplace_region": st.sampled_from(REGIONS + [None]),
    "employment_status": st.sampled_from(["unemployed", "employed", "suspended", "inactive", "student"]),
    "unemployed_since": st.one_of(st.none(), st.dates(dt.date(2005, 1, 1), dt.date(2014, 2, 28)).map(str)),
    "education_level": st.sampled_from(["none", "primary", "lower_secondary", "upper_secondary", "tertiary",
                                        "postgraduate"]),
    "income_support": st.sampled_from(["none", "naspi", "cig", "cigs", "cigd", "mobility"]),
    "solidarity_agreement": st.booleans(),
    "last_cigd_period": st.booleans(),
})
AS_OF = dt.date(2014, 3, 1)


def examples(strategy, n: int) -> list:
    """n values of the strategy drawn under the hypothesis profile of conftest.py: the same on every run
    unless exploring (`.example()` ignores the profile and draws anew each time)."""
    got: list = []

    @settings(max_examples=n, phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        got.append(value)

    collect()
    return got[-n:]
