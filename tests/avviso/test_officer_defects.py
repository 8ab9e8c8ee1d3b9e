"""Each defect an officer met in issue 14, as a test that failed before the fix."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from almp.cli import main

ROOT = Path(__file__).resolve().parents[2]
DUL = "lombardia/dote-unica-lavoro"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("ALMP_LANG", "it")
    monkeypatch.delenv("ALMP_POLICIES", raising=False)
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    monkeypatch.chdir(tmp_path)  # --policies defaults to ./policies
    return tmp_path / "policies"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_new_avviso_leaves_a_checklist_and_validate_warns_until_confirmed(tree, capsys):
    code, out, err = run(capsys, "new-avviso", DUL, "--version", "2025", "--valid-from", "2025-01-01",
                         "--apply-previous")
    assert code == 0, err
    checklist = tree / DUL / "2025.CHECKLIST.md"
    text = checklist.read_text(encoding="utf-8")
    assert "CHECKLIST:" in out and str(checklist) in out
    # dated texts, references, figures and the copied test cases, each with file:line
    assert re.search(r"- \[ \] 2025\.yaml:\d+: riferimento: title: DGR XI/7724", text)
    assert re.search(r"- \[ \] 2025\.yaml:\d+: cifra: amount: \{value: 5000000\.00", text)
    assert re.search(r"- \[ \] 2025\.tests\.yaml:\d+: caso di prova: ", text)
    code, out, _ = run(capsys, "validate", tree / DUL / "2025.yaml")
    assert code == 0 and "da confermare (CHECKLIST): 2025.yaml:" in out
    budget_line = next(l for l in out.splitlines() if "value: 5000000.00" in l)
    # changing the line closes its item; ticking closes the others
    draft = tree / DUL / "2025.yaml"
    draft.write_text(draft.read_text(encoding="utf-8").replace("value: 5000000.00", "value: 6000000.00"),
                     encoding="utf-8")
    code, out, _ = run(capsys, "validate", draft)
    assert budget_line not in out and "da confermare" in out
    checklist.write_text(text.replace("- [ ]", "- [x]"), encoding="utf-8")
    code, out, _ = run(capsys, "validate", draft)
    assert code == 0 and "da confermare" not in out


def test_publish_refuses_with_reasons_then_seals(tree, capsys):
    run(capsys, "new-avviso", DUL, "--version", "2025", "--valid-from", "2025-01-01", "--apply-previous")
    code, out, err = run(capsys, "publish", f"{DUL}@2025", "--act-number", "n. 1", "--act-date", "2024-12-20",
                         "--size", 300)
    assert code == 1
    assert "Pubblicazione rifiutata" in err and "[checklist_open]" in err and "[placeholder]" in err
    assert "status: draft" in (tree / DUL / "2025.yaml").read_text(encoding="utf-8")
    assert not (tree / DUL / "2025.publication.json").exists()


def test_synth_region_by_name_writes_what_simulate_reads(tree, capsys, tmp_path):
    population = tmp_path / "pop.csv"
    code, out, err = run(capsys, "population", "synth", "--size", 200, "--region", "Lombardia", "--as-of",
                         "2019-06-01", "--out", population)
    assert code == 0, err
    rows = population.read_text(encoding="utf-8").splitlines()
    assert "Lombardia" not in "\n".join(rows[1:]) and "lombardia" in rows[1]
    code, out, err = run(capsys, "simulate", f"{DUL}@2019", "--population", population, "--sample", 50)
    assert code == 0, err
    code, _, err = run(capsys, "population", "synth", "--size", 5, "--region", "Atlantide", "--out", population)
    assert code == 2 and "non è una regione italiana" in err


def test_simulate_states_basis_and_take_up_in_aligned_tables(tree, capsys, tmp_path):
    population = tmp_path / "pop.csv"
    run(capsys, "population", "synth", "--size", 400, "--region", "lombardia", "--as-of", "2019-06-01",
        "--out", population)
    code, out, err = run(capsys, "simulate", f"{DUL}@2019", "--population", population, "--compare", "@2020",
                         "--outcome-rate", "*=0.5", "--sample", 50)
    assert code == 0, err
    assert "adesione ipotizzata 100%" in out  # take-up shown even at its default
    assert "impegni = persone × dote × adesione" in out
    assert "il valore della dote della fascia" in out  # the basis of expected payments
    assert "Dote Unica Lavoro – terza fase (2019)" in out and "@" not in out.split("\n", 1)[1]
    assert re.search(r"\d{1,3}(\.\d{3})*,\d{2} €", out)  # it-IT money
    # every row of a table ends its columns at the same places
    blocks = [b for b in out.split("\n\n") if "────" in b]
    for block in blocks:
        lines = [l for l in block.splitlines() if l.startswith("  ") and not l.startswith("  impegni")
                 and not l.startswith("  dotazione") and not l.startswith("  *") and not l.startswith("  pagamenti")]
        rule = next(l for l in lines if "────" in l)
        ends = [m.end() for m in re.finditer(r"─+", rule)]
        for line in lines:
            if "────" in line:
                continue
            assert len(line) <= ends[-1], line
            # the last column holds numbers, right-aligned: each row ends exactly where the column ends
            assert len(line) == ends[-1] or not line[ends[-2]:].strip(), (line, ends)


def test_diff_speaks_an_officers_words(tree, capsys):
    draft = tree / DUL / "2019.yaml"
    old = draft.read_text(encoding="utf-8")
    new = tree / DUL / "2030.yaml"
    text = old.replace('version: "2019"', 'version: "2030"').replace("value: 2600.00, status: placeholder",
                                                                      "value: 2400.00, status: placeholder")
    text = text.replace("eta_min_disoccupati:\n    value: 30", "eta_min_disoccupati:\n    value: 35")
    new.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "diff", f"{DUL}@2019", "@2030")
    assert code == 0, err
    assert "Valore minimo di età compiuta (eta_min_disoccupati) passa da 30 anni a 35 anni" in out
    assert "Fascia 3 (media) vale 2.400,00 € (provvisorio) (era 2.600,00 € (provvisorio))" in out
    assert "{'" not in out and "==" not in out and "lombardia/dote-unica-lavoro@" not in out
    code, out, _ = run(capsys, "diff", f"{DUL}@2019", "@2030", "--lang", "en")
    assert "goes from 30 years to 35 years" in out


def test_yaml_errors_in_plain_words_and_typos_on_their_line(tree, capsys):
    path = tree / DUL / "2019.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^valid_from:", "valid_form:", text), encoding="utf-8")
    line = next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if l.startswith("valid_form"))
    code, _, err = run(capsys, "validate", path)
    assert code == 1 and f"2019.yaml:{line}:" in err and "chiave sconosciuta 'valid_form'" in err
    assert "intendevi 'valid_from'?" in err
    path.write_text(text.replace("title: Dote Unica", "title: Dote: Unica", 1), encoding="utf-8")
    code, _, err = run(capsys, "validate", path)
    assert code == 1 and "un ':' dove non può stare" in err


def test_an_unknown_parameter_is_not_called_an_unknown_fact(tree, capsys):
    path = tree / DUL / "2019.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("when: age <= eta_max", "when: age <= eta_maxx"),
                    encoding="utf-8")
    code, _, err = run(capsys, "validate", path)
    assert code == 1 and "unknown fact" not in err and "fatto sconosciuto" not in err
    assert "'eta_maxx' non è né un fatto di questa policy né uno dei suoi parametri" in err
    assert "intendevi 'eta_max'?" in err


def test_english_on_request(tree, capsys, monkeypatch):
    code, out, _ = run(capsys, "validate", tree / DUL / "2019.yaml", "--lang", "en")
    assert code == 0 and "placeholder parameters." in out
    monkeypatch.delenv("ALMP_LANG")
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    code, out, _ = run(capsys, "validate", tree / DUL / "2019.yaml")
    assert "placeholder parameters." in out
    code, _, err = run(capsys, "validate", "--lang", "fr")
    assert code == 2 and "unsupported language" in err
