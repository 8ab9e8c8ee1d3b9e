"""Synthetic populations of job seekers for simulating an avviso before launch.

The distributions are stated assumptions, not statistics: ``assumptions(region)`` lists
each one and the CLI writes them beside the CSV (``FILE.csv.meta.json``) so that every
report built on the file says what it rests on. They are shaped on published figures of the
first Dote Unica Lavoro (profiling variables: distance from the labour market, age, education,
gender; uptake to 20/12/2013 by fascia 45% alta / 26% media / 21% altro aiuto / 8% bassa, as
reported by ilcittadinomb.it and larassegna.it from the Region's own figures)
and on the broad shape of ISTAT labour-force data (share of long-term unemployment,
education mix); none is a published table. Replace them with a real anonymised extract
(same columns) when one is available.

Rows are generated in blocks of ``BLOCK`` people, each from its own seeded generator, so
the file is identical for a seed whatever the number of worker processes.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import re
from dataclasses import dataclass

from ..dates import add_months
from ..policy.facts import FactDictionary

BLOCK = 20_000


@dataclass(frozen=True)
class Profile:
    region: str
    neighbours: tuple  # where non-residents live / work
    long_term_share: float  # share of unemployed with 12+ months since the DID
    low_education_share: float  # share with at most lower_secondary
    women_unemployed: float
    note: str


PROFILES = {
    "lombardia": Profile("lombardia", ("piemonte", "emilia_romagna", "veneto"), 0.45, 0.43, 0.52,
                         "Lombardy: lower long-term unemployment than the national average"),
    "basilicata": Profile("basilicata", ("puglia", "campania", "calabria"), 0.62, 0.48, 0.50,
                          "Basilicata: long-term unemployment well above the northern regions"),
}
_DEFAULT = Profile("", ("lazio", "toscana", "campania"), 0.55, 0.45, 0.51,
                   "no regional profile: a national shape is used")


def profile(region: str) -> Profile:
    base = PROFILES.get(region)
    return base if base else Profile(region, _DEFAULT.neighbours, _DEFAULT.long_term_share,
                                     _DEFAULT.low_education_share, _DEFAULT.women_unemployed, _DEFAULT.note)


def assumptions(region: str) -> dict:
    p = profile(region)
    long = round(p.long_term_share * 100)
    return {
        "profile": p.note,
        "scope": "people registered at the employment centres (CPI) with a DID or a suspension, plus young "
                 "inactive people and students who may apply; not the whole resident population",
        "employment_status": "unemployed 72%, suspended (cassa integrazione) 6%, inactive 9%, student 6%, "
                             "employed 7% (of whom 25% under a solidarity agreement)",
        "age": "unemployed: 18-24 14%, 25-29 13%, 30-34 11%, 35-44 22%, 45-54 23%, 55-64 17%; students "
               "18-29; inactive 18-64 uniform; employed and suspended 25-64 skewed older",
        "gender": f"women {round(p.women_unemployed * 100)}% among unemployed and inactive, 45% among "
                  "suspended and employed",
        "education_level": f"at most lower_secondary {round(p.low_education_share * 100)}% (none 1%, primary "
                           "4%), upper_secondary about 42%, tertiary and postgraduate the rest; under-30s one "
                           "level higher with probability 30%",
        "unemployment_duration": f"months since the DID: {long}% 12 months or more (half of them 24-60), "
                                 "the rest under 12 (uniform)",
        "income_support": "unemployed: NASpI (ASpI/mini-ASpI before May 2015) 35% when under 24 months, "
                          "mobility 6% before 2017, RdC 8% from April 2019, DIS-COLL 2%, else none; suspended: "
                          "CIGS 50%, CIGD 30% (CIG after 2016), CIG 20%; solidarity agreement: solidarity",
        "last_cigd_period": "20% of people suspended in CIGD",
        "residence": f"resident in {region} 97%, domiciled where resident 97%; workplace in the region 90% for "
                     "those who worked; none for students and 60% of unemployed under 25",
        "citizenship": "IT 82%, EU 5%, non-EU 13%",
        "disability_l68": "3%",
        "profiling_index": "logistic in months unemployed, age 50+, low education and gender, plus noise; "
                           "3 decimals in [0, 1]",
        "active_measures": "none",
        "small groups": "master_enrolled 1%, social_services_in_charge 4%, pension_recipient 1%, "
                        "police_or_armed_forces 0.2%, command_authorisation 0%; covid_causal 50% of suspended "
                        "people from March 2020",
        "other facts": "a fact the generator does not know is drawn uniformly from its enum, false, or null",
    }


_STATUS = (("unemployed", 0.72), ("suspended", 0.06), ("inactive", 0.09), ("student", 0.06), ("employed", 0.07))
_AGE_UNEMPLOYED = (((18, 24), 0.14), ((25, 29), 0.13), ((30, 34), 0.11), ((35, 44), 0.22), ((45, 54), 0.23),
                   ((55, 64), 0.17))
# small groups some editions single out (DUL III-V): prevalence among job seekers, assumed
_FLAGS = {"master_enrolled": 0.01, "social_services_in_charge": 0.04, "pension_recipient": 0.01,
          "police_or_armed_forces": 0.002, "command_authorisation": 0.0}
_EDUCATION = ("none", "primary", "lower_secondary", "upper_secondary", "tertiary", "postgraduate")


def _pick(rng: random.Random, table):
    x = rng.random()
    for value, weight in table:
        x -= weight
        if x < 0:
            return value
    return table[-1][0]


class Generator:
    """Draws people for one region at a reference date; columns follow the fact dictionary."""

    def __init__(self, dictionary: FactDictionary, region: str, as_of: dt.date):
        self.columns = [n for n, f in dictionary.facts.items() if f.of("person") and not f.computed]
        self.facts = dictionary.facts
        self.profile = profile(region)
        self.region = region
        self.as_of = as_of
        low = self.profile.low_education_share
        self.education = (("none", 0.01), ("primary", 0.04), ("lower_secondary", max(low - 0.05, 0.0)),
                          ("upper_secondary", 0.42), ("tertiary", max(0.95 - low - 0.42 + 0.03, 0.0)),
                          ("postgraduate", 0.02))

    def person(self, rng: random.Random) -> dict:
        p, as_of = self.profile, self.as_of
        status = _pick(rng, _STATUS)
        if status == "unemployed":
            lo, hi = _pick(rng, _AGE_UNEMPLOYED)
        elif status == "student":
            lo, hi = 18, 29
        elif status == "inactive":
            lo, hi = 18, 64
        else:
            lo, hi = (25, 64) if rng.random() < 0.3 else (40, 64)
        age = rng.randint(lo, hi)
        birth = as_of - dt.timedelta(days=age * 365 + rng.randint(0, 364) + age // 4)
        women = p.women_unemployed if status in ("unemployed", "inactive") else 0.45
        gender = "F" if rng.random() < women else "M"
        education = _pick(rng, self.education)
        if age < 30 and rng.random() < 0.3 and education not in ("postgraduate",):
            education = _EDUCATION[_EDUCATION.index(education) + 1]
        # nobody finishes a degree before 22 or a postgraduate course before 24
        if age < 22 and education in ("tertiary", "postgraduate"):
            education = "upper_secondary"
        elif age < 24 and education == "postgraduate":
            education = "tertiary"
        resident = rng.random() < 0.97
        residence = self.region if resident else rng.choice(p.neighbours)
        domicile = residence if rng.random() < 0.97 else (self.region if not resident else rng.choice(p.neighbours))
        never_worked = status == "student" or (status == "unemployed" and age < 25 and rng.random() < 0.6) or \
            (status == "inactive" and rng.random() < 0.5)
        workplace = None if never_worked else (self.region if rng.random() < 0.9 else rng.choice(p.neighbours))
        unemployed_since = None
        months = 0
        support, support_since = "none", None
        solidarity = last_cigd = False
        if status == "unemployed":
            if rng.random() < p.long_term_share:
                months = rng.randint(12, 23) if rng.random() < 0.5 else rng.randint(24, 60)
            else:
                months = rng.randint(0, 11)
            months = min(months, max(age - 16, 0) * 12)
            unemployed_since = add_months(as_of, -months) - dt.timedelta(days=rng.randint(0, 27))
            x = rng.random()
            if months < 24 and x < 0.35:
                support = "naspi" if as_of >= dt.date(2015, 5, 1) else ("aspi" if rng.random() < 0.7 else "mini_aspi")
                support_since = unemployed_since
            elif x < 0.41 and as_of < dt.date(2017, 1, 1):
                support, support_since = "mobility", unemployed_since
            elif x < 0.49 and as_of >= dt.date(2019, 4, 1):
                support, support_since = "rdc", add_months(as_of, -rng.randint(0, 18))
            elif x < 0.51 and as_of >= dt.date(2015, 5, 1):
                support, support_since = "dis_coll", unemployed_since
        elif status == "suspended":
            x = rng.random()
            support = "cigs" if x < 0.5 else ("cigd" if as_of < dt.date(2017, 1, 1) else "cig") if x < 0.8 else "cig"
            support_since = add_months(as_of, -rng.randint(0, 24))
            last_cigd = support == "cigd" and rng.random() < 0.2
        elif status == "employed":
            solidarity = rng.random() < 0.25
            if solidarity:
                support, support_since = "solidarity", add_months(as_of, -rng.randint(0, 12))
        score = (-1.2 + 0.06 * min(months, 48) + (0.8 if age >= 50 else 0.0)
                 + (0.7 if _EDUCATION.index(education) <= 2 else 0.0) + (0.2 if gender == "F" else 0.0)
                 + rng.gauss(0.0, 0.5))
        index = round(1.0 / (1.0 + math.exp(-score)), 3)
        values = {
            "birth_date": birth, "gender": gender,
            "citizenship": _pick(rng, (("IT", 0.82), ("EU", 0.05), ("non_EU", 0.13))),
            "residence_region": residence, "domicile_region": domicile, "workplace_region": workplace,
            "employment_status": status, "unemployed_since": unemployed_since, "education_level": education,
            "income_support": support, "income_support_since": support_since,
            "disability_l68": rng.random() < 0.03, "profiling_index": f"{index:.3f}", "active_measures": (),
            "solidarity_agreement": solidarity, "last_cigd_period": last_cigd,
        }
        for name, share in _FLAGS.items():
            values[name] = rng.random() < share
        if status == "suspended" and as_of >= dt.date(2020, 3, 1):
            values["covid_causal"] = rng.random() < 0.5
        for name in self.columns:
            if name not in values:
                values[name] = self._unknown(rng, self.facts[name])
        return values

    @staticmethod
    def _unknown(rng: random.Random, fact):
        kind = fact.type.kind
        if kind == "enum":
            return rng.choice(list(fact.type.values))
        if kind in ("boolean", "bool"):
            return False
        if kind == "list":
            return ()
        return None if fact.nullable else 0

    def block(self, seed: int, index: int, size: int, start_id: int) -> str:
        """``size`` people as CSV text (no header), the same for the same (seed, index)."""
        rng = random.Random(f"almp-synth:{seed}:{self.region}:{index}")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for offset in range(size):
            row = self.person(rng)
            writer.writerow([start_id + offset] + [_cell(row[c]) for c in self.columns])
        return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def blocks(size: int):
    """(index, rows, first id) of each block of a population of ``size``."""
    for index, start in enumerate(range(0, size, BLOCK)):
        yield index, min(BLOCK, size - start), start + 1


_GENERATOR: Generator | None = None


def _init(dictionary, region, as_of):
    global _GENERATOR
    _GENERATOR = Generator(dictionary, region, as_of)


def _block(task):
    seed, index, size, start = task
    return _GENERATOR.block(seed, index, size, start)


def write_population(dictionary: FactDictionary, out, size: int, region: str, seed: int, as_of: dt.date,
                     workers: int = 1, progress=None):
    """Stream ``size`` synthetic people to ``out`` (CSV) and their assumptions to ``out.meta.json``."""
    import json
    import multiprocessing
    from pathlib import Path

    out = Path(out)
    generator = Generator(dictionary, region, as_of)
    tasks = [(seed, index, rows, start) for index, rows, start in blocks(size)]
    with open(out, "w", newline="", encoding="utf-8") as fh:
        fh.write(",".join(["person_id"] + generator.columns) + "\n")
        done = 0
        if workers <= 1 or len(tasks) == 1:
            texts = (generator.block(*task) for task in tasks)
            pool = None
        else:
            pool = multiprocessing.get_context("fork").Pool(workers, _init, (dictionary, region, as_of))
            texts = pool.imap(_block, tasks)
        try:
            for task, text in zip(tasks, texts):
                fh.write(text)
                done += task[2]
                if progress:
                    progress(done, size)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    meta = Path(str(out) + ".meta.json")
    meta.write_text(json.dumps({
        "format": "almp-population/1", "kind": "synthetic", "region": region, "size": size, "seed": seed,
        "as_of": as_of.isoformat(), "columns": ["person_id"] + generator.columns,
        "cells": "dates YYYY-MM-DD; booleans true/false; empty = null; lists ';'-separated",
        "assumptions": assumptions(region),
        "warning": "synthetic: distributions are stated assumptions, not official statistics",
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def region_code(dictionary: FactDictionary, text: str) -> str | None:
    """The dictionary's code for a region given by code or by name ('Lombardia', "Valle d'Aosta",
    'emilia-romagna' -> 'lombardia', 'valle_d_aosta', 'emilia_romagna'); None when it is no region."""
    fact = dictionary.facts.get("residence_region")
    if fact is None:
        return None
    def key(value: str) -> str:
        return re.sub(r"[^a-z]+", "_", value.casefold()).strip("_")
    wanted = key(text)
    for code in fact.type.values:
        names = {key(code), key((fact.value_labels or {}).get(code, code))}
        if wanted in names:
            return code
    return None
