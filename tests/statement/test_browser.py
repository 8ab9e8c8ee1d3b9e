"""The HTML statement in a real browser (Playwright driving the system Chromium): it renders, its structure
is what assistive technology reads (one h1, the named sections as h2, tables with headers, a language),
and the arithmetic steps are visible text.

Skipped, saying so, when no Chromium binary is installed (apt-get install -y chromium).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from engine.decide.evaluate import evaluate
from engine.statement import build_statement, load_authorities, render_html
from engine.statement.model import DecisionRecord

POLICIES = Path(__file__).resolve().parents[2] / "policies"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium not installed (apt-get install -y chromium): the browser check of the statement is skipped")


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=ARGS)
        yield browser.new_page()
        browser.close()


def _statement_html(registry, person_changes=None) -> str:
    policy = registry.get("lombardia/dote-unica-lavoro", "2019")
    person = {**json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text()),
              **(person_changes or {})}
    as_of = dt.date(2019, 6, 1)
    result = json.loads(json.dumps(evaluate(policy, person, as_of)))
    record = DecisionRecord("eligibility", as_of, {"policy": policy.id, "as_of": as_of.isoformat(), "person": person},
                            result, id="7d1c0a52-0000-4000-8000-000000000001", created_at="2024-05-06T09:10:11.000000Z",
                            template_version="1")
    return render_html(build_statement(record, policy, load_authorities(POLICIES)["lombardia"]))


def test_statement_reads_right_in_a_browser(page, registry, tmp_path):
    path = tmp_path / "statement.html"
    path.write_text(_statement_html(registry), encoding="utf-8")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.get_by_role("heading", level=1).all_inner_texts() == ["Motivazione del provvedimento"]
    sections = page.get_by_role("heading", level=2).all_inner_texts()
    assert sections[:4] == ["Intestazione", "Fatti accertati", "Ragioni giuridiche", "Esito"]
    assert "Mezzi di impugnazione" in sections
    facts = page.get_by_role("table").first
    assert facts.get_by_role("columnheader").all_inner_texts() == ["Fatto", "Valore", "Provenienza"]
    assert facts.get_by_role("rowheader", name="Età compiuta").is_visible()
    assert page.get_by_text("3 + 2 + 1 = 6").is_visible()
    assert page.get_by_text("3.000,00 €").is_visible()
    # laid out as a page, not a strip: the article is readable width and nothing overflows sideways
    width = page.evaluate("document.querySelector('article').getBoundingClientRect().width")
    assert 300 < width <= page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "statement.png"), full_page=True)
    assert errors == []


def test_refusal_shows_the_10bis_notice_first_failed_condition_in_a_browser(page, registry, tmp_path):
    path = tmp_path / "refusal.html"
    path.write_text(_statement_html(registry, {"birth_date": "1950-01-15"}), encoding="utf-8")
    page.goto(path.as_uri())
    assert "Comunicazione dei motivi ostativi" in page.get_by_role("heading", level=1).inner_text()
    first = page.locator("ol.reasons > li").first
    assert "Età non superiore a 65 anni" in first.inner_text() and "non soddisfatto" in first.inner_text()
    assert page.get_by_role("heading", name="Comunicazione ai sensi dell'art. 10-bis").is_visible()
