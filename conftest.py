"""Collect the policy test cases beside each edition with almp's pytest plugin; one hypothesis profile."""
import datetime
import os
import tempfile

from hypothesis import settings

# Hypothesis draws the same examples on every run (CI and the README's test command), so a red run names
# a regression in the code, not a case a new random draw happened to find; no example database, so a
# developer's saved failures do not make their run differ from CI's. `print_blob` prints the line that
# replays a failure. The deadline is generous because CI shares 2 cores: it catches a runaway example,
# not a loaded machine. ALMP_HYPOTHESIS=explore draws fresh examples, five times as many, and keeps
# failures in .hypothesis/ to replay them: for looking for new bugs by hand (then pin what it finds
# with @example). A test's own @settings(...) overrides only the fields it names.
_EXPLORE = os.environ.get("ALMP_HYPOTHESIS", "").strip().lower() == "explore"
_EXPLORE_FACTOR = 5
settings.register_profile("almp-ci", derandomize=True, database=None, print_blob=True,
                          deadline=datetime.timedelta(seconds=1))
settings.register_profile("almp-explore", derandomize=False, print_blob=True,
                          deadline=datetime.timedelta(seconds=1),
                          max_examples=settings.default.max_examples * _EXPLORE_FACTOR)
settings.load_profile("almp-explore" if _EXPLORE else "almp-ci")

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


def pytest_collection_modifyitems(items):
    """In explore mode a test that names its own max_examples runs five times as many too (its settings
    object is where hypothesis reads them; only in explore mode, so CI never relies on that detail)."""
    if not _EXPLORE:
        return
    for test in {id(item.obj): item.obj for item in items if hasattr(item, "obj")}.values():  # once per function
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        # a count other than the profile's is the test's own (the profile's was already multiplied)
        if isinstance(own, settings) and own.max_examples != settings.default.max_examples:
            test._hypothesis_internal_use_settings = settings(own, max_examples=own.max_examples * _EXPLORE_FACTOR)


@pytest.fixture(autouse=True)
def _own_checkpoint_file(tmp_path, monkeypatch):
    """Each test its own checkpoint file: checkpoints of one test's log must not meet another's."""
    monkeypatch.setenv("ALMP_CHECKPOINT_FILE", str(tmp_path / "checkpoints.jsonl"))

# Tests read the Italian messages whatever the developer's LANG (tests of the language choice clear it).
os.environ.setdefault("ALMP_LANG", "it")
