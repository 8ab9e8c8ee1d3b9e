"""Collect the policy test cases beside each edition with almp's pytest plugin."""
import os
import tempfile

pytest_plugins = ["engine.avviso.pytest_plugin"]

# Key files live outside the database (api.keymaterial); a test run gets its own, never ./almp-*.key.
_KEY_FILES = {"ALMP_PSEUDONYM_KEY_FILE": "pseudonym.key"}


def pytest_configure(config):
    folder = tempfile.mkdtemp(prefix="almp-test-keys-")
    for env, name in _KEY_FILES.items():
        os.environ.setdefault(env, os.path.join(folder, name))
