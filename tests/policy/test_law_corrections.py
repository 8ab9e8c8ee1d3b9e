"""Checks across the shipped editions for the corrections of issue 13.

Each test states a property the review found violated: a Dote Unica Lavoro edition for every
day since 21/10/2013, budget lines that fit their total, legal bases no later than the
edition they found, and `almp validate` listing every placeholder and uncertain figure.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from almp.cli import main
from engine.errors import PolicyNotFound

from ..conftest import POLICIES

DUL = "lombardia/dote-unica-lavoro"
FIRST_DAY = dt.date(2013, 10, 21)
DUL_V_LAST_DAY = dt.date(2026, 4, 30)  # the DUL V call closes then; no later edition was found


def test_every_day_from_the_first_dul_application_has_exactly_one_edition(registry):
    day, last = FIRST_DAY, min(dt.date.today(), DUL_V_LAST_DAY)
    seen = []
    while day <= last:
        policy = registry.get(DUL, None, day)  # raises PolicyNotFound on a gap
        if not seen or seen[-1] != policy.version:
            seen.append(policy.version)
        day += dt.timedelta(days=1)
    assert seen == ["2013", "2016", "2019", "2020", "2023"][:len(seen)]
    assert len(seen) >= 5
    with pytest.raises(PolicyNotFound):
        registry.get(DUL, None, FIRST_DAY - dt.timedelta(days=1))
    with pytest.raises(PolicyNotFound):
        registry.get(DUL, None, DUL_V_LAST_DAY + dt.timedelta(days=1))


@pytest.mark.parametrize("day,version", [("2015-07-01", "2013"), ("2016-01-14", "2013"), ("2016-01-15", "2016"),
                                         ("2017-06-01", "2016"), ("2019-01-21", "2016"), ("2019-01-22", "2019"),
                                         ("2020-11-09", "2020"), ("2023-05-02", "2023")])
def test_the_edition_in_force_at_each_boundary(registry, day, version):
    assert registry.get(DUL, None, dt.date.fromisoformat(day)).version == version


def test_budget_lines_fit_within_the_total(registry):
    for policy in registry.policies:
        budget = policy.document.get("budget") or {}
        total = (budget.get("amount") or {}).get("value")
        parts = [(p.get("amount") or {}).get("value") for p in budget.get("parts", [])]
        parts = [Decimal(v) for v in parts if v is not None]
        if total is not None and parts:
            assert sum(parts) <= Decimal(total), f"{policy.key}: parts {sum(parts)} exceed the total {total}"


def test_legal_bases_do_not_postdate_the_edition(registry):
    for policy in registry.policies:
        end = policy.valid_to or dt.date.today()
        for act in policy.document.get("legal_basis", []):
            if act.get("date"):
                assert dt.date.fromisoformat(act["date"]) <= end, f"{policy.key}: {act['id']} postdates the edition"


def test_validate_lists_the_rounding_rule_the_durations_and_the_uncertain_figures(capsys):
    assert main(["validate", str(POLICIES / "national" / "assegno-di-ricollocazione" / "2019.yaml"),
                 str(POLICIES / "lombardia" / "dote-unica-lavoro" / "2023.yaml"),
                 str(POLICIES / "lombardia" / "dote-unica-lavoro" / "2019.yaml"), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "placeholder rounding.rule = cent_half_up" in out
    for band in range(4):
        assert f"placeholder bands.{band}.benefit.duration_months" in out
    assert "uncertain   parameters.data_naspi_oltre_4_mesi = 2019-04-15" in out
    assert "uncertain   parameters.data_avvio_adrdc = 2020-01-13" in out
    assert "uncertain   importo per i titolari di accordo di ricollocazione senza indice di profilazione:" in out


def test_every_point_left_open_in_an_edition_is_listed_by_validate(capsys, registry):
    assert main(["validate", str(POLICIES), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    points = [p for policy in registry.policies for p in policy.document.get("uncertain", [])]
    assert len(points) >= 10
    for point in points:
        assert f"uncertain   {point['about']}: {point['missing']}" in out


def test_art_18_letters_follow_the_statute(registry):
    policy = registry.get("national/assegno-di-ricollocazione", "2019")
    services = policy.costs.catalogue.services
    assert "autoimpiego" in services["d"].label and "tutoraggio" in services["d"].label
    assert "formazione" in services["e"].label and "qualificazione" in services["e"].label
    assert "Accompagnamento al lavoro" in services["f"].label and "ricollocazione" in services["f"].label
    assert "tirocinio" in services["g"].label
    assert "incentivi all'attività di lavoro autonomo" in services["h"].label
    # the AdR is paid through letter f; DUL training is letter e
    assert policy.costs.outcomes.service == "f"
    dul = registry.get(DUL, "2013")
    assert "Formazione" in dul.costs.service("e").label
