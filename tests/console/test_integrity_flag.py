"""Issue 19, defect 7: the console's decision page flags a row that fails its hash or chain checks."""
from __future__ import annotations

from .conftest import sign_in, state_purpose
from .test_decisioni import stored_decision


def test_a_sound_decision_page_has_no_flag(console_client):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    page = state_purpose(console_client, decision_id)
    assert 'id="integrita-riga"' not in page


def test_an_altered_decision_page_is_flagged(console_client):
    from sqlalchemy import update

    from api.store.tables import Decision
    decision_id = stored_decision(console_client)
    with console_client.app.state.service.store.transaction() as session:
        session.execute(update(Decision).where(Decision.id == decision_id).values(caller="mallory"))
    sign_in(console_client, "revisore")
    page = state_purpose(console_client, decision_id)
    assert 'id="integrita-riga"' in page and "Riga non integra" in page
    assert "non corrisponde più al suo hash" in page
