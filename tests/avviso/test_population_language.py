"""`almp simulate` and `almp population check` name a bad population file's line and column in Italian by
default, in English with --lang en, also from worker processes; a cell's value (a birth date) is never
said back."""
from __future__ import annotations

import datetime as dt

import pytest

from almp.cli import main
from engine.avviso.synthetic import write_population

DUL = "lombardia/dote-unica-lavoro"
AS_OF = dt.date(2014, 3, 1)
BAD_BIRTH = "1961-02-30"


@pytest.fixture
def population(tmp_path, registry):
    path = tmp_path / "p.csv"
    write_population(registry.dictionary, path, 40, "lombardia", 3, AS_OF)
    return path


def _spoil(path, line: int, column: str, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _simulate(path, capsys, lang, workers="2") -> str:
    more = ["--lang", lang] if lang else []
    code = main(["simulate", f"{DUL}@2013", "--population", str(path), "--as-of", AS_OF.isoformat(),
                 "--workers", workers, *more])
    assert code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("lang", [None, "en"])
def test_a_bad_cell_names_line_and_column_in_the_chosen_language(population, capsys, lang, workers):
    _spoil(population, 9, "birth_date", BAD_BIRTH)
    err = _simulate(population, capsys, lang, workers)
    assert f"p.csv:9: {'column' if lang == 'en' else 'colonna'} 'birth_date'" in err, err
    assert ("expected a date" in err) is (lang == "en") and ("attesa una data" in err) is (lang != "en"), err
    assert BAD_BIRTH not in err


@pytest.mark.parametrize("lang", [None, "en"])
def test_a_bad_header_or_shape_in_the_chosen_language(tmp_path, population, capsys, lang):
    english = lang == "en"
    text = population.read_text(encoding="utf-8")
    unknown = tmp_path / "h.csv"
    unknown.write_text(text.replace("gender", "gendr", 1), encoding="utf-8")
    err = _simulate(unknown, capsys, lang)
    assert "h.csv:1: " + ("unknown column(s) ['gendr']" if english else "colonne sconosciute ['gendr']") in err, err
    assert ("did you mean 'gender'?" if english else "intendevi 'gender'?") in err

    duplicate = tmp_path / "d.csv"
    header, rest = text.split("\n", 1)
    duplicate.write_text(header + ",gender\n" + rest, encoding="utf-8")
    err = _simulate(duplicate, capsys, lang)
    assert "d.csv:1: " + ("duplicate column(s) ['gender']" if english else "colonne ripetute ['gender']") in err, err

    short = tmp_path / "s.csv"
    lines = text.splitlines()
    width = len(lines[0].split(","))
    lines[4] = lines[4].rsplit(",", 1)[0]
    short.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _simulate(short, capsys, lang)
    assert "s.csv:5: " + (f"expected {width} cells, found {width - 1}" if english
                          else f"attese {width} celle, trovate {width - 1}") in err, err

    empty = tmp_path / "e.csv"
    empty.write_text("", encoding="utf-8")
    err = _simulate(empty, capsys, lang)
    assert "e.csv:1: " + ("empty file" if english else "file vuoto") in err, err


@pytest.mark.parametrize("lang", [None, "en"])
def test_population_check_lists_bad_rows_in_the_chosen_language(population, capsys, lang):
    _spoil(population, 7, "birth_date", BAD_BIRTH)
    more = ["--lang", lang] if lang else []
    assert main(["population", "check", str(population), "--as-of", AS_OF.isoformat(), *more]) == 2
    err = capsys.readouterr().err
    assert ("p.csv:7: column 'birth_date'" if lang == "en" else "p.csv:7: colonna 'birth_date'") in err, err
    assert BAD_BIRTH not in err
