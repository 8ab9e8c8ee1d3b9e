"""The officer's walkthrough of issue 6, end to end through the CLI, on a copy of policies/.

Scaffold the next Dote Unica Lavoro edition from 2013, raise the fascia 3 dote and the
young-people age limit, read the diff, simulate both editions on a synthetic Lombardy
population and check the budget effect against a count made person by person with
``engine.decide.evaluate.evaluate`` (not with the simulator).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest

from almp.cli import main
from engine.i18n import money
from engine.decide.evaluate import evaluate
from engine.policy.registry import Registry

from ..conftest import POLICIES

DUL = "lombardia/dote-unica-lavoro"
AS_OF = dt.date(2015, 9, 1)


@pytest.fixture
def tree(tmp_path):
    """The shipped policies with a gap after DUL I to scaffold a new avviso into (DUL I shortened to
    30/06/2015 and the 2016 edition left out)."""
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    open_gap_after_dul_i(root)
    return root


def open_gap_after_dul_i(root):
    folder = root / DUL
    for name in ("2016.yaml", "2016.tests.yaml"):
        (folder / name).unlink()
    first = folder / "2013.yaml"
    text = first.read_text(encoding="utf-8")
    assert "\nvalid_to: 2016-01-14\n" in text
    first.write_text(text.replace("\nvalid_to: 2016-01-14\n", "\nvalid_to: 2015-06-30\n"), encoding="utf-8")
    tests = folder / "2013.tests.yaml"
    tests.write_text(tests.read_text(encoding="utf-8").split("\n  # -- corrections of issue 13")[0] + "\n",
                     encoding="utf-8")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def raw_person(row: dict, columns) -> dict:
    """A CSV row as the JSON facts a caller would send (the test's own reading, not the simulator's)."""
    out = {}
    for name in columns:
        text = row[name]
        if name == "active_measures":
            out[name] = [t for t in text.split(";") if t]
        elif text == "":
            out[name] = None
        elif text in ("true", "false"):
            out[name] = text == "true"
        elif name == "profiling_index":
            out[name] = text
        else:
            out[name] = text
    return out


def scaffold_and_edit(capsys, tree):
    code, out, err = run(capsys, "new-avviso", DUL, "--version", "2015", "--valid-from", "2015-07-01",
                         "--policies", tree)
    assert code == 0, err
    draft = tree / DUL / "2015.yaml"
    assert "è valido" in out and "CHECKLIST:" in out and draft.is_file() and (tree / DUL / "2015.tests.yaml").is_file()
    text = draft.read_text(encoding="utf-8")
    original = (tree / DUL / "2013.yaml").read_text(encoding="utf-8")
    # text-preserving copy: comments kept, only the four window/status lines differ
    changed = [(a, b) for a, b in zip(original.splitlines(), text.splitlines()) if a != b]
    assert [a.split(":")[0] for a, _ in changed] == ["version", "status", "valid_from", "valid_to"]
    assert text.startswith("# Dote Unica Lavoro")
    text = text.replace("amount: {value: 2600.00,", "amount: {value: 3000.00,")
    text = text.replace("eta_max_giovani: {value: 29,", "eta_max_giovani: {value: 32,")
    # the new avviso also opens the youth group to young people without a DID (inactive, students)
    young = 'age <= eta_max_giovani and employment_status == "unemployed"'
    assert young in text
    text = text.replace(young, 'age <= eta_max_giovani and employment_status in ["unemployed", "inactive", "student"]')
    draft.write_text(text, encoding="utf-8")
    return draft


def test_walkthrough_scaffold_diff_simulate(capsys, tree, tmp_path):
    scaffold_and_edit(capsys, tree)

    code, out, err = run(capsys, "diff", f"{DUL}@2013", "@2015", "--policies", tree, "--json")
    assert code == 0, err
    changes = json.loads(out)["changes"]
    by_path = {c["path"]: c for c in changes}
    assert by_path["$.parameters.eta_max_giovani"]["before"]["value"] == 29
    assert by_path["$.parameters.eta_max_giovani"]["after"]["value"] == 32
    amount = by_path["$.bands[id=3].benefit.amount"]
    assert (amount["before"]["value"], amount["after"]["value"]) == ("2600.00", "3000.00")
    sections = [c["section"] for c in changes]
    assert sections.index("parameters") < sections.index("bands") < sections.index("dates")
    code, text, _ = run(capsys, "diff", f"{DUL}@2013", f"{DUL}@2015", "--policies", tree)
    assert code == 0 and "eta_max_giovani" in text and "3.000,00 €" in text and "(era 2.600,00 €" in text
    assert "{'value'" not in text and "==" not in text  # no Python dicts, no raw expressions

    population = tmp_path / "lombardia.csv"
    code, out, err = run(capsys, "population", "synth", "--size", 3000, "--region", "lombardia", "--seed", 11,
                         "--as-of", AS_OF, "--out", population, "--workers", 1, "--policies", tree)
    assert code == 0, err
    meta = json.loads((tmp_path / "lombardia.csv.meta.json").read_text())
    assert meta["region"] == "lombardia" and meta["assumptions"]

    report = tmp_path / "report.html"
    code, out, err = run(capsys, "simulate", f"{DUL}@2013", "--population", population, "--compare", "@2015",
                         "--as-of", AS_OF, "--outcome-rate", "*=0.5", "--report", report, "--json",
                         "--workers", 2, "--sample", 200, "--policies", tree)
    assert code == 0, err
    result = json.loads(out)
    assert result["durable_check"] == {"people": 400, "mismatches": 0, "examples": []}

    # independent count: every person through evaluate() under both editions
    registry = Registry.load(tree)
    old, new = registry.get(DUL, "2013"), registry.get(DUL, "2015")
    totals = {"2013": Decimal(0), "2015": Decimal(0)}
    outcome = {k: Decimal(str(v)) for k, v in old.document["outcomes"]["rules"][0]["amount"]["by_band"].items()}
    expected_payments = Decimal(0)
    eligible = {"2013": 0, "2015": 0}
    moved = 0
    with open(population, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames if c != "person_id"]
        for row in reader:
            person = raw_person(row, columns)
            states = []
            for policy in (old, new):
                decision = evaluate(policy, person, AS_OF)
                eligible[policy.version] += decision["eligible"]
                if decision["benefit"]:
                    totals[policy.version] += Decimal(decision["benefit"]["amount"])
                    if policy is old:
                        expected_payments += outcome[decision["band"]["id"]] / 2
                states.append((decision["eligible"], (decision["band"] or {}).get("id")))
            moved += states[0] != states[1]
    first, second = result["editions"]
    assert Decimal(first["commitments"]) == totals["2013"]
    assert Decimal(second["commitments"]) == totals["2015"]
    assert (first["eligible"], second["eligible"]) == (eligible["2013"], eligible["2015"])
    comparison = result["comparison"]
    delta = Decimal(comparison["commitments_delta"])
    assert delta == totals["2015"] - totals["2013"]
    assert delta > 0  # a higher dote and a wider age group both cost more
    assert comparison["changed_people"] == moved > 0
    assert any(m["from"] == "not eligible" for m in comparison["transitions"])
    assert Decimal(first["expected_payments"]) == expected_payments

    html = report.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "people-chart" in html and "cost-chart" in html

    code, text, _ = run(capsys, "simulate", f"{DUL}@2013", "--population", population, "--compare", "@2015",
                        "--as-of", AS_OF, "--workers", 1, "--sample", 50, "--policies", tree)
    assert code == 0
    assert "impegni +" + money(delta) in text


def test_new_avviso_proposes_and_applies_previous_end(capsys, tree):
    code, out, err = run(capsys, "new-avviso", DUL, "--version", "2015", "--valid-from", "2015-03-01",
                         "--policies", tree)
    assert code == 1
    assert "valid_to: 2015-02-28" in out and "--apply-previous" in out
    assert "policy_window_overlap" in err
    (tree / DUL / "2015.yaml").unlink()
    (tree / DUL / "2015.tests.yaml").unlink()
    code, out, err = run(capsys, "new-avviso", DUL, "--version", "2015", "--valid-from", "2015-03-01",
                         "--apply-previous", "--policies", tree)
    assert code == 0, err
    previous = (tree / DUL / "2013.yaml").read_text(encoding="utf-8")
    assert "\nvalid_to: 2015-02-28\n" in previous and "# Dote Unica Lavoro" in previous
    draft = Registry.load(tree).get(DUL, "2015")
    assert (draft.status, draft.valid_from, draft.valid_to) == ("draft", dt.date(2015, 3, 1),
                                                                dt.date(2019, 1, 21))
    code, out, _ = run(capsys, "test", tree / DUL / "2015.tests.yaml")
    assert code == 0 and " 0 non superati" in out


def test_new_avviso_refuses_existing_version(capsys, tree):
    code, _, err = run(capsys, "new-avviso", DUL, "--version", "2019", "--valid-from", "2015-07-01",
                       "--policies", tree)
    assert code == 2 and "already exists" in err


def test_diff_errors_name_the_problem(capsys, tree):
    code, _, err = run(capsys, "diff", f"{DUL}@2013", "@1999", "--policies", tree)
    assert code == 2 and "1999" in err and "versioni: 2013" in err
    code, _, err = run(capsys, "diff", f"{DUL}@2013", tree / "nope.yaml", "--policies", tree)
    assert code == 2 and "nope.yaml" in err
