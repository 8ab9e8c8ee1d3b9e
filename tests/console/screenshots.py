"""Screenshots of the console's main pages for the README: ``python -m tests.console.screenshots docs/console``.

Starts the console on a scratch database, records one decision through the operator's form,
and saves a PNG of each main page (system Chromium, no network).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(out: str) -> None:
    import threading
    import time

    import uvicorn
    from playwright.sync_api import sync_playwright

    from .conftest import CHROMIUM, CHROMIUM_ARGS, KEY_FILES, KEYS, _free_port, build_app
    from .test_decisioni import CODICE_FISCALE
    from .test_journeys import fill_person
    from .test_verifica import dul_iv_case

    folder = Path(tempfile.mkdtemp(prefix="almp-shots-"))
    os.environ["ALMP_CONSOLE_SECRET_FILE"] = str(folder / "secret")
    for env, name in KEY_FILES.items():
        os.environ[env] = str(folder / name)
    app = build_app(f"sqlite:///{folder / 'shots.db'}")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}/console"
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    case = dul_iv_case(0)
    with sync_playwright() as p:
        # dates in the Italian form (gg/mm/aaaa): Chromium takes its locale from LANG
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + ["--lang=it-IT"],
                                    env={**os.environ, "LANG": "it_IT.UTF-8", "LANGUAGE": "it"})
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="it-IT")
        page.goto(base + "/accesso")
        page.fill("#chiave", KEYS["amministratore"][0])
        page.click("button:has-text('Accedi')")
        page.goto(base + "/programmi")
        page.screenshot(path=str(target / "programmi.png"))
        page.goto(base + "/programmi/lombardia/dote-unica-lavoro/2020#fasce")
        page.screenshot(path=str(target / "edizione.png"))
        day = case["as_of"].isoformat()
        # screening from partial facts: what is still needed, and what each programme can still become
        page.goto(base + f"/verifica?programma=%2A&data={day}")
        page.fill("#f_codice_fiscale", CODICE_FISCALE)
        page.select_option("#f_residence_region", "lombardia")
        page.select_option("#f_employment_status", "unemployed")
        page.locator("#f_employment_status").dispatch_event("change")
        page.wait_for_selector("#esito >> text=Prossimo fatto da chiedere")
        page.locator("#titolo-esito").scroll_into_view_if_needed()
        page.screenshot(path=str(target / "verifica.png"))
        page.goto(base + f"/verifica?programma=lombardia/dote-unica-lavoro@2020&data={day}")
        page.fill("#f_codice_fiscale", CODICE_FISCALE)
        fill_person(page, case["person"])
        page.wait_for_selector("#esito >> text=Ammesso")
        page.click("#registra")
        decision = page.inner_text("#decisioni-registrate code")
        page.goto(base + "/bozza?programma=lombardia/dote-unica-lavoro&da_edizione=2020&versione=2026&dal=2026-05-01")
        page.fill("#testo", page.input_value("#testo").replace("value: 3000.00", "value: 3500.00"))
        page.select_option("#confronto", "2020")
        page.click("#simula")
        page.wait_for_selector("#esito-simulazione", timeout=120_000)
        page.locator("#risultato").scroll_into_view_if_needed()
        page.screenshot(path=str(target / "bozza.png"))
        page.goto(base + "/confronta?programma=lombardia%2Fdote-unica-lavoro&da=2019&a=2020")
        page.screenshot(path=str(target / "confronta.png"))
        page.goto(base + "/decisioni")
        page.fill("#soggetto", CODICE_FISCALE)
        page.click("#ricerca button[type=submit]")
        page.wait_for_selector("#risultati")
        page.click("#verifica-catena")
        page.wait_for_selector("#catena >> text=Catena integra")
        page.fill("#soggetto", CODICE_FISCALE)
        page.click("#ricerca button[type=submit]")
        page.wait_for_selector("#risultati")
        page.locator("#risultati").scroll_into_view_if_needed()
        page.screenshot(path=str(target / "decisioni.png"))
        page.goto(base + f"/decisioni/{decision}")
        page.select_option("#scopo", "compliance")
        page.fill("#dettaglio", "prot. 123/2026")
        page.screenshot(path=str(target / "scopo.png"))
        page.click("#apri")
        page.wait_for_selector("#esito-decisione")
        page.click("#riesegui")
        page.wait_for_selector("#esito-riesecuzione")
        page.evaluate("document.querySelector('#esito-riesecuzione').scrollIntoView({block: 'center', behavior: 'instant'})")
        page.screenshot(path=str(target / "decisione.png"))
        page.locator("#motivazione").scroll_into_view_if_needed()
        page.screenshot(path=str(target / "motivazione.png"))
        browser.close()
    server.should_exit = True
    print(f"screenshots in {target}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/console")
