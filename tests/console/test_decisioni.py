"""Decisioni: search, a decision with its facts (read logged), replay, re-evaluation, chain status."""
from __future__ import annotations

import logging
import uuid

from .conftest import csrf_of, sign_in, state_purpose
from .test_verifica import DUL_IV, dul_iv_case, form_of, open_form


# the codice fiscale of a man born on 10/01/1981 (the DUL IV case's person), check character by python-stdnum
CODICE_FISCALE = "RSSMRA81A10F205A"


def stored_decision(client, codice_fiscale: str | None = None) -> str:
    """Store one DUL IV decision through the operator's form; returns its id."""
    case = dul_iv_case(0)
    sign_in(client, "operatore")
    html = open_form(client, day=case["as_of"].isoformat())
    body = {"csrf_token": csrf_of(html), "programma": DUL_IV, "data": case["as_of"].isoformat(), "token": uuid.uuid4().hex,
            **form_of(case["person"])}
    if codice_fiscale:
        body["f_codice_fiscale"] = codice_fiscale
    text = client.post("/console/verifica/registra", data=body).text
    start = text.index("<code>", text.index('id="decisioni-registrate"')) + len("<code>")
    return text[start:text.index("</code>", start)]


def test_a_user_without_the_role_is_refused(console_client):
    sign_in(console_client, "operatore")
    response = console_client.get("/console/decisioni")
    assert response.status_code == 403
    assert "Revisore" in response.text
    menu = console_client.get("/console/").text
    assert "Verifica una persona" in menu and "/console/decisioni" not in menu


def test_find_by_programme_and_outcome_then_open_logged(console_client, caplog):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    html = console_client.get("/console/decisioni").text
    assert decision_id[:8] in html  # newest first
    token = csrf_of(html)
    found = console_client.post("/console/decisioni", data={"csrf_token": token, "programma":
                                                          "lombardia/dote-unica-lavoro", "esito": "ammesso"}).text
    assert decision_id in found
    none = console_client.post("/console/decisioni", data={"csrf_token": token, "esito": "non-ammesso"}).text
    assert decision_id not in none and "Nessuna decisione trovata" in none
    by_id = console_client.post("/console/decisioni", data={"csrf_token": token, "id": decision_id}).text
    assert by_id.count(f'/console/decisioni/{decision_id}"') == 1
    with caplog.at_level(logging.INFO, logger="almp.console.reads"):
        page = state_purpose(console_client, decision_id)
    assert "Ammesso" in page and "fascia 2" in page and "1.800,00" in page
    facts = page[page.index('id="fatti"'):page.index("</table>", page.index('id="fatti"'))]
    assert "Data di nascita</th><td>10/01/1981" in facts  # the facts are shown, in words...
    assert "Condizione occupazionale</th><td>disoccupato" in facts and "Regione di residenza</th><td>Lombardia" in facts
    assert "False" not in facts and "unemployed" not in facts
    reads = [r.getMessage() for r in caplog.records if r.name == "almp.console.reads"]
    assert reads and decision_id in reads[0] and "revisore.verdi" in reads[0]
    assert "1981-01-10" not in " ".join(reads)  # ...and the log says who read which decision, not the data


def test_replay_whatif_and_chain(console_client):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    page = state_purpose(console_client, decision_id)
    token = csrf_of(page)
    replay = console_client.post(f"/console/decisioni/{decision_id}/riesegui", data={"csrf_token": token}).text
    assert "risultato identico" in replay
    whatif = console_client.post(f"/console/decisioni/{decision_id}/rivaluta",
                                 data={"csrf_token": token, "edizione": "2023"}).text
    assert "Con l'edizione <strong>2023</strong>" in whatif and "2023" in whatif
    chain = console_client.post("/console/decisioni/catena", data={"csrf_token": token}).text
    assert "Catena integra" in chain and "verificate 1 decisioni, fino alla riga 1," in chain


def test_the_edition_text_is_the_stored_one(console_client):
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    page = console_client.get(f"/console/decisioni/{decision_id}/edizione").text
    source = open("policies/lombardia/dote-unica-lavoro/2020.yaml", encoding="utf-8").read().splitlines()
    assert f'id="L{len(source)}"' in page and "Dote Unica Lavoro – quarta fase" in page


def test_unknown_decision_is_a_404_page(console_client):
    sign_in(console_client, "revisore")
    assert console_client.get("/console/decisioni/nope").status_code == 404
    # a codice fiscale typed where the id goes: the page says what is missing, never the code itself
    page = console_client.get(f"/console/decisioni/{CODICE_FISCALE}")
    main = page.text[page.text.index("<main"):page.text.index("</main>")]  # (the language links repeat the URL)
    assert page.status_code == 404 and CODICE_FISCALE not in main
    assert "la decisione richiesti non esistono" in page.text and "nessuna decisione" in page.text
    uuid_shaped = "0b8e7c1a-9a2f-4c1e-8f00-1234567890ab"
    assert uuid_shaped in console_client.get(f"/console/decisioni/{uuid_shaped}").text  # an id is said back


def test_an_altered_row_breaks_the_chain_status(console_client):
    from sqlalchemy import update

    from api.store.tables import Decision
    decision_id = stored_decision(console_client)
    service = console_client.app.state.service
    with service.store.transaction() as session:
        session.execute(update(Decision).where(Decision.id == decision_id)
                        .values(result_json='{"eligible":false}'))
    sign_in(console_client, "revisore")
    token = csrf_of(console_client.get("/console/decisioni").text)
    chain = console_client.post("/console/decisioni/catena", data={"csrf_token": token}).text
    assert "Catena interrotta" in chain and decision_id in chain


def test_the_statement_reads_inline_and_downloads_as_pdf(console_client):
    import io

    import pypdf
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    page = state_purpose(console_client, decision_id)
    inline = page[page.index('id="testo-motivazione"'):]
    assert "Motivazione del provvedimento" in inline and "Fatti accertati" in inline
    assert f"/console/decisioni/{decision_id}/motivazione.pdf" in page
    pdf = console_client.get(f"/console/decisioni/{decision_id}/motivazione.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f'filename="motivazione-{decision_id}.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "ammessa al programma" in " ".join(text.split()) and decision_id in text.replace("\n", "")
    assert console_client.get(f"/console/decisioni/{decision_id}/motivazione.exe").status_code == 404


def test_the_statement_needs_the_auditor(console_client):
    decision_id = stored_decision(console_client)  # signed in as the operator
    response = console_client.get(f"/console/decisioni/{decision_id}/motivazione.pdf")
    assert response.status_code == 403 and not response.content.startswith(b"%PDF")


def test_find_by_subject_codice_fiscale_never_in_a_url(console_client):
    with_code = stored_decision(console_client, CODICE_FISCALE)
    without = stored_decision(console_client)
    sign_in(console_client, "revisore")
    token = csrf_of(console_client.get("/console/decisioni").text)
    found = console_client.post("/console/decisioni", data={"csrf_token": token, "soggetto": CODICE_FISCALE.lower()})
    assert with_code in found.text and without not in found.text
    assert CODICE_FISCALE not in found.text and CODICE_FISCALE not in str(found.url)
    from api.pseudonym import of_codice_fiscale
    by_pseudonym = console_client.post("/console/decisioni", data={"csrf_token": token,
                                                                   "soggetto": of_codice_fiscale(CODICE_FISCALE)})
    assert with_code in by_pseudonym.text and without not in by_pseudonym.text
    other = console_client.post("/console/decisioni", data={"csrf_token": token, "soggetto": "BNCGNN80A01F205W"})
    assert with_code not in other.text
    bad = console_client.post("/console/decisioni", data={"csrf_token": token, "soggetto": "RSSMRA81A10F205B"})
    assert "non è valido" in bad.text and with_code not in bad.text
    page = state_purpose(console_client, with_code)
    assert CODICE_FISCALE not in page and of_codice_fiscale(CODICE_FISCALE)[:20] in page


def test_find_by_a_callers_subject_id(console_client):
    """A subject id is pseudonymised per caller (api.pseudonym): the search tries every caller in the log."""
    from sqlalchemy import update

    from api.pseudonym import of_subject_id
    from api.store.tables import Decision
    decision_id = stored_decision(console_client)
    service = console_client.app.state.service
    with service.store.transaction() as session:  # as a caller sending its own subject id would have it stored
        session.execute(update(Decision).where(Decision.id == decision_id)
                        .values(subject=of_subject_id("sportello-42", "operatore.rossi")))
    sign_in(console_client, "revisore")
    token = csrf_of(console_client.get("/console/decisioni").text)
    found = console_client.post("/console/decisioni", data={"csrf_token": token, "soggetto": "sportello-42"}).text
    assert decision_id in found
    other = console_client.post("/console/decisioni", data={"csrf_token": token, "soggetto": "sportello-43"}).text
    assert decision_id not in other and "Nessuna decisione trovata" in other


def test_every_read_goes_into_the_read_log_from_the_console(console_client):
    from api import access
    decision_id = stored_decision(console_client)
    sign_in(console_client, "revisore")
    token = csrf_of(state_purpose(console_client, decision_id))
    console_client.post(f"/console/decisioni/{decision_id}/riesegui", data={"csrf_token": token})
    console_client.get(f"/console/decisioni/{decision_id}/motivazione.pdf")
    service = console_client.app.state.service
    with service.store.reading() as session:
        entries = access.listing(session, decision_id=decision_id)
    mine = [(e["action"], e["via"]) for e in entries if e["caller"] == "revisore.verdi"]
    assert ("read", "console") in mine and ("replay", "console") in mine
    assert ("statement.html", "console") in mine and ("statement.pdf", "console") in mine


def test_an_erased_subjects_decision_opens_without_its_facts(console_client):
    from api.pseudonym import of_codice_fiscale
    decision_id = stored_decision(console_client, CODICE_FISCALE)
    service = console_client.app.state.service
    service.erase_subject(of_codice_fiscale(CODICE_FISCALE), by="dpo", why="richiesta dell'interessato")
    sign_in(console_client, "revisore")
    text = state_purpose(console_client, decision_id)
    assert "sono stati cancellati" in text and "Ammesso" in text
    assert "10/01/1981" not in text and "1981-01-10" not in text and 'id="riesegui"' not in text
    pdf = console_client.get(f"/console/decisioni/{decision_id}/motivazione.pdf")
    assert pdf.status_code == 410 and not pdf.content.startswith(b"%PDF")
