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

    from .conftest import CHROMIUM, CHROMIUM_ARGS, KEYS, _free_port, build_app
    from .test_journeys import fill_person
    from .test_verifica import dul_iv_case

    folder = Path(tempfile.mkdtemp(prefix="almp-shots-"))
    os.environ["ALMP_CONSOLE_SECRET_FILE"] = str(folder / "secret")
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
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="it-IT")
        page.goto(base + "/accesso")
        page.fill("#chiave", KEYS["amministratore"][0])
        page.click("button:has-text('Accedi')")
        page.goto(base + "/programmi")
        page.screenshot(path=str(target / "programmi.png"))
        page.goto(base + "/programmi/lombardia/dote-unica-lavoro/2020#fasce")
        page.screenshot(path=str(target / "edizione.png"))
        page.goto(base + f"/verifica?programma=lombardia/dote-unica-lavoro@2020&data={case['as_of'].isoformat()}")
        fill_person(page, case["person"])
        page.wait_for_selector("#esito >> text=Ammesso")
        page.screenshot(path=str(target / "verifica.png"))
        page.click("#registra")
        decision = page.inner_text("#decisioni-registrate code")
        page.goto(base + "/bozza?programma=lombardia/dote-unica-lavoro&da_edizione=2020&versione=2026&dal=2026-05-01")
        page.fill("#testo", page.input_value("#testo").replace("value: 3000.00", "value: 3500.00"))
        page.select_option("#confronto", "2020")
        page.click("#simula")
        page.wait_for_selector("#esito-simulazione", timeout=120_000)
        page.locator("#risultato").scroll_into_view_if_needed()
        page.screenshot(path=str(target / "bozza.png"))
        page.goto(base + f"/decisioni/{decision}")
        page.click("#riesegui")
        page.wait_for_selector("#esito-riesecuzione")
        page.screenshot(path=str(target / "decisione.png"))
        browser.close()
    server.should_exit = True
    print(f"screenshots in {target}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/console")
