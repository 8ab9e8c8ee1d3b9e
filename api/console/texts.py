"""Every text of the console, in Italian and English, from one catalogue (``engine/i18n/locale/console.yaml``).

Templates and views name a text by its key (``console.…``): ``t("console.nav.programmes")``; the
language is the request's (``api.language``: the switch's choice, else the browser's, else Italian).
A text holding markup (``<strong>``, ``<code>``) is asked for with ``th``, which escapes the fields
filled into it. Policy content (rule labels, legal references, the edition's own words) is not in
the catalogue: it is shown as the edition writes it, in Italian.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

import yaml
from markupsafe import Markup

from engine import i18n

CATALOGUE = Path(i18n.__file__).resolve().parent / "locale" / "console.yaml"
log = logging.getLogger("almp.console")


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def _text(key: str, lang: str | None) -> str:
    entry = catalogue().get(key)
    if entry is None:
        log.error("console text %s is not in the catalogue", key)
        return key
    return entry.get(i18n.language(lang)) or entry[i18n.DEFAULT_LANGUAGE]


def t(key: str, /, lang: str | None = None, **fields) -> str:
    """The text ``key`` in the request's language, with its ``{fields}`` filled in."""
    text = _text(key, lang)
    return text.format(**fields) if fields else text


def th(key: str, /, lang: str | None = None, **fields) -> Markup:
    """A text holding markup (trusted: it is the catalogue's), its fields escaped."""
    text = Markup(_text(key, lang))
    return text.format(**fields) if fields else text


def tn(key: str, count: int, /, lang: str | None = None, **fields) -> str:
    """The singular (``key.one``) or plural (``key.other``) form for ``count``; ``{n}`` is the count."""
    return t(f"{key}.{'one' if count == 1 else 'other'}", lang=lang, n=count, **fields)


def lang() -> str:
    return i18n.language()


GLOBALS = {"t": t, "th": th, "tn": tn, "lang": lang}
