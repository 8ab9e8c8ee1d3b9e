"""The language is per context (thread, task, CLI command), never per process."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from almp.cli import main
from engine import i18n

REPO = Path(__file__).resolve().parents[2]


def test_a_language_set_in_one_thread_is_not_seen_in_another():
    seen = {}
    chosen, asked = threading.Event(), threading.Event()

    def english():
        i18n.set_language("en")
        chosen.set()
        asked.wait(10)
        seen["en-thread"] = i18n._("at least")

    worker = threading.Thread(target=english)
    worker.start()
    chosen.wait(10)
    seen["main"] = i18n._("at least")  # while the other thread speaks English
    asked.set()
    worker.join(10)
    assert seen == {"main": "non inferiore a", "en-thread": "at least"}


def test_using_restores_the_previous_choice():
    i18n.set_language("it")
    with i18n.using("en"):
        assert i18n.language() == "en"
    assert i18n.language() == "it"


@pytest.mark.parametrize("argv, words", [([], "usare il punto come separatore decimale"),
                                         (["--lang", "en"], "a point as the decimal separator")])
def test_the_cli_says_how_to_write_a_decimal_in_its_language(tmp_path, capsys, argv, words):
    person = json.loads((REPO / "examples" / "person-dul.json").read_text())
    path = tmp_path / "person.json"
    path.write_text(json.dumps({**person, "profiling_index": "0,75"}))
    code = main([*argv, "eval", "lombardia/dote-unica-lavoro", "--person", str(path), "--as-of", "2014-03-01"])
    err = capsys.readouterr().err
    assert code == 2 and "profiling_index" in err and words in err, err
    assert i18n.language() == "it"  # the command's --lang did not outlive it
