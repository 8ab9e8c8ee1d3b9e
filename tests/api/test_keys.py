"""API keys: created once, stored only as sha256, roles enforced, file re-read when it changes."""
from __future__ import annotations

import pytest

from almp.cli import main
from api.keys import KeyFileError, KeyRing, digest, parse_keys

from .conftest import eligibility_body


def test_keys_add_prints_the_key_once_and_stores_only_its_hash(tmp_path, capsys):
    path = tmp_path / "keys.txt"
    assert main(["keys", "add", "--role", "audit", "--name", "auditor-1", "--file", str(path)]) == 0
    key = capsys.readouterr().out.strip()
    stored = path.read_text()
    assert key and key not in stored
    assert digest(key) in stored
    found = KeyRing(path).lookup(key)
    assert found is not None and found.roles == {"audit"} and found.caller == "auditor-1"
    assert (path.stat().st_mode & 0o077) == 0  # not readable by others


def test_keys_add_rejects_an_unknown_role(tmp_path):
    assert main(["keys", "add", "--role", "root", "--file", str(tmp_path / "k")]) == 2


def test_two_keys_are_different(tmp_path, capsys):
    path = tmp_path / "keys.txt"
    main(["keys", "add", "--role", "evaluate", "--file", str(path)])
    main(["keys", "add", "--role", "evaluate", "--file", str(path)])
    first, second = capsys.readouterr().out.split()
    assert first != second and len(path.read_text().splitlines()) == 2


def test_a_key_added_while_running_works_without_restart(make_client, tmp_path, capsys):
    path = tmp_path / "keys.txt"
    client = make_client()
    client.app.state.keys = KeyRing(path)
    assert client.post("/v1/eligibility", json=eligibility_body(), headers={"X-API-Key": "x"}).status_code == 401
    main(["keys", "add", "--role", "evaluate", "--file", str(path)])
    key = capsys.readouterr().out.strip()
    assert client.post("/v1/eligibility", json=eligibility_body(), headers={"X-API-Key": key}).status_code == 200


def test_key_entries_are_checked():
    with pytest.raises(KeyFileError, match="ruolo"):
        parse_keys(f"{digest('a')} superuser", "f")
    with pytest.raises(KeyFileError, match="sha256"):
        parse_keys("plain-text-key evaluate", "f")
    keys = parse_keys(f"# comment\n\n{digest('a')} evaluate,audit alice  # trailing", "f")
    assert keys[digest("a")].roles == {"evaluate", "audit"}


def test_environment_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("ALMP_API_KEYS", f"{digest('k1')} audit; {digest('k2')} admin")
    monkeypatch.setenv("ALMP_API_KEYS_FILE", str(tmp_path / "absent.txt"))
    ring = KeyRing.from_environment()
    assert ring.lookup("k1").allows("audit") and not ring.lookup("k1").allows("evaluate")
    assert ring.lookup("k2").allows("evaluate")
    assert ring.lookup("k3") is None
