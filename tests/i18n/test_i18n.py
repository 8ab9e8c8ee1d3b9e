"""The shared i18n foundation: it-IT formats, language choice, catalogue coverage, sentences."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from engine import i18n
from engine.expr.italian import describe
from engine.i18n.check import missing
from engine.policy.facts import load_dictionary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dictionary():
    return load_dictionary(ROOT / "policies" / "national" / "facts.yaml")


def test_italian_formats_by_default():
    assert i18n.language() == "it"
    assert i18n.money(Decimal("1800")) == "1.800,00 €"
    assert i18n.money(Decimal("2600.5")) == "2.600,50 €"
    assert i18n.date(dt.date(2019, 4, 15)) == "15/04/2019"
    assert i18n.percent(Decimal("0.125")) == "12,5%"
    assert i18n.duration(months=6, days=12) == "6 mesi e 12 giorni"
    assert i18n.duration(months=1) == "1 mese"
    assert i18n.number(1234567) == "1.234.567"


def test_english_on_request_and_from_lang(monkeypatch):
    assert i18n.money(Decimal("1800"), lang="en") == "€1,800.00"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert i18n.language() == "en"
    assert i18n.percent(Decimal("0.125")) == "12.5%"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.language() == "it"  # C is no language: Italian stays the default
    i18n.set_language("en")
    assert i18n._("at least") == "at least"
    i18n.set_language("it")
    assert i18n._("at least") == "non inferiore a"
    with pytest.raises(i18n.LanguageError):
        i18n.set_language("fr")


def test_money_refuses_float():
    with pytest.raises(TypeError):
        i18n.money(1800.0)


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_money_reads_back(amount):
    text = i18n.money(amount)
    assert text.endswith(" €")
    assert Decimal(text[:-2].replace(".", "").replace(",", ".")) == amount


def test_edition_name_from_title_and_version():
    doc = {"title": "Dote Unica Lavoro – terza fase (POR FSE 2014-2020, Asse I)", "version": "2019"}
    assert i18n.edition_name(doc) == "Dote Unica Lavoro – terza fase (2019)"
    assert i18n.edition_name({"title": "Assegno di ricollocazione – sperimentazione 2017 (delibera)",
                              "version": "2017"}) == "Assegno di ricollocazione – sperimentazione 2017"
    assert i18n.edition_name({"id": "x/y", "version": "1"}) == "x/y@1"


def test_every_message_has_its_italian():
    assert missing("it") == []


def test_expressions_read_as_italian_sentences(dictionary):
    assert describe("age <= eta_max", dictionary, {"eta_max": 65}) == "età compiuta non superiore a 65 anni"
    assert describe('employment_status == "unemployed"', dictionary) == "condizione occupazionale: disoccupato"
    assert describe('income_support in ["naspi", "dis_coll"]', dictionary) == \
        "ammortizzatore / sostegno al reddito: NASpI o DIS-COLL"
    assert describe("not disability_l68", dictionary) == "iscritto L. 68/1999: no"
    assert describe('age >= 30 and (residence_region == "lombardia" or domicile_region == "emilia_romagna")',
                    dictionary) == ("età compiuta non inferiore a 30 anni e (regione di residenza: Lombardia "
                                    "o regione di domicilio: Emilia-Romagna)")
    assert describe("age <= 65", dictionary, lang="en") == "età compiuta not more than 65 years"


def test_unparsable_expression_is_shown_as_written(dictionary):
    assert describe("age <=", dictionary) == "age <="


def test_every_shipped_condition_reads_without_syntax(dictionary):
    from engine.policy.registry import Registry
    from engine.expr.italian import sentence
    registry = Registry.load(ROOT / "policies")
    for policy in registry.policies:
        for rule in policy.rules():
            text = sentence(rule.condition.node, dictionary)
            for token in ("==", "!=", "<=", ">=", "[", "]", '"', " and ", " or "):
                assert token not in text, (policy.key, rule.key, text)
