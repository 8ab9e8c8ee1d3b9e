"""Why an auditor reads a stored decision: asked before the console opens, replays or re-evaluates it, and
recorded with every read-log entry of it, under the API's rules for a purpose (never in a URL)."""
from __future__ import annotations

import pytest

from api import access

from .conftest import csrf_of, sign_in, state_purpose
from .test_decisioni import stored_decision


def _reads(client, decision_id):
    with client.app.state.service.store.reading() as session:
        return [e for e in access.listing(session, decision_id=decision_id) if e["caller"] == "revisore.verdi"]


def test_the_decision_is_not_read_before_the_auditor_says_why(console_client):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    asked = console_client.get(f"/console/decisioni/{decision_id}")
    assert asked.status_code == 200 and 'id="modulo-scopo"' in asked.text
    assert 'id="fatti"' not in asked.text and "10/01/1981" not in asked.text  # no fact shown yet
    assert _reads(console_client, decision_id) == []  # and nothing read
    # a statement asked for directly is a read too: it sends the auditor to the question first
    pdf = console_client.get(f"/console/decisioni/{decision_id}/motivazione.pdf", follow_redirects=False)
    assert pdf.status_code == 303 and pdf.headers["location"].endswith(f"/console/decisioni/{decision_id}")
    assert _reads(console_client, decision_id) == []


def test_the_purpose_goes_with_every_read_replay_and_statement(console_client):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    asked = console_client.get(f"/console/decisioni/{decision_id}").text
    opened = console_client.post(f"/console/decisioni/{decision_id}",
                                 data={"csrf_token": csrf_of(asked), "scopo": "appeal", "dettaglio": "prot.  123/2026 "})
    assert opened.status_code == 200 and 'id="intestazione"' in opened.text
    assert str(opened.url).endswith(f"/console/decisioni/{decision_id}")  # redirected: the purpose is no query
    assert "123" not in opened.url.query.decode() if isinstance(opened.url.query, bytes) else "123" not in opened.url.query
    assert "«ricorso o reclamo: prot. 123/2026»" in opened.text
    console_client.get(f"/console/decisioni/{decision_id}/motivazione.pdf")
    token = csrf_of(opened.text)
    console_client.post(f"/console/decisioni/{decision_id}/riesegui",
                        data={"csrf_token": token, "scopo": "inspection", "dettaglio": "verbale 7"})
    console_client.post(f"/console/decisioni/{decision_id}/rivaluta", data={"csrf_token": token, "edizione": "2023"})
    by_action = {}
    for e in _reads(console_client, decision_id):
        by_action.setdefault(e["action"], []).append(e["purpose"])
    assert by_action["statement.pdf"] == ["ricorso o reclamo: prot. 123/2026"]
    assert by_action["replay"] == ["ispezione o audit: verbale 7"]
    assert by_action["what-if"] == ["ispezione o audit: verbale 7"]  # the purpose changed with the replay stays
    assert by_action["read"][0] == "ricorso o reclamo: prot. 123/2026"
    assert set(by_action["read"][1:]) == {"ispezione o audit: verbale 7"}
    assert {e["via"] for e in _reads(console_client, decision_id)} == {"console"}


def test_the_read_log_of_the_api_shows_the_consoles_purpose(console_client):
    from .conftest import KEYS
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    state_purpose(console_client, decision_id, "access_request", "istanza 2026/44")
    answer = console_client.get("/v1/audit/reads", params={"decision_id": decision_id},
                                headers={"X-API-Key": KEYS["revisore"][0]})
    assert answer.status_code == 200, answer.text
    purposes = {(e["action"], e["purpose"]) for e in answer.json()["reads"]}
    assert ("read", "richiesta di accesso dell'interessato: istanza 2026/44") in purposes
    assert answer.json()["chain"]["ok"] is True


@pytest.mark.parametrize("scopo, dettaglio, status, message", [
    ("other", "", 422, "Con «altro» scriva il motivo"),
    ("appeal", "x" * 121, 422, "supera 120 caratteri"),
    ("appeal", "prot.\x07 12", 422, "caratteri non ammessi"),
    ("hacking", "", 422, "Motivo non riconosciuto"),
])
def test_a_purpose_that_will_not_do_is_asked_again(console_client, scopo, dettaglio, status, message):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    asked = console_client.get(f"/console/decisioni/{decision_id}").text
    again = console_client.post(f"/console/decisioni/{decision_id}",
                                data={"csrf_token": csrf_of(asked), "scopo": scopo, "dettaglio": dettaglio})
    assert again.status_code == status and message in again.text.replace("&#39;", "'")
    assert 'id="modulo-scopo"' in again.text and 'id="fatti"' not in again.text
    assert _reads(console_client, decision_id) == []


def test_without_a_required_purpose_nothing_is_read(console_client, monkeypatch):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    state_purpose(console_client, decision_id, scopo="", dettaglio="")  # allowed: recorded as unspecified
    assert {e["purpose"] for e in _reads(console_client, decision_id)} == {"unspecified"}
    monkeypatch.setenv("ALMP_REQUIRE_PURPOSE", "1")
    asked = console_client.get(f"/console/decisioni/{decision_id}")  # the empty purpose no longer counts
    assert 'id="modulo-scopo"' in asked.text and "<select id=\"scopo\" name=\"scopo\" required>" in asked.text
    before = len(_reads(console_client, decision_id))
    refused = console_client.post(f"/console/decisioni/{decision_id}",
                                  data={"csrf_token": csrf_of(asked.text), "scopo": "", "dettaglio": ""})
    assert refused.status_code == 428 and "richiede un motivo" in refused.text
    replay = console_client.post(f"/console/decisioni/{decision_id}/riesegui",
                                 data={"csrf_token": csrf_of(asked.text), "scopo": "", "dettaglio": ""})
    assert replay.status_code == 428 and 'id="esito-riesecuzione"' not in replay.text
    assert len(_reads(console_client, decision_id)) == before
    state_purpose(console_client, decision_id, scopo="", dettaglio="controllo a campione")
    assert _reads(console_client, decision_id)[-1]["purpose"] == "controllo a campione"


def test_the_decision_page_in_english(console_client):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    console_client.get("/console/decisioni", params={"lang": "en"})
    page = state_purpose(console_client, decision_id, "compliance", "")
    assert '<html lang="en">' in page and f"Decision {decision_id}" in page
    assert "Outcome and reasons" in page and "€1,800.00" in page and "1.800,00" not in page
    assert "10 Jan 1981" in page  # the facts' dates as an English reader writes them
    assert "“controllo di conformità”" in page  # the register keeps the Italian words of the purpose
    assert _reads(console_client, decision_id)[-1]["purpose"] == "controllo di conformità"
