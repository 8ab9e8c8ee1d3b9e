"""'Did you mean ...?' hints for names, codes and keys (one place, used by every checker)."""
from __future__ import annotations

import difflib


def closest(word: str, options) -> str | None:
    """The option closest to ``word``, or None when none is close enough."""
    # a name longer than any option cannot be close to one (and difflib's cost grows with its length)
    close = difflib.get_close_matches(word[:64], list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, options) -> str:
    """A hint naming the closest option to ``word``, or "" when none is close enough."""
    close = closest(word, options)
    return f"did you mean '{close}'?" if close else ""
