"""The console's journeys end to end in the system Chromium, with axe-core on every page."""
from __future__ import annotations

import re

from .conftest import assert_accessible, browser_sign_in
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
    case = dul_iv_case(0)
    day = case["as_of"].isoformat()
    operator = new_page()
    browser_sign_in(operator, live_server, "operatore")
    operator.click("nav#menu-principale >> text=Verifica una persona")
    assert_accessible(operator)
    operator.select_option("#programma", "lombardia/dote-unica-lavoro@2020")
    operator.wait_for_url(re.compile(r".*programma=lombardia%2Fdote-unica-lavoro%402020.*"))
    operator.fill("#data", day)
    operator.locator("#data").dispatch_event("change")
    operator.wait_for_url(re.compile(rf".*data={day}.*"))
    # partial facts: the answer says what is still needed, live
    operator.fill("#f_birth_date", case["person"]["birth_date"].isoformat())
    operator.locator("#f_birth_date").dispatch_event("change")
    operator.wait_for_selector("#esito >> text=Fatti ancora necessari")
    assert "Regione di residenza" in operator.inner_text("#esito")
    assert_accessible(operator)
    fill_person(operator, case["person"])
    operator.wait_for_selector("#esito >> text=Ammesso")
    assert "1.800,00" in operator.inner_text("#esito")
    operator.click("#registra")
    operator.wait_for_selector("#decisioni-registrate")
    decision_id = operator.inner_text("#decisioni-registrate code")
    assert_accessible(operator)
    # the operator may not open the auditor's pages
    operator.goto(live_server + "/console/decisioni")
    assert "Accesso non consentito" in operator.inner_text("main")
    assert_accessible(operator)

    auditor = new_page()
    browser_sign_in(auditor, live_server, "revisore")
    auditor.click("nav#menu-principale >> text=Decisioni")
    assert_accessible(auditor)
    auditor.fill("#id", decision_id)
    auditor.click("#ricerca button[type=submit]")
    auditor.click(f"#risultati a[href$='{decision_id}']")
    auditor.wait_for_selector("#esito-decisione")
    assert "fascia 2" in auditor.inner_text("#esito-decisione")
    assert decision_id not in auditor.url.split("/decisioni/")[0]
    assert_accessible(auditor)
    auditor.click("#riesegui")
    auditor.wait_for_selector("#esito-riesecuzione")
    assert "risultato identico" in auditor.inner_text("#esito-riesecuzione")
    auditor.click("#verifica-catena")
    auditor.wait_for_selector("#catena >> text=Catena integra")
    assert_accessible(auditor)
    assert not auditor.errors, auditor.errors
    assert not [e for e in operator.errors if "status of 403" not in e], operator.errors  # the refusal above
