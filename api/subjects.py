"""What the decision log keeps of a person: the facts without the codice fiscale, and a pseudonym.

The codice fiscale is checked and read (birth date, gender) by the engine; the stored input holds
the facts it gave instead of the code, so a replay needs nothing more, and the code itself is
kept only as its keyed pseudonym (``api.pseudonym``), so an auditor holding a code can still find
every decision about that person.
"""
from __future__ import annotations

import datetime as dt

from engine.errors import InputErrors
from engine.policy.codice_fiscale import FIELD, expand

from . import pseudonym


def for_storage(person, as_of: dt.date, path: tuple = ("person",)) -> tuple[object, str | None]:
    """(the facts to store and evaluate, the subject's pseudonym or None). Raises ``InputErrors``
    (paths from the request's root) for a bad codice fiscale or one contradicting the facts."""
    if not isinstance(person, dict) or FIELD not in person:
        return person, None
    facts, problems = expand(person, as_of, path)
    if problems:
        raise InputErrors(problems)
    return facts, pseudonym.of_codice_fiscale(person[FIELD])
