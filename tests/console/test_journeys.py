"""The console's journeys end to end in the system Chromium, with axe-core on every page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import assert_accessible, browser_sign_in
from .test_decisioni import CODICE_FISCALE
from .test_verifica import dul_iv_case


def fill_person(page, person: dict) -> None:
    for name, value in person.items():
        if isinstance(value, bool):
            page.select_option(f"#f_{name}", "si" if value else "no")
        elif isinstance(value, list):
            for item in value:
                page.check(f"input[name=f_{name}][value='{item}']")
        elif value is None:
            page.select_option(f"#f_{name}", "__null__")
        elif page.locator(f"select#f_{name}").count():
            page.select_option(f"#f_{name}", str(value))
        else:
            page.fill(f"#f_{name}", value.isoformat() if hasattr(value, "isoformat") else str(value))


def test_operator_screens_then_auditor_replays(live_server, new_page):
    """An operator screens a person against every programme from partial facts, completes them and
    records the decisions; an auditor finds them by codice fiscale, reads and downloads the statement,
    replays the decision and checks the chain."""
    import io

    import pypdf
    case = dul_iv_case(0)
    day = case["as_of"].isoformat()
    operator = new_page()
    browser_sign_in(operator, live_server, "operatore")
    operator.click("nav#menu-principale >> text=Verifica una persona")
    assert_accessible(operator)
    assert operator.input_value("#programma") == "*"  # screening: every programme in force
    operator.fill("#data", day)
    operator.locator("#data").dispatch_event("change")
    operator.wait_for_url(re.compile(rf".*data={day}.*"))
    # the URL changes before htmx has settled the new page: wait for the form of the chosen date
    operator.wait_for_selector(f"#modulo input[name=data][value='{day}']", state="attached")
    operator.wait_for_load_state("networkidle")
    # partial facts: the codice fiscale gives birth date and gender; the answer says what is still needed, live
    operator.fill("#f_codice_fiscale", CODICE_FISCALE)
    operator.locator("#f_codice_fiscale").dispatch_event("change")
    operator.wait_for_selector("#esito >> text=Prossimo fatto da chiedere")
    dul = operator.locator("#esito section", has_text="Dote Unica Lavoro – quarta fase")
    assert "Da completare" in dul.inner_text() and "Regione di residenza" in dul.inner_text()
    assert "Esiti ancora possibili" in dul.inner_text()
    assert_accessible(operator)
    fill_person(operator, case["person"])
    operator.wait_for_selector("#esito section.ammesso >> text=Dote Unica Lavoro – quarta fase")
    # each field filled asks for a new answer: on a loaded machine a later one may still replace #esito
    # (closing the preview opened below), so wait until every answer has arrived
    operator.wait_for_load_state("networkidle")
    expect(operator.locator(".htmx-request")).to_have_count(0)  # no answer still in flight (htmx marks it)
    assert "1.800,00" in operator.inner_text("#esito section.ammesso")
    operator.click("#esito section.ammesso summary:has-text('Motivazione in anteprima')")
    expect(operator.locator("#esito section.ammesso .motivazione")).to_contain_text("non è un provvedimento")
    assert_accessible(operator)  # several programmes' statements on one page: their ids stay unique
    operator.click("#registra")
    operator.wait_for_selector("#decisioni-registrate")
    row = operator.locator("#decisioni-registrate tr", has_text="Dote Unica Lavoro – quarta fase")
    assert "Ammesso, fascia 2" in row.inner_text()
    decision_id = row.locator("code").inner_text()
    assert_accessible(operator)
    # the operator may not open the auditor's pages
    operator.goto(live_server + "/console/decisioni")
    assert "Accesso non consentito" in operator.inner_text("main")
    assert_accessible(operator)

    auditor = new_page()
    browser_sign_in(auditor, live_server, "revisore")
    auditor.click("nav#menu-principale >> text=Decisioni")
    assert_accessible(auditor)
    auditor.fill("#soggetto", CODICE_FISCALE)
    auditor.click("#ricerca button[type=submit]")
    auditor.wait_for_selector("#risultati")
    assert CODICE_FISCALE not in auditor.url and CODICE_FISCALE not in auditor.content()
    auditor.click(f"#risultati a[href$='{decision_id}']")
    auditor.wait_for_selector("#modulo-scopo")  # why it is read, before anything of the person shows
    assert_accessible(auditor)
    auditor.select_option("#scopo", "appeal")
    auditor.fill("#dettaglio", "prot. 9/2026")
    auditor.click("#apri")
    auditor.wait_for_selector("#esito-decisione")
    assert "prot. 9/2026" not in auditor.url
    assert "fascia 2" in auditor.inner_text("#esito-decisione")
    assert "La persona è ammessa al programma" in auditor.inner_text("#testo-motivazione")
    assert_accessible(auditor)
    with auditor.expect_download() as download:
        auditor.click("#scarica-pdf")
    assert download.value.suggested_filename == f"motivazione-{decision_id}.pdf"
    pdf = open(download.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert "La persona è ammessa al programma" in text and "1.800,00" in text
    auditor.click("#riesegui")
    auditor.wait_for_selector("#esito-riesecuzione")
    assert "risultato identico" in auditor.inner_text("#esito-riesecuzione")
    auditor.click("#verifica-catena")
    auditor.wait_for_selector("#catena >> text=Catena integra")
    assert_accessible(auditor)
    assert not auditor.errors, auditor.errors
    assert not [e for e in operator.errors if "status of 403" not in e], operator.errors  # the refusal above


def test_officer_drafts_a_raised_dote(live_server, new_page):
    """DUL IV: read fascia 4, draft the next edition with a higher dote, see a line error and fix it,
    run the tests, diff, simulate, and compare two published editions."""
    officer = new_page()
    browser_sign_in(officer, live_server, "funzionario")
    officer.goto(live_server + "/console/programmi/lombardia/dote-unica-lavoro/2020")
    assert "3.000,00" in officer.inner_text("#fascia-4")
    officer.click("nav#menu-principale >> text=Bozza")
    assert_accessible(officer)
    officer.select_option("#programma", "lombardia/dote-unica-lavoro")
    officer.fill("#da_edizione", "2020")
    officer.fill("#versione", "2026")
    officer.fill("#dal", "2026-05-01")
    officer.click("#crea-bozza")
    officer.wait_for_selector("#bozza-valida")
    assert_accessible(officer)
    text = officer.input_value("#testo")
    assert text.count("value: 3000.00") == 1
    # a typo: the live validation names the line
    typo = text.replace("value: 3000.00", "value: 3500.00").replace("when: age <= eta_max\n", "when: age <= eta_mx\n")
    line = typo.splitlines().index("    when: age <= eta_mx") + 1
    officer.fill("#testo", typo)
    officer.locator("#testo").press("End")
    officer.wait_for_selector("#bozza-errori")
    assert f"riga {line}" in officer.inner_text("#bozza-errori")
    assert_accessible(officer)
    officer.fill("#testo", typo.replace("eta_mx", "eta_max"))
    officer.click("#valida")
    officer.wait_for_selector("#bozza-valida")
    officer.select_option("#confronto", "2020")
    officer.click("#esegui-test")
    officer.wait_for_selector("#esito-test")
    assert "1 falliti" in officer.inner_text("#esito-test")  # the fascia 4 case expects the old dote
    officer.click("#confronta")
    officer.wait_for_selector("#risultato >> text=3.500,00 €")
    officer.click("#simula")
    officer.wait_for_selector("#esito-simulazione", timeout=120_000)
    assert officer.locator("#risultato svg").count() == 2
    assert_accessible(officer)
    with officer.expect_download() as download:
        officer.click("#scarica")
    assert download.value.suggested_filename == "2026.yaml"
    officer.click("nav#menu-principale >> text=Confronta")
    officer.select_option("#programma", "lombardia/dote-unica-lavoro")
    officer.fill("#da", "2019")
    officer.fill("#a", "2020")
    officer.click("#scelta-confronto button[type=submit]")
    officer.wait_for_selector("#risultato")
    assert "rispetto all'edizione 2019" in officer.inner_text("#risultato")
    assert_accessible(officer)
    assert not officer.errors, officer.errors


def test_every_page_has_no_serious_axe_violation(live_server, new_page):
    """axe-core on each page of the console, including those no journey above opens."""
    from .conftest import KEYS
    case = dul_iv_case(0)
    page = new_page()
    page.goto(live_server + "/console/accesso")
    assert_accessible(page)
    stored = page.request.post(live_server + "/v1/eligibility", headers={"X-API-Key": KEYS["amministratore"][0]},
                               data={"policy": "lombardia/dote-unica-lavoro", "version": "2020",
                                     "as_of": case["as_of"].isoformat(),
                                     "person": {k: v.isoformat() if hasattr(v, "isoformat") else v
                                                for k, v in case["person"].items()}})
    assert stored.ok, stored.text()
    decision_id = stored.json()["decision_id"]
    browser_sign_in(page, live_server, "amministratore")
    assert_accessible(page)  # the home page
    for path in ("/console/programmi/lombardia/dote-unica-lavoro/2020/yaml",
                 "/console/confronta?programma=lombardia%2Fdote-unica-lavoro&da=2019&a=2020",
                 f"/console/verifica?programma=%2A&data={case['as_of'].isoformat()}",
                 "/console/bozza?programma=lombardia%2Fdote-unica-lavoro&da_edizione=2020&versione=2026&dal=2026-05-01",
                 f"/console/decisioni/{decision_id}", f"/console/decisioni/{decision_id}/edizione",
                 "/console/programmi/lombardia/non-esiste/2020"):
        page.goto(live_server + path)
        assert page.locator("main h1").count() >= 1, path
        assert_accessible(page)
        if page.locator("#modulo-scopo").count():  # the purpose asked for, then the decision itself
            page.click("#apri")
            page.wait_for_selector("#esito-decisione")
            assert_accessible(page)
    assert not [e for e in page.errors if "status of 404" not in e], page.errors  # the unknown programme above
