"""Properties of the console's inputs: any text in any field gives an answer page, never an error
page or a stored decision; only console paths are followed after sign-in."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.console.app import _safe_next

from .conftest import csrf_of, sign_in
from .test_verifica import DUL_IV, open_form, stored_count

FACTS = ["birth_date", "gender", "residence_region", "employment_status", "unemployed_since",
         "income_support", "solidarity_agreement", "active_measures", "workplace_region"]
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@given(st.text(max_size=400))
def test_only_console_paths_are_followed(path):
    target = _safe_next(path)
    assert target == "" or (target.startswith("/") and not target.startswith("//") and "\\" not in target)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(FACTS), texts, max_size=len(FACTS)), day=texts)
def test_any_form_gives_an_answer_and_stores_nothing(console_client, values, day):
    sign_in(console_client, "operatore")
    html = open_form(console_client)
    body = {"csrf_token": csrf_of(html), "programma": DUL_IV, "data": day,
            **{f"f_{name}": value for name, value in values.items()}}
    response = console_client.post("/console/verifica/esito", data=body)
    assert response.status_code == 200, response.text[:500]
    assert "Errore interno" not in response.text
    assert stored_count(console_client) == 0
