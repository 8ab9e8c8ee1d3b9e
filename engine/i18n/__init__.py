"""What a person reads: Italian by default, English on request, with it-IT formats.

The whole API (import from ``engine.i18n``)::

    set_language("en")            # the language of this context (the CLI's --lang; the API's request)
    language(explicit=None)       # "it" or "en": explicit, else set_language, else ALMP_LANG/LC_ALL/LC_MESSAGES/LANG
    with using("en"): ...         # a block in English (token = enter("en") ... leave(token): the same, per request)
    _("{n} people", n=3)          # translate a message (gettext catalogue) and fill its {fields}
    ngettext("{n} error", "{n} errors", n, n=n)
    money(Decimal("1800"))        # "1.800,00 €"        (en: "€1,800.00")
    number(1234567)               # "1.234.567"         (decimals=2 -> "1.234.567,00")
    percent(Decimal("0.125"))     # "12,5%"             (a share 0..1)
    date(dt.date(2019, 4, 15))    # "15/04/2019"        (en: "15/04/2019" too, en_GB)
    duration(months=6, days=12)   # "6 mesi e 12 giorni"
    quantity(65, "years")         # "65 anni"           (units: years, months, days, euro, percent, count)
    edition_name(policy_or_doc)   # "Dote Unica Lavoro – terza fase (2019)"

Every formatter takes an optional ``lang=`` to override the current language for one call
(a web page can render for the requester without touching the process default). Numbers
and dates come from Babel (CLDR data); messages from gettext catalogues kept as ``.po``
files beside this module and compiled in memory on first use, so a fresh install needs no
build step. Message ids are English; ``locale/it/LC_MESSAGES/almp.po`` gives the Italian,
and a test checks that every message in the code has its Italian translation.
Spaces inside formatted figures are ordinary spaces (terminals, grep, tests); HTML renderers
may swap them for ``&nbsp;``.
"""
from __future__ import annotations

import contextvars
import datetime as _dt
import functools
import gettext as _gettext
import io
import os
import re
from decimal import Decimal
from pathlib import Path

# Babel is imported where it is used: a command that prints nothing formatted starts faster.

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "it"
DOMAIN = "almp"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_CLDR = {"it": "it_IT", "en": "en_GB"}  # English for European readers: day-first dates, euro
_UNITS = {"years": "duration-year", "months": "duration-month", "days": "duration-day"}

# The chosen language is per context, not per process: the service answers requests in different
# languages at once (each request's task or worker thread has its own context, set by
# api.language), and a process-wide global would let one request's choice leak into another's answer.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("almp_language", default=None)


class LanguageError(ValueError):
    """A language that almp does not speak."""


def _normalise(code: str | None) -> str | None:
    """'en_US.UTF-8' -> 'en', 'it' -> 'it'; None for C/POSIX or an unsupported language."""
    if not code:
        return None
    short = re.split(r"[_.@-]", code.strip(), maxsplit=1)[0].lower()
    return short if short in LANGUAGES else None


def set_language(lang: str | None) -> str:
    """Set the language of the current context ("it" or "en"; None: back to the environment). Returns it.

    A context is a thread's, or an asyncio task's (a task or ``asyncio.to_thread`` starts with a copy
    of its creator's): the CLI sets it once for the command, the service once per request.
    """
    if lang is None:
        _current.set(None)
        return language()
    norm = _normalise(lang)
    if norm is None:
        raise LanguageError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
    _current.set(norm)
    return norm


def enter(lang: str) -> contextvars.Token:
    """Speak ``lang`` (already one of LANGUAGES) in this context until ``leave(token)``: the service's
    per-request path, without set_language's parsing."""
    return _current.set(lang)


def leave(token: contextvars.Token) -> None:
    _current.reset(token)


def language(explicit: str | None = None) -> str:
    """The language to speak: ``explicit``, else set_language's, else the environment, else Italian.

    The environment is read in gettext's order (ALMP_LANG first, then LANGUAGE, LC_ALL,
    LC_MESSAGES, LANG); a variable naming a language almp does not speak (or C/POSIX) is skipped.
    """
    if explicit:
        norm = _normalise(explicit)
        if norm is None:
            raise LanguageError(f"unsupported language {explicit!r}: use one of {', '.join(LANGUAGES)}")
        return norm
    chosen = _current.get()
    if chosen:
        return chosen
    for var in ("ALMP_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for part in (os.environ.get(var) or "").split(":"):
            norm = _normalise(part)
            if norm:
                return norm
    return DEFAULT_LANGUAGE


@functools.lru_cache(maxsize=None)
def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext catalogue of ``lang``, compiled in memory from its .po file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return _gettext.NullTranslations()  # English message ids are the English text
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def _(msgid: str, /, lang: str | None = None, **fields) -> str:
    """``msgid`` in the current language, with its ``{fields}`` filled in."""
    text = translations(language(lang)).gettext(msgid)
    return text.format(**fields) if fields else text


def ngettext(singular: str, plural: str, count: int, /, lang: str | None = None, **fields) -> str:
    """The singular or plural form for ``count``, translated, with ``{fields}`` filled in."""
    text = translations(language(lang)).ngettext(singular, plural, count)
    return text.format(**fields) if fields else text


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it yet (module-level tables)."""
    return message


def _plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def _locale(lang: str | None) -> str:
    return _CLDR[language(lang)]


def money(amount, lang: str | None = None) -> str:
    """An amount in euro with two decimals: '1.800,00 €'. ``None`` gives '–'."""
    if amount is None:
        return "–"
    if isinstance(amount, float):
        raise TypeError("money must never be a float")
    from babel.numbers import format_currency
    return _plain(format_currency(Decimal(amount), "EUR", locale=_locale(lang)))


def number(value, lang: str | None = None, decimals: int | None = None) -> str:
    """A number with the language's separators; ``decimals`` fixes the digits after the comma."""
    if value is None:
        return "–"
    from babel.numbers import format_decimal
    if isinstance(value, float):
        value = Decimal(str(value))
    if decimals is None:
        return _plain(format_decimal(value, locale=_locale(lang), decimal_quantization=False))
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return _plain(format_decimal(Decimal(value), format=pattern, locale=_locale(lang)))


def percent(share, lang: str | None = None, decimals: int = 1) -> str:
    """A share (0..1) as a percentage with at most ``decimals`` digits: 0.125 -> '12,5%'."""
    if share is None:
        return "–"
    from babel.numbers import format_percent
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "") + "%"
    return _plain(format_percent(Decimal(str(share)) if isinstance(share, float) else Decimal(share),
                                 format=pattern, locale=_locale(lang)))


def date(day, lang: str | None = None) -> str:
    """A date as dd/mm/yyyy (both languages: the readers are in Europe). Accepts ISO text."""
    if day is None:
        return "–"
    from babel.dates import format_date as _format_date
    if isinstance(day, str):
        day = _dt.date.fromisoformat(day)
    return _format_date(day, "dd/MM/yyyy", locale=_locale(lang))


def quantity(value, unit: str, lang: str | None = None) -> str:
    """A number with its unit in words: (65, 'years') -> '65 anni'; euro and percent as money/percent."""
    if unit == "euro":
        return money(value, lang)
    if unit == "percent":
        return percent(value, lang)
    if unit in _UNITS:
        from babel.units import format_unit
        return _plain(format_unit(value, _UNITS[unit], length="long", locale=_locale(lang)))
    return number(value, lang)


def duration(years: int = 0, months: int = 0, days: int = 0, lang: str | None = None) -> str:
    """A span in words: duration(months=6, days=12) -> '6 mesi e 12 giorni' (zero parts left out)."""
    parts = [quantity(v, u, lang) for v, u in ((years, "years"), (months, "months"), (days, "days")) if v]
    if not parts:
        return quantity(0, "days", lang)
    from babel.lists import format_list as _format_list
    return _format_list(parts, locale=_locale(lang))


def join(items, lang: str | None = None) -> str:
    """'a, b e c' (en: 'a, b and c')."""
    from babel.lists import format_list as _format_list
    items = [str(i) for i in items]
    return _format_list(items, locale=_locale(lang)) if items else ""


def edition_name(edition) -> str:
    """The name an officer knows an edition by: its title without the trailing parenthesis, and its version.

    ``edition`` is a compiled ``Policy``, a policy document (mapping) or anything with
    ``title`` and ``version``. 'Dote Unica Lavoro – terza fase (POR FSE 2014-2020, Asse I)'
    at version 2019 -> 'Dote Unica Lavoro – terza fase (2019)'.
    """
    if isinstance(edition, dict):
        title, version, ident = edition.get("title"), edition.get("version"), edition.get("id")
    else:
        title, version, ident = getattr(edition, "title", None), getattr(edition, "version", None), \
            getattr(edition, "id", None)
    version = "" if version is None else str(version)
    if not isinstance(title, str) or not title.strip():
        return f"{ident}@{version}" if ident else version
    base = re.sub(r"\s*\([^()]*\)\s*$", "", title.strip()) or title.strip()
    if version and version not in base:
        return f"{base} ({version})"
    return base


__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "LanguageError", "set_language", "language", "translations", "_",
           "ngettext", "N_", "money", "number", "percent", "date", "quantity", "duration", "join",
           "edition_name", "render_error", "excerpt", "using", "enter", "leave"]


ECHO_LIMIT = 120  # characters of a person's own text shown back in a message
MESSAGE_LIMIT = 2000  # a whole rendered message, whatever it quotes


def excerpt(text: str, limit: int = ECHO_LIMIT, lang: str | None = None) -> str:
    """``text`` when short, else its start and how long it was: a 700 KB expression is never echoed whole."""
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + "… " + _("({n} characters in all)", lang=lang, n=number(len(text), lang))


def render_error(error, lang: str | None = None) -> str:
    """A PolicyError (or anything with code, message, location, hint) as one line for a terminal.

    ``/path/2019.yaml:65:19: policy_unit_error: $.budget.amount.value: ... (suggerimento: ...)``:
    the code stays an English identifier; the words around it follow the language.
    """
    from ..errors import json_path  # the ground floor: errors does not import i18n
    location = getattr(error, "location", None)
    path = getattr(location, "path", ()) or ()
    message = excerpt(error.message, MESSAGE_LIMIT, lang)
    text = f"{location}: {error.code}:" + (f" {json_path(path)}:" if path else "") + f" {message}"
    if getattr(error, "hint", ""):
        text += " (" + _("hint: {hint}", lang=lang, hint=error.hint) + ")"
    return text


class using:
    """``with using("en"): ...`` speaks ``lang`` inside the block and restores the previous choice after
    (None keeps the current one). The CLI wraps each command in it, so one command's --lang never leaks."""

    def __init__(self, lang: str | None):
        self.lang = lang

    def __enter__(self):
        self.saved = _current.get()
        if self.lang:
            set_language(self.lang)
        return language()

    def __exit__(self, *exc):
        _current.set(self.saved)
        return False
