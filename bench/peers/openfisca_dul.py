"""Dote Unica Lavoro 2013 (eligibility, points, fascia) written as OpenFisca variables.

The peer of ``bench.compare``: the same decision as almp's ``lombardia/dote-unica-lavoro``
2013 edition, on OpenFisca's country template (its ``Person`` entity), written the way an
OpenFisca modeller would: one vectorised numpy formula per variable. Used two ways:

- vectorised: one simulation over a whole population (``Vectorised``);
- the web API: ``app`` is OpenFisca's own WSGI application (``POST /calculate``), served by
  gunicorn in ``bench.compare``.

The parameter values are the edition's current ones (eta_max_giovani 29, 12 and 6 months,
55, 35, thresholds 2 and 4). A birthday on 29 February is reached on 28 February and a month
since the 31st completes on a shorter month's last day, as in almp (``engine/dates.py``), so
both engines must give the same answer for every person; ``bench.compare`` checks both against
an independent oracle.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from openfisca_core.model_api import DAY, ETERNITY, Enum, Variable, select, where
from openfisca_core.indexed_enums import EnumArray
from openfisca_core.simulations import SimulationBuilder
from openfisca_country_template import CountryTaxBenefitSystem
from openfisca_country_template.entities import Person

NO_DATE = "9999-12-31"  # OpenFisca has no null: "no DID" is a far-future date


class Region(Enum):
    lombardia = "lombardia"
    piemonte = "piemonte"
    veneto = "veneto"
    emilia_romagna = "emilia_romagna"
    other = "other"
    none = "none"


class Status(Enum):
    unemployed = "unemployed"
    employed = "employed"
    suspended = "suspended"
    inactive = "inactive"
    student = "student"


class Education(Enum):
    none = "none"
    primary = "primary"
    lower_secondary = "lower_secondary"
    upper_secondary = "upper_secondary"
    tertiary = "tertiary"
    postgraduate = "postgraduate"


class Support(Enum):
    none = "none"
    naspi = "naspi"
    cigs = "cigs"
    cigd = "cigd"
    mobility = "mobility"
    cig = "cig"


class Gender(Enum):
    F = "F"
    M = "M"


class Band(Enum):
    none = "none"
    b1 = "1"
    b2 = "2"
    b3 = "3"
    b4 = "4"


def _enum_input(name, enum):
    return type(name, (Variable,), {"value_type": Enum, "possible_values": enum, "default_value": list(enum)[0],
                                    "entity": Person, "definition_period": ETERNITY, "label": name})


def _input(name, value_type, default):
    return type(name, (Variable,), {"value_type": value_type, "default_value": default, "entity": Person,
                                    "definition_period": ETERNITY, "label": name})


INPUTS = [
    _input("dul_birth_date", dt.date, dt.date(1970, 1, 1)),
    _enum_input("dul_gender", Gender),
    _enum_input("dul_residence_region", Region),
    _enum_input("dul_domicile_region", Region),
    _enum_input("dul_workplace_region", Region),
    _enum_input("dul_employment_status", Status),
    _input("dul_unemployed_since", dt.date, dt.date(9999, 12, 31)),
    _enum_input("dul_education_level", Education),
    _enum_input("dul_income_support", Support),
    _input("dul_solidarity_agreement", bool, False),
    _input("dul_last_cigd_period", bool, False),
]


def _ymd(dates):
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    return years, months, days


def _completed_months(start, end_date):
    """Whole months from ``start`` (array) to ``end_date`` (a period's first day); month-end rule."""
    sy, sm, sd = _ymd(start)
    ey, em, ed = end_date.year, end_date.month, end_date.day
    months = (ey - sy) * 12 + (em - sm)
    end = np.datetime64(f"{ey:04d}-{em:02d}-{ed:02d}", "D")
    month_end = (end + 1).astype("datetime64[M]") != end.astype("datetime64[M]")
    short = (ed < sd) & ~(month_end & (ed < sd))
    return months - short


class dul_age(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Age in completed years (età compiuta)"

    def formula(person, period, parameters):
        start = period.start
        months = _completed_months(person("dul_birth_date", period), start)
        return months // 12


class dul_unemployment_months(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Completed months since the DID (-1 when none)"

    def formula(person, period, parameters):
        since = person("dul_unemployed_since", period)
        known = since != np.datetime64(NO_DATE)
        return where(known, _completed_months(where(known, since, np.datetime64("2000-01-01")), period.start), -1)


class dul_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Eligible for Dote Unica Lavoro 2013"

    def formula(person, period, parameters):
        age = person("dul_age", period)
        status = person("dul_employment_status", period)
        support = person("dul_income_support", period)
        workplace = person("dul_workplace_region", period) == Region.lombardia
        lomb = (person("dul_residence_region", period) == Region.lombardia) \
            + (person("dul_domicile_region", period) == Region.lombardia)
        unemployed = status == Status.unemployed
        young = (age <= 29) * (status == Status.unemployed) * lomb
        mobility = unemployed * (support == Support.mobility) * workplace
        suspended = (status == Status.suspended) * ((support == Support.cigd) + (support == Support.cigs)) * workplace
        solidarity = person("dul_solidarity_agreement", period) * workplace
        last = person("dul_last_cigd_period", period) * workplace
        return young + unemployed * lomb + mobility + suspended + solidarity + last


class dul_points(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Profiling points"

    def formula(person, period, parameters):
        age = person("dul_age", period)
        months = person("dul_unemployment_months", period)
        education = person("dul_education_level", period)
        low = (education == Education.none) + (education == Education.primary) \
            + (education == Education.lower_secondary)
        woman = person("dul_gender", period) == Gender.F
        return (3 * (months >= 12) + 2 * ((months >= 6) * (months < 12)) + 1 * (age <= 29) + 2 * (age >= 55)
                + 1 * low + 1 * (woman * (age > 35)))


class dul_band(Variable):
    value_type = Enum
    possible_values = Band
    default_value = Band.none
    entity = Person
    definition_period = DAY
    label = "Fascia (none when not eligible)"

    def formula(person, period, parameters):
        eligible = person("dul_eligible", period)
        points = person("dul_points", period)
        other = person("dul_solidarity_agreement", period) + person("dul_last_cigd_period", period)
        return select([~eligible, other, points < 2, points < 4], [Band.none, Band.b4, Band.b1, Band.b2],
                      default=Band.b3)


def tax_benefit_system():
    tbs = CountryTaxBenefitSystem()
    for variable in INPUTS + [dul_age, dul_unemployment_months, dul_eligible, dul_points, dul_band]:
        tbs.add_variable(variable)
    return tbs


FIELDS = ["birth_date", "gender", "residence_region", "domicile_region", "workplace_region", "employment_status",
          "unemployed_since", "education_level", "income_support", "solidarity_agreement", "last_cigd_period"]


ENUMS = {"gender": Gender, "residence_region": Region, "domicile_region": Region, "workplace_region": Region,
         "employment_status": Status, "education_level": Education, "income_support": Support}
_BAND_IDS = {member.name: member.value for member in Band}


class Vectorised:
    """One OpenFisca simulation over a whole population given as columns (dict in, lists out).

    The input conversion is written for speed, as a careful modeller would: enum texts go
    straight to OpenFisca's int16 indices through a dict (no string arrays), dates are
    parsed by numpy, booleans by ``numpy.fromiter``.
    """

    def __init__(self):
        self.tbs = tax_benefit_system()
        self.indices = {name: {member.value: i for i, member in enumerate(enum)} for name, enum in ENUMS.items()}
        self.indices["workplace_region"][None] = self.indices["workplace_region"]["none"]

    def run(self, columns: dict, as_of) -> tuple[list, list]:
        n = len(columns["birth_date"])
        sim = SimulationBuilder().build_default_simulation(self.tbs, count=n)
        for name in FIELDS:
            values = columns[name]
            if name in ENUMS:
                index = np.fromiter(map(self.indices[name].__getitem__, values), dtype=np.int16, count=n)
                values = EnumArray(index, ENUMS[name])
            elif name == "unemployed_since":
                values = np.array([v or NO_DATE for v in values], dtype="datetime64[D]")
            elif name == "birth_date":
                values = np.array(values, dtype="datetime64[D]")
            else:
                values = np.fromiter(values, dtype=bool, count=n)
            sim.set_input("dul_" + name, "ETERNITY", values)
        day = as_of.isoformat()
        eligible = sim.calculate("dul_eligible", day)
        band = sim.calculate("dul_band", day).decode_to_str()
        return eligible.tolist(), list(map(band_id, band.tolist()))


# OpenFisca's own web API over the same tax and benefit system (served by gunicorn in bench.compare)
def create_app():
    from openfisca_web_api.app import create_app as _create
    return _create(tax_benefit_system())


def situation(person: dict, day: str) -> dict:
    """One person as an OpenFisca situation (the web API's /calculate body), asking for the decision."""
    facts = {}
    for name in FIELDS:
        value = person[name]
        if value is None:
            value = NO_DATE if name == "unemployed_since" else "none"
        facts["dul_" + name] = {"ETERNITY": value}
    facts["dul_eligible"] = {day: None}
    facts["dul_band"] = {day: None}
    return {"persons": {"p": facts}}


def band_id(name: str) -> str | None:
    """OpenFisca answers an enum by its member's name ("b3"); almp's fascia id, or None."""
    value = _BAND_IDS[name]
    return None if value == "none" else value
