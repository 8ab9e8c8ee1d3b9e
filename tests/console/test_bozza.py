"""Bozza: a draft from new-avviso, validated at the line, tested, diffed, simulated, downloaded;
the published editions never change."""
from __future__ import annotations

import hashlib
from pathlib import Path

from .conftest import csrf_of, sign_in

PUBLISHED = Path("policies/lombardia/dote-unica-lavoro/2020.yaml")
NEW = "/console/bozza?programma=lombardia/dote-unica-lavoro&da_edizione=2020&versione=2026&dal=2026-05-01"


def draft_text(html: str) -> str:
    import html as h
    start = html.index(">", html.index('<textarea id="testo"')) + 1
    return h.unescape(html[start:html.index("</textarea>", start)])


def raised(text: str) -> str:
    """DUL IV's fascia 4 dote raised from 3000.00 to 3500.00."""
    assert text.count("value: 3000.00") == 1
    return text.replace("value: 3000.00", "value: 3500.00")


def test_a_draft_from_new_avviso_validates(console_client):
    sign_in(console_client, "funzionario")
    html = console_client.get(NEW).text
    assert 'id="bozza-valida"' in html and "versione 2026" in html
    text = draft_text(html)
    assert 'version: "2026"' in text and "status: draft" in text and "valid_from: 2026-05-01" in text


def test_an_error_is_shown_at_its_line(console_client):
    sign_in(console_client, "funzionario")
    html = console_client.get(NEW).text
    text = draft_text(html).replace("when: age <= eta_max\n", "when: age <= eta_massima\n")
    line = text.splitlines().index("    when: age <= eta_massima") + 1
    response = console_client.post("/console/bozza/valida", data={"csrf_token": csrf_of(html), "testo": text},
                                   headers={"HX-Request": "true"})
    assert "1 errore" in response.text
    assert f"riga {line}, colonna" in response.text and "eta_massima" in response.text
    assert "eta_max" in response.text  # the suggestion


def test_tests_diff_simulation_and_download(console_client):
    before = hashlib.sha256(PUBLISHED.read_bytes()).hexdigest()
    sign_in(console_client, "funzionario")
    html = console_client.get(NEW).text
    token, text = csrf_of(html), raised(draft_text(html))
    body = {"csrf_token": token, "testo": text, "confronto": "2020"}
    tests = console_client.post("/console/bozza/test", data=body, headers={"HX-Request": "true"}).text
    # the DUL IV case of fascia 4 expects 3000.00: raising the dote makes exactly that case fail
    assert "1 falliti" in tests and "importo della dote: atteso 3.000,00 €, ottenuto 3.500,00 €" in tests
    diff = console_client.post("/console/bozza/confronta", data=body, headers={"HX-Request": "true"}).text
    assert "rispetto all&#39;edizione 2020" in diff and "3.500,00 €" in diff and "fascia" in diff.lower()
    sim = console_client.post("/console/bozza/simula", data=body, headers={"HX-Request": "true"}).text
    assert 'id="esito-simulazione"' in sim and "persone cambiano" in sim
    download = console_client.post("/console/bozza/scarica", data=body)
    assert download.headers["content-disposition"] == 'attachment; filename="2026.yaml"'
    assert download.text == text
    assert hashlib.sha256(PUBLISHED.read_bytes()).hexdigest() == before
    assert not Path("policies/lombardia/dote-unica-lavoro/2026.yaml").exists()


def test_the_page_works_without_javascript(console_client):
    sign_in(console_client, "funzionario")
    html = console_client.get(NEW).text
    response = console_client.post("/console/bozza/test", data={"csrf_token": csrf_of(html), "testo": draft_text(html)})
    assert "<html" in response.text and "Test della bozza" in response.text
    assert draft_text(response.text) == draft_text(html)  # the draft stays in the editor


def test_drafts_need_the_officer_role(console_client):
    sign_in(console_client, "operatore")
    assert console_client.get("/console/bozza").status_code == 403


def test_an_uploaded_file_becomes_the_draft(console_client):
    sign_in(console_client, "funzionario")
    html = console_client.get(NEW).text
    text = raised(draft_text(html))
    response = console_client.post("/console/bozza/carica", data={"csrf_token": csrf_of(html)},
                                   files={"file": ("2026.yaml", text.encode("utf-8"), "application/yaml")})
    assert response.status_code == 200
    assert draft_text(response.text) == text and 'id="bozza-valida"' in response.text
    binary = console_client.post("/console/bozza/carica", data={"csrf_token": csrf_of(html)},
                                 files={"file": ("x.yaml", b"\xff\xfe\x00bad", "application/yaml")})
    assert "non è testo UTF-8" in binary.text


def test_case_failures_read_in_the_language_asked_for():
    from api.console.drafts import in_words as in_italian
    from engine.i18n import using
    with using("en"):
        assert in_italian("amount: expected '3000.00', got '3500.00'") == \
            "voucher amount: expected €3,000.00, got €3,500.00"
        assert in_italian("eligible: expected True, got False") == "eligibility: expected yes, got no"
    with using("it"):
        assert in_italian("amount: expected '3000.00', got '3500.00'") == \
            "importo della dote: atteso 3.000,00 €, ottenuto 3.500,00 €"
        assert in_italian("eligible: expected True, got False") == "ammissione: atteso sì, ottenuto no"
        assert in_italian("band: expected '2', got None") == "fascia: atteso 2, ottenuto nessuno"
        assert in_italian("expected an input error, got a decision") == \
            "atteso un errore (input), ottenuta invece una decisione"


def test_confronta_says_every_change_in_italian(console_client):
    sign_in(console_client, "funzionario")
    page = console_client.get("/console/confronta?programma=lombardia%2Fdote-unica-lavoro&da=2019&a=2020").text
    result = page[page.index('id="risultato"'):]
    assert "regola di ammissibilità «Età non superiore a 65 anni alla data della domanda»: motivo diventa" in result
    for english in ("reason", "reference.act", "reference.article", " becomes ", "(was ", "valid_from", "None"):
        assert english not in result, english
