"""Console test fixtures: an app with the console mounted, keys per console role, a live server and
the system Chromium driven by Playwright (tests needing it skip, saying so, when it is absent)."""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from api.keys import KeyRing, digest

CHROMIUM = os.environ.get("ALMP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# one key per console role, and one with no console role that reads decisions only
KEYS = {
    "operatore": ("k-operatore-0123456789", "evaluate", "operatore.rossi"),
    "funzionario": ("k-funzionario-0123456789", "policy", "funzionaria.bianchi"),
    "revisore": ("k-revisore-0123456789", "audit", "revisore.verdi"),
    "amministratore": ("k-amministratore-0123456789", "admin", "admin.neri"),
}


KEY_FILES = {"ALMP_PSEUDONYM_KEY_FILE": "pseudonym.key", "ALMP_SEALING_KEY_FILE": "sealing.key"}


def keyring_text(keys=KEYS) -> str:
    return ";".join(f"{digest(key)} {roles} {name}" for key, roles, name in keys.values())


def build_app(database_url: str, keys: KeyRing | None = None):
    from api.app import create_app
    app = create_app(database_url=database_url, keys=keys or KeyRing(None, keyring_text()))
    if not any(getattr(r, "path", None) == "/console" for r in app.routes):
        from api.console import mount
        mount(app)
    return app


@pytest.fixture(autouse=True)
def _console_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("ALMP_CONSOLE_SECRET_FILE", str(tmp_path / "console.secret"))
    # key files of pseudonyms and sealed facts: the test's own, or the live server's for a browser test
    # (its decisions are searched by pseudonym in the same test)
    for env, name in KEY_FILES.items():
        if "console-live" not in os.environ.get(env, ""):
            monkeypatch.setenv(env, str(tmp_path / name))


@pytest.fixture
def console_client(tmp_path):
    from fastapi.testclient import TestClient
    app = build_app(f"sqlite:///{tmp_path / 'console.db'}")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def sign_in(client, role: str):
    page = client.get("/console/accesso")
    response = client.post("/console/accesso", data={"chiave": KEYS[role][0], "csrf_token": csrf_of(page.text),
                                                     "dopo": ""}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


# -- a live server for the browser ------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    import uvicorn
    folder = tmp_path_factory.mktemp("console-live")
    names = {"ALMP_CONSOLE_SECRET_FILE": "console.secret", **KEY_FILES}
    before = {env: os.environ.get(env) for env in names}
    os.environ.update({env: str(folder / name) for env, name in names.items()})
    app = build_app(f"sqlite:///{folder / 'live.db'}")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    for env, value in before.items():
        if value is None:
            os.environ.pop(env, None)
        else:
            os.environ[env] = value


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # .ci/run installs Chromium: a missing browser there is a failure, not a skip
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run should have installed it")
        pytest.skip(f"no Chromium at {CHROMIUM}: browser tests of the console need the system Chromium "
                    "(apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "it-IT",
                                         "accept_downloads": True, **options})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
        return page
    yield make
    for context in contexts:
        context.close()


def browser_sign_in(page, base: str, role: str) -> None:
    page.goto(base + "/console/accesso")
    page.fill("#chiave", KEYS[role][0])
    page.click("button:has-text('Accedi')")
    page.wait_for_url(base + "/console/")


def axe_violations(page) -> list[dict]:
    """Serious or critical WCAG 2.1 A/AA violations that axe-core finds on the page as it is now."""
    page.evaluate(AXE.read_text(encoding="utf-8"))  # through the DevTools protocol: the page's CSP does not apply
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_accessible(page) -> None:
    bad = axe_violations(page)
    assert not bad, f"axe-core on {page.url}:\n" + json.dumps(bad, indent=1, ensure_ascii=False)


def state_purpose(client, decision_id: str, scopo: str = "compliance", dettaglio: str = "prot. 1/2026"):
    """An auditor says why a decision is read (the console asks before opening it); the decision page's HTML."""
    asked = client.get(f"/console/decisioni/{decision_id}")
    assert 'id="modulo-scopo"' in asked.text, asked.text[:500]
    response = client.post(f"/console/decisioni/{decision_id}", data={"csrf_token": csrf_of(asked.text),
                                                                     "scopo": scopo, "dettaglio": dettaglio})
    assert response.status_code == 200 and 'id="intestazione"' in response.text, response.text[:500]
    return response.text
