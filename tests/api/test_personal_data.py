"""Personal data never in logs or error bodies (issue 19, defect 3).

A write failing inside the database used to print SQLAlchemy's ``[parameters: …]`` line with the
whole stored input; a 422 echoed the values sent, in full. Here decisions run against a store that
fails their write, and every log line (every logger, INFO and above, tracebacks included) and every
answer is searched for the values sent.
"""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import create_engine, text

from .conftest import PERSON, TestClient, eligibility_body, headers, personal_data_in

# values no other test sends, so a hit can only come from this test's requests
BIRTH = "1958-07-23"
CODE = "RSSMRA58L23F205L"  # the codice fiscale of a man born on 1958-07-23 in Milan


def _person():
    return {**PERSON, "birth_date": BIRTH, "gender": "M", "income_support": "naspi"}


@pytest.fixture
def sqlite_only(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the failing write is staged with an SQLite trigger")
    return db_url


def _break_writes(url: str, how: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if how == "trigger":  # the database refuses the row: an error the service does not expect
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON decisions "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
        else:  # the table is gone: the store is unusable
            conn.execute(text("ALTER TABLE decisions RENAME TO decisions_away"))
    engine.dispose()


@pytest.fixture
def sql_logged():
    """SQLAlchemy's statement log on (an operator debugging the store would turn it on)."""
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("how", ["trigger", "missing table"])
def test_a_failing_write_logs_no_personal_value(sqlite_only, client, no_personal_data_in_logs, sql_logged, how):
    assert client.post("/v1/eligibility", json=eligibility_body(_person()), headers=headers("evaluate")).status_code == 200
    _break_writes(sqlite_only, how)
    client = TestClient(client.app, raise_server_exceptions=False)  # a 500 is answered, as a server does
    from_code = {k: v for k, v in _person().items() if k != "birth_date"}
    for body in (eligibility_body(_person()), eligibility_body({**from_code, "codice_fiscale": CODE})):
        response = client.post("/v1/eligibility", json=body, headers=headers("evaluate"))
        assert response.status_code in (500, 503), response.text
        assert BIRTH not in response.text and CODE not in response.text
    lines = no_personal_data_in_logs.lines
    assert lines, "the failure was not logged at all"
    assert any("INSERT" in line or "decisions" in line for line in lines), "the failing statement was not logged"
    assert personal_data_in(lines, (BIRTH, CODE)) == []


def test_the_log_check_finds_a_leak():
    """The check itself can fail: a line with the birth date or a codice fiscale is found."""
    assert personal_data_in([f"parameters: ('{BIRTH}',)"], (BIRTH,))
    assert personal_data_in([f"INSERT ... [parameters: ('{CODE}',)]"])
    assert not personal_data_in(["INSERT ... [SQL parameters hidden due to hide_parameters=True]"], (BIRTH,))


@pytest.mark.parametrize("fact, value", [
    ("birth_date", "1958-13-45"), ("birth_date", "x" * 500_000), ("gender", "Maschio-1958-07-23"),
    ("income_support", "naspi-since-1958-07-23"), ("residence_region", "Lombardia 1958-07-23"),
    ("solidarity_agreement", "yes 1958-07-23"), ("unemployed_since", 19580723)])
def test_a_422_names_the_fact_but_never_echoes_its_value(client, fact, value):
    response = client.post("/v1/eligibility", json=eligibility_body({**_person(), fact: value}),
                           headers=headers("evaluate"))
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "person", fact]
    shown = str(value)
    assert shown not in response.text and "1958-07-23" not in response.text and "19580723" not in response.text
    assert len(response.content) < 2_000


def test_a_422_echoes_at_most_a_short_prefix_of_a_non_personal_text(client):
    plan = {"person": _person(), "services": [{"code": "a", "quantity": "9" * 600, "delivery": "d" * 600}]}
    response = client.post("/v1/plans", json={"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01",
                                              "plan": plan}, headers=headers("evaluate"))
    assert response.status_code == 422
    assert "9" * 65 not in response.text and "d" * 65 not in response.text
    assert json.loads(response.text)["detail"]
