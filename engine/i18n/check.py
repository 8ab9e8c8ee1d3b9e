"""Messages in the code that a catalogue does not translate (run: ``python -m engine.i18n.check``).

Babel's extractor reads every ``_("...")``, ``N_("...")``, ``self.t("...")`` and ``ngettext("...", "...")`` in the
packages below; a message missing from ``locale/<lang>/LC_MESSAGES/almp.po`` (or left empty)
would reach an Italian officer in English.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from . import DOMAIN, LOCALE_DIR

PACKAGES = ("engine", "almp", "api")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
# modules whose renderers call ``self.t("...")`` / ``t("...")`` for a message in their own language
T_MODULES = ("engine/avviso/diff.py", "engine/avviso/report.py", "engine/expr/italian.py")


def extracted(root: Path | None = None) -> list[tuple[str, int, str]]:
    """(file, line, message id) of every marked message under the packages."""
    root = root or Path(__file__).resolve().parents[2]
    out = []
    for package in PACKAGES:
        folder = root / package
        if not folder.is_dir():
            continue
        for filename, lineno, message, _comments, _context in extract_from_dir(
                str(folder), method_map=[("**.py", "python")], keywords=KEYWORDS):
            for msgid in (message if isinstance(message, tuple) else (message,)):
                if msgid:
                    out.append((f"{package}/{filename}", lineno, msgid))
    for module in T_MODULES:
        path = root / module
        if path.is_file():
            from babel.messages.extract import extract_python
            with path.open("rb") as fh:
                for lineno, _funcname, message, _comments in extract_python(fh, {"t": None}, [], {}):
                    for msgid in (message if isinstance(message, tuple) else (message,)):
                        if msgid:
                            out.append((module, lineno, msgid))
    return out


def missing(lang: str = "it", root: Path | None = None) -> list[tuple[str, int, str]]:
    """Marked messages without a translation in ``lang``'s catalogue."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    done = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and all(strings):
            done.update(ids)
    return [item for item in extracted(root) if item[2] not in done]


def main() -> int:
    gaps = missing()
    for file, line, msgid in gaps:
        print(f"{file}:{line}: no Italian for {msgid!r}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
