"""Hypothesis strategies shared by the test packages."""
from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

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
