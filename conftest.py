"""Collect the policy test cases beside each edition with almp's pytest plugin."""
import os
import tempfile

pytest_plugins = ["engine.avviso.pytest_plugin"]

# Key files live outside the database (api.keymaterial); a test run gets its own, never ./almp-*.key.
_KEY_FILES = {"ALMP_PSEUDONYM_KEY_FILE": "pseudonym.key", "ALMP_CHECKPOINT_KEY_FILE": "checkpoint.key",
              "ALMP_SEALING_KEY_FILE": "sealing.key",
              "ALMP_CHECKPOINT_FILE": "checkpoints.jsonl"}


def pytest_configure(config):
    folder = tempfile.mkdtemp(prefix="almp-test-keys-")
    for env, name in _KEY_FILES.items():
        os.environ.setdefault(env, os.path.join(folder, name))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_checkpoint_file(tmp_path, monkeypatch):
    """Each test its own checkpoint file: checkpoints of one test's log must not meet another's."""
    monkeypatch.setenv("ALMP_CHECKPOINT_FILE", str(tmp_path / "checkpoints.jsonl"))

# Tests read the Italian messages whatever the developer's LANG (tests of the language choice clear it).
os.environ.setdefault("ALMP_LANG", "it")
