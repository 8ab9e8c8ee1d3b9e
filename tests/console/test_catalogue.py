"""The console's catalogue: every text in Italian and English, none left in a template, each page in the
language asked for (the switch's choice remembered, else the browser's, else Italian)."""
from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from api.console import act, bozza, decisioni, drafts, fmt, session, views
from api.console.texts import catalogue

from .conftest import sign_in

TEMPLATES = Path(views.HERE) / "templates"
PACKAGE = Path(views.HERE)
KEY_CALL = re.compile(r"""\b(?:t|th|tn)\(\s*["'](console\.[a-z0-9_.]+)["']""")
# words a template may hold as they are: product and format names, identical in both languages
ALLOWED_WORDS = {"almp", "YAML", "PDF", "ODT", "API", "UTC"}
TRANSLATED_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "summary", "aria-description"}
FIELD = re.compile(r"\{(\w+)\}")
TAG = re.compile(r"</?([a-z]+)")


def _fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_its_italian_and_english_with_the_same_fields_and_markup():
    bad = []
    for key, forms in catalogue().items():
        if not key.startswith("console.") or not isinstance(forms, dict) or set(forms) != {"it", "en"}:
            bad.append(f"{key}: needs exactly it and en, has {forms!r}")
            continue
        it, en = forms["it"], forms["en"]
        if not (isinstance(it, str) and it.strip() and isinstance(en, str) and en.strip()):
            bad.append(f"{key}: an empty form")
            continue
        if _fields(it) != _fields(en):
            bad.append(f"{key}: fields {_fields(it)} in Italian, {_fields(en)} in English")
        if sorted(TAG.findall(it)) != sorted(TAG.findall(en)):
            bad.append(f"{key}: markup differs between the languages")
    assert not bad, "\n".join(bad)


def _used_keys() -> dict[str, str]:
    used = {}
    for path in sorted(TEMPLATES.glob("*.html")) + sorted(PACKAGE.glob("*.py")):
        for key in KEY_CALL.findall(path.read_text(encoding="utf-8")):
            if not key.endswith((".", "_")):  # a prefix a code completes: the codes are listed below
                used.setdefault(key, path.name)
    # keys built from a code: every code of the tables that build them
    for table, codes in (("mode", act.MODES), ("option", act.OPTIONS), ("unit", act.UNITS),
                         ("contract", act.CONTRACTS), ("field", act._FIELDS)):
        used.update({f"console.act.{table}.{code}": "act.py" for code in codes})
    used.update({f"console.case.{k}": "drafts.py" for k in drafts.CASE_KEYS})
    used.update({f"console.status.{s}": "fmt.py" for s in fmt.STATUS})
    used.update({f"console.figure_status.{s}": "fmt.py" for s in fmt.FIGURE_STATUS})
    for table in (decisioni.OUTCOMES, decisioni.KINDS, bozza.DIFF_SECTIONS, bozza.DIFF_KINDS, session.ROLE_LABELS):
        used.update({key: "tables" for key in table.values()})
    used.update({key: "views.py" for _, key, _ in views.MENU})
    for name in ("programmes", "compare", "check", "draft", "decisions"):
        used[f"console.home.card.{name}"] = "home.html"
    for kind in ("eligibility", "alternative", "points", "band"):
        used[f"console.trace_kind.{kind}"] = "decisione.html"
    for code in ("it", "en"):
        used[f"console.language.{code}"] = "base.html"
    for outcome in ("eligible", "not_eligible"):
        used[f"console.check.possible_{outcome}"] = "_esito.html"
    return used


def test_every_key_the_console_asks_for_is_in_the_catalogue():
    missing = {key: where for key, where in _used_keys().items()
               if key not in catalogue() and not (key + ".one" in catalogue() and key + ".other" in catalogue())}
    assert not missing, missing


class _Text(HTMLParser):
    """The text a person reads in a template once its Jinja parts are taken out: data and labelling attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in TRANSLATED_ATTRIBUTES and value:
                self.found.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in ALLOWED_WORDS]


def literal_texts(source: str) -> list[str]:
    """Texts a person would read that a template holds as such instead of asking the catalogue."""
    out = []
    parser = _Text()
    parser.feed(JINJA.sub(" ", source))
    out += [text.strip() for text in parser.found if _words(text)]
    # string constants inside Jinja expressions that read as words ("sì", "e registrata"), not keys,
    # CSS classes, identifiers or separators
    for node in Environment(extensions=[]).parse(source).find_all(nodes.Const):
        value = node.value
        if isinstance(value, str) and not value.startswith("console.") and _words(value) and \
                (" " in value.strip() or re.search(r"[^\x00-\x7f]", value)):
            out.append(value)
    return out


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_holds_a_text_outside_the_catalogue(template):
    assert literal_texts((TEMPLATES / template).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source, found", [
    ('<p>Nessuna decisione trovata.</p>', ["Nessuna decisione trovata."]),
    ('<a aria-label="Vai al menu" href="#m">{{ t("console.x") }}</a>', ["Vai al menu"]),
    ('{{ "sì" if ok else "no" }}', ["sì"]),
    ('<h1>Decision{{ "e registrata" if one else "i registrate" }}</h1>', ["Decision", "e registrata", "i registrate"]),
    ('<p class="text-muted">{{ t("console.base.title") }} · <code>almp keys add</code> (YAML)</p>', []),
])
def test_the_literal_finder_finds_what_a_person_would_read(source, found):
    assert literal_texts(source) == found


# -- pages in the language asked for -------------------------------------------------------------------------
PAGES = ["/console/", "/console/programmi", "/console/programmi/lombardia/dote-unica-lavoro/2019",
         "/console/programmi/lombardia/dote-unica-lavoro/2019/yaml", "/console/confronta", "/console/verifica",
         "/console/bozza", "/console/decisioni", "/console/pagina-che-non-esiste"]


def _italian_pieces(min_length: int = 14) -> list[str]:
    """Literal pieces of the Italian forms that differ from their English and are long enough not to be a name."""
    pieces = []
    for forms in catalogue().values():
        if forms["it"] == forms["en"]:
            continue
        for piece in re.split(r"\{\w+\}|<[^>]+>", forms["it"]):
            piece = piece.strip(" .:,;()")
            if len(piece) >= min_length and piece not in forms["en"]:
                pieces.append(piece)
    return pieces


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")


@pytest.mark.parametrize("path", PAGES)
def test_each_page_in_english_holds_no_italian_catalogue_text(console_client, path):
    sign_in(console_client, "amministratore")
    html = console_client.get(path, params={"lang": "en"}).text
    assert '<html lang="en">' in html
    assert not re.search(r"\bconsole\.[a-z_]+\.[a-z_.]+", html), "a catalogue key reached the page"
    left = [p for p in _italian_pieces() if p in html or _escaped(p) in html]
    assert not left, left


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_italian_by_default(console_client, path):
    sign_in(console_client, "amministratore")
    html = console_client.get(path).text
    assert '<html lang="it">' in html
    assert "Esci" in html and "Sign out" not in html


def test_the_choice_is_remembered_and_beats_the_browser_header(console_client):
    sign_in(console_client, "revisore")
    assert "Sign out" in console_client.get("/console/decisioni", headers={"Accept-Language": "en-GB,en"}).text
    chosen = console_client.get("/console/decisioni", params={"lang": "it"}, headers={"Accept-Language": "en"})
    assert "almp_lang=it" in chosen.headers.get("set-cookie", "")
    later = console_client.get("/console/decisioni", headers={"Accept-Language": "en"}).text
    assert '<html lang="it">' in later and "Esci" in later
    console_client.get("/console/decisioni", params={"lang": "en"})
    assert '<html lang="en">' in console_client.get("/console/decisioni").text


def test_the_console_cookie_moves_the_console_only():
    from api.language import scope_language
    assert scope_language({"path": "/v1/x", "headers": [(b"cookie", b"almp_lang=en")]}) == "it"
    assert scope_language({"path": "/console/x", "headers": [(b"cookie", b"almp_lang=en")]}) == "en"
    assert scope_language({"path": "/console/x", "headers": [(b"cookie", b"almp_lang=fr"),
                                                             (b"accept-language", b"en")]}) == "en"


def test_money_and_dates_follow_the_language():
    from decimal import Decimal

    from engine.i18n import using
    with using("it"):
        assert (fmt.euro(Decimal("1800")), fmt.date("2019-04-15")) == ("1.800,00 €", "15/04/2019")
    with using("en"):
        assert (fmt.euro(Decimal("1800")), fmt.date("2019-04-15")) == ("€1,800.00", "15 Apr 2019")
