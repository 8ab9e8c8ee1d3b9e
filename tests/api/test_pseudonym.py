"""Subject pseudonyms: keyed, stable, never the identifier, useless without the key."""
from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, strategies as st

from api import pseudonym
from api.keymaterial import KeyMaterialError, read_or_create
from api.pseudonym import Pseudonymiser

CF = "RSSMRA80A01F205X"


def test_the_key_file_is_made_once_private_and_reused(tmp_path):
    path = tmp_path / "k"
    first = read_or_create(path)
    assert len(first) == 32 and (path.stat().st_mode & 0o077) == 0
    assert read_or_create(path) == first


def test_a_malformed_key_file_is_refused_not_replaced(tmp_path):
    path = tmp_path / "k"
    path.write_text("not base64 at all!\n")
    with pytest.raises(KeyMaterialError, match="base64"):
        read_or_create(path)
    assert path.read_text() == "not base64 at all!\n"


def test_same_codice_fiscale_same_pseudonym_whatever_its_case_or_spacing(tmp_path):
    p = Pseudonymiser.from_file(tmp_path / "k")
    assert p.of_codice_fiscale(CF) == p.of_codice_fiscale(" rssmra80a01f205x ")
    assert pseudonym.is_pseudonym(p.of_codice_fiscale(CF))


def test_the_pseudonym_depends_on_the_key_and_is_not_a_plain_hash(tmp_path):
    a = Pseudonymiser.from_file(tmp_path / "a").of_codice_fiscale(CF)
    b = Pseudonymiser.from_file(tmp_path / "b").of_codice_fiscale(CF)
    assert a != b
    for text in (CF, "cf:" + CF):
        assert hashlib.sha256(text.encode()).hexdigest() not in a
    assert CF not in a and CF.lower() not in a


def test_subject_ids_are_scoped_to_their_caller(tmp_path):
    p = Pseudonymiser.from_file(tmp_path / "k")
    assert p.of_subject_id("42", caller="cpi-a") != p.of_subject_id("42", caller="cpi-b")
    assert p.of_subject_id("42", caller="cpi-a") == p.of_subject_id("42", caller="cpi-a")
    # a subject id that happens to look like a codice fiscale is still not that person's CF pseudonym
    assert p.of_subject_id(CF, caller="x") != p.of_codice_fiscale(CF)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 257])
def test_empty_or_oversized_identifiers_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        Pseudonymiser.from_file(tmp_path / "k").of_codice_fiscale(bad)


def test_the_module_functions_use_the_configured_key_file():
    path = os.environ[pseudonym.KEY_ENV]
    assert pseudonym.of_codice_fiscale(CF) == Pseudonymiser.from_file(path).of_codice_fiscale(CF)


@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()), st.text(min_size=1, max_size=40)
       .filter(lambda t: t.strip()))
def test_distinct_codici_fiscali_never_share_a_pseudonym(a, b):
    p = Pseudonymiser(b"k" * 32)
    same = "".join(a.split()).upper() == "".join(b.split()).upper()
    assert (p.of_codice_fiscale(a) == p.of_codice_fiscale(b)) == same


def test_a_key_file_made_on_first_use_is_announced_in_italian_without_the_key(tmp_path, caplog):
    import base64
    import logging
    with caplog.at_level(logging.WARNING, logger="almp.keys"):
        material = read_or_create(tmp_path / "nuova.key")
    lines = [r.getMessage() for r in caplog.records]
    assert any("creato il file della chiave" in line and "nuova.key" in line for line in lines), lines
    assert not any(base64.b64encode(material).decode() in line for line in lines)
