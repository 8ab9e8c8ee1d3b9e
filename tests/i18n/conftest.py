"""Every test here starts from no language chosen, with none of the locale variables set."""
from __future__ import annotations

import pytest

from engine import i18n


@pytest.fixture(autouse=True)
def _clean_language(monkeypatch):
    for var in ("ALMP_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)
