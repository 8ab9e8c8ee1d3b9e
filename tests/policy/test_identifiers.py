"""Italian identifiers: regions by ISTAT code, official name or almp code; the codice fiscale."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.it import codicefiscale

from engine.decide.evaluate import evaluate
from engine.decide.backends import ReferenceBackend
from engine.errors import InputErrors
from engine.policy import regions
from engine.policy.codice_fiscale import birth_date_and_gender

from ..conftest import POLICIES, REPO

AS_OF = dt.date(2014, 3, 1)
PERSON = json.loads((REPO / "examples" / "person-dul.json").read_text())


def test_the_table_has_every_region_of_the_fact_dictionary_and_nothing_else(registry):
    listed = set(registry.dictionary.enums["regions"].values)
    table = {r.almp_code for r in regions.regions()}
    assert table == listed
    assert len([r for r in regions.regions() if r.kind == "regione"]) == 20


@pytest.mark.parametrize("given_as, code, istat", [
    ("03", "lombardia", "03"), ("3", "lombardia", "03"), ("Lombardia", "lombardia", "03"),
    ("lombardia", "lombardia", "03"), ("LOMBARDIA", "lombardia", "03"),
    ("Emilia-Romagna", "emilia_romagna", "08"), ("emilia romagna", "emilia_romagna", "08"),
    ("Valle d'Aosta/Vallée d'Aoste", "valle_d_aosta", "02"), ("Vallée d'Aoste", "valle_d_aosta", "02"),
    ("valle d'aosta", "valle_d_aosta", "02"), ("Friuli-Venezia Giulia", "friuli_venezia_giulia", "06"),
    ("Trentino-Alto Adige/Südtirol", "trentino_alto_adige", "04"), ("Südtirol", "trentino_alto_adige", "04"),
    ("Trento", "trentino_alto_adige", "04"), ("Provincia autonoma di Bolzano", "trentino_alto_adige", "04"),
    ("Bozen", "trentino_alto_adige", "04"), ("021", "trentino_alto_adige", "04"), ("022", "trentino_alto_adige", "04"),
])
def test_a_region_is_recognised_in_every_form(given_as, code, istat):
    region = regions.resolve(given_as)
    assert region is not None
    canonical = region.canonical()
    assert (canonical["code"], canonical["istat"]) == (code, istat)


def test_an_autonomous_province_keeps_its_own_code_in_the_canonical_form():
    assert regions.resolve("Trento").canonical()["provincia_autonoma"] == {"istat": "022", "name": "Trento"}
    assert "provincia_autonoma" not in regions.resolve("04").canonical()


def test_lombardia_03_and_lowercase_give_identical_decisions(dul):
    decisions = {json.dumps(evaluate(dul, {**PERSON, "residence_region": form, "domicile_region": form}, AS_OF,
                                     ReferenceBackend(dul)), sort_keys=True)
                 for form in ("Lombardia", "03", "lombardia")}
    assert len(decisions) == 1


def test_an_unknown_region_names_the_field_and_the_closest_names(dul):
    with pytest.raises(InputErrors) as info:
        evaluate(dul, {**PERSON, "residence_region": "Lombardy"}, AS_OF)
    (problem,) = info.value.problems
    assert problem.path == ("person", "residence_region")
    assert "'Lombardia'" in problem.message


def test_the_table_is_what_the_generator_makes_of_istat_rows(tmp_path):
    header = ["Codice Regione", "Codice dell'Unità territoriale sovracomunale \n(valida a fini statistici)",
              "x", "x", "x", "x", "x", "x", "x", "x", "Denominazione Regione",
              "Denominazione dell'Unità territoriale sovracomunale \n(valida a fini statistici)",
              "Tipologia di Unità territoriale sovracomunale ", "x", "x", "x", "x", "x", "x", "x", "x", "x", "x",
              "x", "Codice NUTS2 2024 (3) ", "x"]
    rows = [["03", "215", *["x"] * 8, "Lombardia", "Milano", "3", *["x"] * 11, "ITC4", "x"],
            ["04", "022", *["x"] * 8, "Trentino-Alto Adige/Südtirol", "Trento", "2", *["x"] * 11, "ITH2", "x"]]
    path = tmp_path / "istat.csv"
    with path.open("w", encoding="latin-1") as out:
        for row in [header, *rows]:
            out.write(";".join(f'"{c}"' if "\n" in c else c for c in row) + "\n")
    built = regions.build_table(path)
    assert [(r["istat_code"], r["almp_code"], r["kind"]) for r in built] == [
        ("03", "lombardia", "regione"), ("04", "trentino_alto_adige", "regione"),
        ("022", "trentino_alto_adige", "provincia_autonoma")]


# -- codice fiscale ----------------------------------------------------------------------------------
def make_code(born: dt.date, gender: str, omocode: bool = False) -> str:
    months = "ABCDEHLMPRST"
    day = born.day + (40 if gender == "F" else 0)
    body = f"RSSMRA{born.year % 100:02d}{months[born.month - 1]}{day:02d}F205"
    if omocode:  # omocodia: digits from the right replaced by letters
        body = body[:12] + "".join("LMNPQRSTUV"[int(c)] for c in body[12:15])
    return body + codicefiscale.calc_check_digit(body)


@settings(max_examples=100, deadline=None)
@given(born=st.dates(dt.date(1925, 1, 1), dt.date(2008, 12, 31)), gender=st.sampled_from(["F", "M"]),
       omocode=st.booleans())
def test_birth_date_and_gender_are_read_back_from_a_code(born, gender, omocode):
    assert birth_date_and_gender(make_code(born, gender, omocode), dt.date(2024, 1, 1)) == (born, gender)


def test_the_code_fills_in_birth_date_and_gender(dul):
    person = {k: v for k, v in PERSON.items() if k not in ("birth_date", "gender")}
    code = make_code(dt.date.fromisoformat(PERSON["birth_date"]), PERSON["gender"])
    assert evaluate(dul, {**person, "codice_fiscale": code}, AS_OF) == evaluate(dul, PERSON, AS_OF)


def test_a_wrong_check_character_names_the_field_and_not_the_code(dul):
    code = make_code(dt.date(1970, 5, 4), "F")
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(InputErrors) as info:
        evaluate(dul, {**PERSON, "codice_fiscale": wrong}, AS_OF)
    (problem,) = info.value.problems
    assert problem.path == ("person", "codice_fiscale") and problem.code == "invalid_codice_fiscale"
    assert "carattere di controllo" in problem.message and wrong not in problem.message


def test_a_code_contradicting_the_given_birth_date_names_birth_date(dul):
    code = make_code(dt.date(1970, 5, 4), PERSON["gender"])
    with pytest.raises(InputErrors) as info:
        evaluate(dul, {**PERSON, "codice_fiscale": code}, AS_OF)
    assert [p.path for p in info.value.problems] == [("person", "birth_date")]
    assert "1970" not in str(info.value)


def test_input_problems_speak_italian_and_english_on_request(dul):
    from engine.i18n import set_language
    bad = {**PERSON, "eta_anagrafica": 40}
    del bad["birth_date"]
    for lang, unknown, required in (("it", "fatto sconosciuto 'eta_anagrafica'", "è richiesto da questa policy"),
                                    ("en", "unknown fact 'eta_anagrafica'", "is required by this policy")):
        set_language(lang)
        try:
            with pytest.raises(InputErrors) as info:
                evaluate(dul, bad, AS_OF)
        finally:
            set_language(None)
        messages = {p.path[-1]: p.message for p in info.value.problems}
        assert messages["eta_anagrafica"].startswith(unknown), messages
        assert required in messages["birth_date"], messages
