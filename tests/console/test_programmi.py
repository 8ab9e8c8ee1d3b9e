"""Programmi: the timeline of editions and an edition read as the act (HTTP and in the browser)."""
from __future__ import annotations

import re

from .conftest import assert_accessible, browser_sign_in, sign_in


def test_every_programme_and_edition_is_listed(console_client, registry):
    sign_in(console_client, "revisore")
    html = console_client.get("/console/programmi").text
    for policy in registry.policies:
        assert f'/console/programmi/{policy.id}/{policy.version}"' in html
    assert "pubblicata" in html or "chiusa" in html


def test_an_edition_reads_as_the_act(console_client):
    sign_in(console_client, "revisore")
    html = console_client.get("/console/programmi/lombardia/dote-unica-lavoro/2020").text
    # fascia 2 of DUL IV: 1800.00 in the YAML, a placeholder, 12 months
    row = html[html.index('id="fascia-2"'):html.index('id="fascia-3"')]
    assert "1.800,00" in row and "€" in row
    assert "segnaposto" in row and "12" in row
    assert "Età non superiore a 65 anni alla data della domanda" in html
    assert "Avviso Dote Unica Lavoro – quarta fase" in html  # the act cited beside the rule
    assert "Formazione (fino a 80 ore" in html  # services and unit costs
    assert re.search(r"\d+ cifre segnaposto", html)


def test_the_yaml_link_points_at_the_line_of_the_item(console_client):
    sign_in(console_client, "revisore")
    html = console_client.get("/console/programmi/lombardia/dote-unica-lavoro/2020").text
    start = html.index('id="fascia-4"')
    row = html[start:html.index("</tr>", start)]
    line = int(re.findall(r'/yaml#L(\d+)', row)[-1])  # the fascia's own line (the others: its parameters)
    text = (console_client.get("/console/programmi/lombardia/dote-unica-lavoro/2020/yaml").text)
    source = open("policies/lombardia/dote-unica-lavoro/2020.yaml", encoding="utf-8").read().splitlines()
    assert source[line - 1].strip() == '- id: "4"'

    assert f'id="L{line}"' in text


def test_unknown_edition_is_a_404_page(console_client):
    sign_in(console_client, "revisore")
    response = console_client.get("/console/programmi/lombardia/dote-unica-lavoro/1999")
    assert response.status_code == 404
    assert "Non trovato" in response.text


def test_officer_reads_a_fascia_in_the_browser(live_server, new_page):
    page = new_page()
    browser_sign_in(page, live_server, "funzionario")
    assert_accessible(page)
    page.click("nav#menu-principale >> text=Programmi")
    assert_accessible(page)
    page.click("table >> a[href$='/lombardia/dote-unica-lavoro/2020']")
    page.wait_for_selector("#tabella-fasce")
    fascia = page.inner_text("#fascia-4")
    assert "molto alta" in fascia and "3.000,00" in fascia
    assert_accessible(page)
    page.locator("#fascia-4 a.riga").last.click()
    page.wait_for_url(re.compile(r".*/yaml#L\d+$"))
    target = page.url.rsplit("#", 1)[1]
    assert page.locator(f"#{target}").is_visible()
    assert_accessible(page)
    assert not [e for e in page.errors if "favicon" not in e], page.errors
