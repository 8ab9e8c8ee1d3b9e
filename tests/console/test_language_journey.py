"""In the system Chromium: the console switched to English and back, remembered between pages; and an
auditor's read of a stored decision asks why, and the read log (the API's) shows it."""
from __future__ import annotations

from .conftest import KEYS, assert_accessible, browser_sign_in
from .test_verifica import dul_iv_case


def _store(page, live_server) -> str:
    case = dul_iv_case(0)
    stored = page.request.post(live_server + "/v1/eligibility", headers={"X-API-Key": KEYS["amministratore"][0]},
                               data={"policy": "lombardia/dote-unica-lavoro", "version": "2020",
                                     "as_of": case["as_of"].isoformat(),
                                     "person": {k: v.isoformat() if hasattr(v, "isoformat") else v
                                                for k, v in case["person"].items()}})
    assert stored.ok, stored.text()
    return stored.json()["decision_id"]


def test_switch_to_english_and_back(live_server, new_page):
    page = new_page()  # the browser asks for Italian (it-IT), as an officer's does
    browser_sign_in(page, live_server, "amministratore")
    assert page.get_attribute("html", "lang") == "it"
    page.click("nav#menu-principale >> text=Programmi")
    assert page.inner_text("main h1") == "Programmi"
    page.click("#lingua-en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.inner_text("main h1") == "Programmes"
    assert "Edition" in page.inner_text("main table thead")
    assert "from 21 Oct 2013" in page.inner_text("main")  # DUL I's window, dates as an English reader writes them
    assert "lang=en" in page.url
    assert_accessible(page)
    # remembered: the next page, reached by the menu with no lang in its address, is English too
    page.click("nav#menu-principale >> text=Programmes")
    page.goto(live_server + "/console/programmi/lombardia/dote-unica-lavoro/2020")
    assert page.get_attribute("html", "lang") == "en"
    main = page.inner_text("main")
    assert "Aid-intensity bands and voucher" in main and "€1,800.00" in main and "1.800,00" not in main
    assert "as the act writes them: they are not translated" in main  # policy content stays Italian, said so
    assert "Sign out" in page.inner_text("header") and "Esci" not in page.inner_text("header")
    page.screenshot(path="/tmp/console-edition-en.png", full_page=False)
    assert_accessible(page)
    page.click("#lingua-it")
    page.wait_for_function("document.documentElement.lang === 'it'")
    main = page.inner_text("main")
    assert "Fasce di intensità di aiuto e dote" in main and "1.800,00 €" in main and "€1,800.00" not in main
    page.goto(live_server + "/console/")
    assert page.inner_text("main h1").startswith("Buongiorno")
    assert not page.errors, page.errors


def test_an_english_browser_gets_english_until_it_chooses(live_server, new_page):
    page = new_page(locale="en-GB")
    page.goto(live_server + "/console/accesso")
    assert page.get_attribute("html", "lang") == "en" and page.inner_text("main h1") == "Sign in to the console"
    page.click("#lingua-it")
    page.wait_for_function("document.documentElement.lang === 'it'")
    page.goto(live_server + "/console/accesso")
    assert page.inner_text("main h1") == "Accesso alla console"  # the choice beats the browser's header


def test_an_auditor_says_why_and_the_read_log_shows_it(live_server, new_page):
    page = new_page()
    decision_id = _store(page, live_server)
    browser_sign_in(page, live_server, "revisore")
    page.goto(live_server + f"/console/decisioni/{decision_id}")
    page.wait_for_selector("#modulo-scopo")
    assert page.locator("#fatti").count() == 0
    assert_accessible(page)
    page.select_option("#scopo", "appeal")
    page.fill("#dettaglio", "prot. 4321/2026")
    page.screenshot(path="/tmp/console-purpose.png")
    page.click("#apri")
    page.wait_for_selector("#esito-decisione")
    assert page.url.endswith(f"/console/decisioni/{decision_id}") and "4321" not in page.url
    assert "ricorso o reclamo: prot. 4321/2026" in page.inner_text("#scopo-dichiarato")
    page.select_option("#r-scopo", "inspection")
    page.fill("#r-dettaglio", "verbale 12")
    page.click("#riesegui")
    page.wait_for_selector("#esito-riesecuzione")
    assert_accessible(page)
    log = page.request.get(live_server + "/v1/audit/reads", params={"decision_id": decision_id},
                           headers={"X-API-Key": KEYS["revisore"][0]})
    assert log.ok, log.text()
    entries = [(e["action"], e["purpose"], e["via"]) for e in log.json()["reads"] if e["caller"] == "revisore.verdi"]
    assert ("read", "ricorso o reclamo: prot. 4321/2026", "console") in entries
    assert ("statement.html", "ricorso o reclamo: prot. 4321/2026", "console") in entries
    assert ("replay", "ispezione o audit: verbale 12", "console") in entries
    assert not any(purpose == "unspecified" for _, purpose, _ in entries)
    assert not page.errors, page.errors
