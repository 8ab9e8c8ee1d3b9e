"""No policy text, however broken, makes a command print a traceback: a clear message and exit 1 or 2.

Hypothesis mutates shipped editions the way files get damaged in an officer's hands: numbers
written the Italian way, values of the wrong type, keys misspelt or removed, files truncated,
saved in another encoding. Every command is run in-process on the damaged file; the catch-all
'internal_error' message counts as a failure (it means an unhandled exception).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from almp.cli import main

ROOT = Path(__file__).resolve().parents[2]
EDITIONS = ["lombardia/dote-unica-lavoro/2019.yaml", "lombardia/dote-unica-lavoro/2023.yaml",
            "national/assegno-di-ricollocazione/2018.yaml", "lombardia/reti-di-partenariato/2012.yaml",
            "basilicata/capitale-lavoro/2018.yaml"]
ITALIAN_NUMBERS = ["1.800", '"1800,00"', '"€ 1800"', '"8.000.000"', "2.600,00", '"12,5%"', "1.5e3", ".5", "-0",
                   '"1 800"', "1_800", "0x10", "1800.001"]
WRONG_VALUES = ['"abc"', "[]", "{}", "null", "true", '"2019-02-30"', "2019-13-01", '"',
                "[1, 2", "{a: 1", "*anchor", "!!python/object:os.system ls", "~", "'x' 'y'"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mutations")
    shutil.copytree(ROOT / "policies", folder / "pristine")
    person = folder / "person.json"
    person.write_text(json.dumps({"birth_date": "1980-01-01"}), encoding="utf-8")
    return folder


def _mutate(text: str, kind: str, pick: int, value: str) -> bytes:
    lines = text.splitlines(keepends=True)
    if kind == "number":
        numbers = [m for m in re.finditer(r"(?<=: )-?\d[\d.]*(?=[,}\s])", text)]
        if numbers:
            m = numbers[pick % len(numbers)]
            text = text[:m.start()] + value + text[m.end():]
        return text.encode("utf-8")
    if kind == "value":
        slots = [m for m in re.finditer(r"(?<=: )[^\s#{\[][^\n#]*", text)]
        if slots:
            m = slots[pick % len(slots)]
            text = text[:m.start()] + value + text[m.end():]
        return text.encode("utf-8")
    if kind == "drop_line":
        del lines[pick % len(lines)]
        return "".join(lines).encode("utf-8")
    if kind == "misspell_key":
        keys = [i for i, line in enumerate(lines) if re.match(r"^\s*-?\s*[a-z_]+:", line)]
        i = keys[pick % len(keys)]
        lines[i] = re.sub(r"([a-z_]+):", lambda m: m.group(1)[:-1] + "x:", lines[i], count=1)
        return "".join(lines).encode("utf-8")
    if kind == "truncate":
        data = text.encode("utf-8")
        return data[:pick % max(len(data), 1)]
    if kind == "indent":
        i = pick % len(lines)
        lines[i] = "   " + lines[i]
        return "".join(lines).encode("utf-8")
    if kind == "latin1":
        return text.encode("latin-1", errors="replace")
    if kind == "utf16":
        return text.encode("utf-16")
    return text.encode("utf-8") + b"\xff\xfe\x00"


mutations = st.tuples(st.sampled_from(EDITIONS),
                      st.sampled_from(["number", "value", "drop_line", "misspell_key", "truncate", "indent",
                                       "latin1", "utf16", "garbage"]),
                      st.integers(min_value=0, max_value=10_000),
                      st.sampled_from(ITALIAN_NUMBERS + WRONG_VALUES))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations)
def test_every_command_answers_a_damaged_edition_without_a_traceback(workspace, capsys, tmp_path_factory, mutation):
    edition, kind, pick, value = mutation
    policies = tmp_path_factory.mktemp("p") / "policies"
    # the national dictionaries and the one edition with its tests: commands load the whole tree they get
    (policies / "national").mkdir(parents=True)
    for shared in (workspace / "pristine" / "national").glob("*.yaml"):
        shutil.copy(shared, policies / "national" / shared.name)
    path = policies / edition
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(workspace / "pristine" / edition, path)
    shutil.copy(workspace / "pristine" / edition.replace(".yaml", ".tests.yaml"), path.with_suffix(".tests.yaml"))
    path.write_bytes(_mutate(path.read_text(encoding="utf-8"), kind, pick, value))
    ident, version = edition.rsplit("/", 1)
    version = version[:-len(".yaml")]
    commands = [
        ["validate", str(path)],
        ["test", str(path.with_suffix(".tests.yaml"))],
        ["diff", str(ROOT / "policies" / edition), str(path)],
        ["eval", ident, "--version", version, "--as-of", "2019-06-01", "--person", str(workspace / "person.json"),
         "--policies", str(policies), "--backend", "reference"],
    ]
    for command in commands:
        code = main(command + ["--lang", "it"])
        out = capsys.readouterr()
        assert code in (0, 1, 2), (command, code)
        text = out.out + out.err
        assert "Traceback" not in text and "internal_error" not in text, (kind, value, command, text[-1500:])
        if code:
            # a test run that found failing cases reports them on stdout, as test runners do; anything else
            # that fails says why on stderr
            reported = out.err.strip() or (command[0] == "test" and code == 1 and "non superati" in out.out)
            assert reported, (command, "exit code without a message")
