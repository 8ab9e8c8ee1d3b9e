"""Figures are checked against their unit at validate: an Italian-written number never becomes wrong money."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from almp.cli import main
from engine.policy import units

ROOT = Path(__file__).resolve().parents[2]
DUL = "lombardia/dote-unica-lavoro"


@pytest.fixture
def policies(tmp_path, monkeypatch):
    monkeypatch.setenv("ALMP_LANG", "it")
    target = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", target)
    return target


def _set_fascia_2(policies: Path, written: str) -> tuple[Path, int]:
    path = policies / DUL / "2019.yaml"
    text = path.read_text(encoding="utf-8")
    old = "amount: {value: 1800.00, status: placeholder"
    assert text.count(old) == 1
    path.write_text(text.replace(old, f"amount: {{value: {written}, status: placeholder"), encoding="utf-8")
    line = next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if f"value: {written}" in l)
    return path, line


@pytest.mark.parametrize("written, meant", [("1.800", "1800.00"), ('"1800,00"', "1800.00"),
                                            ('"€ 1800"', "1800.00"), ('"1.800"', "1800.00"),
                                            ('"2.600,00 €"', "2600.00"), ("1800.5", "1800.50")])
def test_italian_money_is_refused_with_file_line_and_the_meant_value(policies, capsys, written, meant):
    path, line = _set_fascia_2(policies, written)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err
    assert "policy_unit_error" in err
    assert f"intendevi {meant}?" in err
    assert "Traceback" not in err


def test_ambiguous_thousands_says_how_it_would_be_read(policies, capsys):
    path, _ = _set_fascia_2(policies, "1.800")
    main(["validate", str(path)])
    err = capsys.readouterr().err
    assert "1,80 €" in err and "1.800,00 €" in err


def test_budget_with_thousands_separators_is_refused(policies, capsys):
    path = policies / DUL / "2019.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 102000000.00", 'value: "8.000.000"'),
                    encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    assert "intendevi 8000000.00?" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["test"], ["eval", DUL, "--as-of", "2019-05-01", "--version", "2019"]])
def test_other_commands_refuse_instead_of_crashing(policies, tmp_path, capsys, command):
    path, _ = _set_fascia_2(policies, '"1800,00"')
    person = tmp_path / "p.json"
    person.write_text("{}", encoding="utf-8")
    args = command + ([str(path.with_suffix(".tests.yaml"))] if command == ["test"] else
                      ["--person", str(person), "--policies", str(policies)])
    code = main(args)
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert "Traceback" not in err and "InvalidOperation" not in err


def test_whole_units_and_shares():
    assert units.check(Decimal("6"), "months") is None
    assert units.check(Decimal("6.5"), "months") is not None
    assert units.check(Decimal("1.800"), "count")[1] == "intendevi 1800?" or "1800" in units.check(
        Decimal("1.800"), "count")[1]
    assert units.check(Decimal("0.125"), "share") is None
    assert "0.125" in units.check(Decimal("12.5"), "share")[1]
    assert units.check(1800, "euro") is None and units.check(Decimal("1800.00"), "euro") is None


def test_parameter_unit_follows_the_fact_it_is_compared_with():
    from engine.policy.facts import load_dictionary
    dictionary = load_dictionary(ROOT / "policies" / "national" / "facts.yaml")
    data = {"parameters": {"eta_max": 65, "mesi": 4}, "eligibility": [{"when": "age <= eta_max"},
                                                                      {"any_of": [{"when": "unemployment_months > mesi"}]}]}
    assert units.parameter_units(data, dictionary) == {"eta_max": "years", "mesi": "months"}


def test_default_policies_is_the_working_directory(policies, monkeypatch, capsys):
    monkeypatch.delenv("ALMP_POLICIES", raising=False)
    monkeypatch.chdir(policies.parent)
    _set_fascia_2(policies, "1.800")
    assert main(["validate"]) == 1  # the checkout's edited file, not the installed one
    assert "policy_unit_error" in capsys.readouterr().err
