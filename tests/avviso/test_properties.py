"""Properties of diff, populations and simulation (hypothesis), and their error messages."""
from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import shutil

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from almp.cli import main
from engine.avviso import simulate as sim
from engine.avviso.diff import diff_documents
from engine.decide.evaluate import evaluate
from engine.policy.registry import Registry
from engine.avviso.scaffold import new_edition
from engine.avviso.population import PopulationError, RowReader, read_header
from engine.avviso.synthetic import write_population
from engine.avviso.whatif import read_jsonl, summarise_changes, whatif

from ..conftest import POLICIES
from ..strategies import persons

DUL = "lombardia/dote-unica-lavoro"
AS_OF = dt.date(2014, 3, 1)


# -- diff -----------------------------------------------------------------------------------------
edits = st.lists(st.tuples(st.sampled_from(["param", "band", "duration", "rule", "basket", "budget", "drop"]),
                           st.integers(0, 50)), min_size=1, max_size=4)


def mutate(doc: dict, kind: str, n: int) -> tuple[dict, str]:
    """Apply one edit; return the new document and the JSON path the diff must report."""
    doc = copy.deepcopy(doc)
    if kind == "param":
        name = sorted(doc["parameters"])[n % len(doc["parameters"])]
        doc["parameters"][name]["value"] = doc["parameters"][name]["value"] + 1 + n
        return doc, f"$.parameters.{name}"
    band = doc["bands"][n % len(doc["bands"])]
    if kind == "band":
        band["benefit"]["amount"]["value"] = str(Decimal(band["benefit"]["amount"]["value"]) + 1 + n)
        return doc, f"$.bands[id={band['id']}].benefit.amount"
    if kind == "duration":
        band["benefit"]["duration_months"]["value"] += 1 + n
        return doc, f"$.bands[id={band['id']}].benefit.duration_months"
    if kind == "rule":
        rule = doc["eligibility"][n % len(doc["eligibility"])]
        rule["reason"] = rule["reason"] + f" (edit {n})"
        return doc, f"$.eligibility[id={rule['id']}].reason"
    if kind == "basket":
        doc.setdefault("x_section", {"services": []})["services"].append({"code": f"svc-{n}", "cap": n})
        return doc, f"$.x_section.services[id=svc-{n}]"
    if kind == "budget":
        doc["budget"]["amount"]["value"] = str(Decimal(doc["budget"]["amount"]["value"]) + 1 + n)
        return doc, "$.budget.amount"
    removed = doc["points"].pop(n % len(doc["points"]))
    return doc, f"$.points[id={removed['id']}]"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_diff_reports_every_edit_and_nothing_else(dul, steps):
    base = dul.document
    assert diff_documents(base, copy.deepcopy(base)) == []
    doc, paths = base, set()
    for kind, n in steps:
        before = doc
        doc, path = mutate(doc, kind, n)
        if doc != before:
            paths.add(path)
    changes = diff_documents(base, doc)
    reported = {c.path for c in changes}
    # each edit is reported at its path (an edit may be undone by a later one only for 'basket' ids reused)
    assert all(any(r == p or r.startswith(p) for r in reported) for p in paths)
    assert diff_documents(doc, doc) == []
    back = diff_documents(doc, base)
    assert len(back) == len(changes)
    assert Counter(c.kind for c in back)["added"] == Counter(c.kind for c in changes)["removed"]


def test_diff_unknown_sections_are_other_changes(dul):
    new = copy.deepcopy(dul.document)
    new["x_incentives"] = {"rules": [{"id": "assunzione", "amount": "500.00"}]}
    changes = diff_documents(dul.document, new)
    assert [(c.section, c.kind, c.path) for c in changes] == [
        ("other", "added", "$.x_incentives.rules[id=assunzione]")]
    new = copy.deepcopy(dul.document)
    service = new["basket"]["services"][0]
    service["cost"]["rate"] = "35.00"
    changes = diff_documents(dul.document, new)
    assert [(c.section, c.path, c.after) for c in changes] == [
        ("other", f"$.basket.services[id={service['code']}].cost.rate", "35.00")]


# -- populations ----------------------------------------------------------------------------------
def test_synthetic_population_is_deterministic_and_valid(tmp_path, registry):
    paths = []
    for workers, name in ((1, "a.csv"), (2, "b.csv")):
        path = tmp_path / name
        write_population(registry.dictionary, path, 45_000, "lombardia", 5, AS_OF, workers)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    other = tmp_path / "c.csv"
    write_population(registry.dictionary, other, 2_000, "lombardia", 6, AS_OF)
    assert other.read_bytes()[:5000] != paths[0].read_bytes()[:5000]
    assert main(["population", "check", str(paths[0])]) == 0
    with open(paths[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 45_000
    share = Counter(r["employment_status"] for r in rows)["unemployed"] / len(rows)
    assert 0.68 < share < 0.76  # the stated assumption is 72%
    assert Counter(r["residence_region"] for r in rows)["lombardia"] / len(rows) > 0.95


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_reader_names_file_line_and_column(tmp_path, registry, dul):
    path = tmp_path / "p.csv"
    write_population(registry.dictionary, path, 20, "lombardia", 1, AS_OF)
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[7].split(",")
    cells[header.index("gender")] = "X"
    lines[7] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PopulationError, match=r"p\.csv:8: colonna 'gender': atteso uno tra") as bad:
        sim.run([dul], path, AS_OF, workers=1)
    assert "'X'" not in str(bad.value)  # what was expected, never what a person's cell holds
    code = main(["simulate", f"{DUL}@2013", "--population", str(path), "--as-of", "2014-03-01", "--workers", "2"])
    assert code == 2
    bad_header = write_csv(tmp_path / "h.csv", ["birth_date", "gendr"], [["1980-01-01", "F"]])
    with pytest.raises(PopulationError, match=r"h\.csv:1: colonne sconosciute \['gendr'\]; intendevi 'gender'\?"):
        RowReader(registry.dictionary, read_header(bad_header), set(dul.needed_inputs), AS_OF, str(bad_header))
    missing = write_csv(tmp_path / "m.csv", ["birth_date", "gender"], [["1980-01-01", "F"]])
    with pytest.raises(PopulationError, match=r"m\.csv:1: mancano le colonne \[.*'employment_status'"):
        sim.run([dul], missing, AS_OF, workers=1)


def test_quoted_newlines_keep_records_whole_and_lines_right(tmp_path, registry, dul):
    path = tmp_path / "q.csv"
    write_population(registry.dictionary, path, 30, "lombardia", 2, AS_OF)
    lines = path.read_text().splitlines()
    lines[3] = '"id\nwith newline"' + lines[3][lines[3].index(","):]
    cells = lines[10].split(",")
    cells[1] = "1980-13-01"
    lines[10] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    for block in (64, 500, 1 << 20):
        texts = list(sim.chunks(path, block))
        assert sum(1 for c in texts for _ in sim.rows(*c)) == 30
    with pytest.raises(PopulationError, match=r"q\.csv:12: colonna 'birth_date': attesa una data") as bad:
        sim.run([dul], path, AS_OF, workers=1)
    assert "1980-13-01" not in str(bad.value)


# -- simulation -----------------------------------------------------------------------------------
COLUMNS = ["birth_date", "gender", "residence_region", "domicile_region", "workplace_region", "employment_status",
           "unemployed_since", "education_level", "income_support", "solidarity_agreement", "last_cigd_period"]


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(persons, min_size=1, max_size=60), st.integers(1, 2))
def test_simulation_totals_equal_the_sum_of_decisions(tmp_path_factory, registry, people, workers):
    old, new = registry.get(DUL, "2013"), registry.get(DUL, "2019")
    needed = set().union(*(p.dictionary.closure(set(p.needed_inputs)) for p in (old, new)))
    columns = sorted(needed | set(COLUMNS))
    folder = tmp_path_factory.mktemp("pop")
    rows, expected = [], [Counter(), Counter()]
    transitions = Counter()
    for person in people:
        person = {c: person.get(c, _default(registry, c)) for c in columns}
        rows.append([cell(person[c]) for c in columns])
        states = []
        for counter, policy in zip(expected, (old, new)):
            decision = evaluate(policy, person, AS_OF)
            state = sim.NOT_ELIGIBLE if not decision["eligible"] else decision["band"]["id"]
            counter[state] += 1
            states.append(state)
        transitions[tuple(states)] += 1
    path = write_csv(folder / "p.csv", columns, rows)
    tally = sim.run([old, new], path, AS_OF, workers=workers)
    assert tally.people == len(people)
    assert tally.states == expected
    assert tally.transitions == transitions
    summary = sim.summarise(old, tally.states[0], tally.people, {})
    total = sum(Decimal(b.amount.value) * expected[0][b.id] for b in old.bands)
    assert Decimal(summary["commitments"]) == total
    assert sum(b["people"] for b in summary["bands"]) == summary["eligible"]
    checked, mismatches = sim.verify_sample([old, new], path, AS_OF, 20)
    assert checked == 2 * min(20, len(people)) and mismatches == []


def _default(registry, name):
    fact = registry.dictionary.facts[name]
    if fact.type.kind in ("boolean", "bool"):
        return False
    if fact.type.kind == "list":
        return []
    if fact.nullable:
        return None
    return fact.type.values[0] if fact.type.kind == "enum" else None


def test_outcome_rates_are_checked(dul):
    with pytest.raises(ValueError, match="no band '9'"):
        sim.parse_rates(["9=0.5"], dul)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sim.parse_rates(["1=1.5"], dul)
    rates = sim.parse_rates(["*=0.5", "3=0.8"], dul)
    assert rates == {"1": Decimal("0.5"), "2": Decimal("0.5"), "3": Decimal("0.8"), "4": Decimal("0.5")}
    summary = sim.summarise(dul, Counter({"3": 10, "1": 4, "not eligible": 6}), 20, rates)
    by_band = {k: Decimal(str(v)) for k, v in dul.document["outcomes"]["rules"][0]["amount"]["by_band"].items()}
    assert Decimal(summary["expected_payments"]) == by_band["3"] * 10 * Decimal("0.8") + by_band["1"] * 4 * Decimal("0.5")
    assert Decimal(summary["commitments"]) == 2600 * 10 + 1000 * 4
    with pytest.raises(ValueError, match="no outcome rule"):
        sim.summarise(dul, Counter(), 1, rates, outcome_rule="nope")
    assert summary["eligible"] == 14 and summary["eligibility_rate"] == "0.7000"


# -- whatif ---------------------------------------------------------------------------------------
def test_whatif_over_a_jsonl_export(tmp_path, registry, dul):
    from ..conftest import person
    people = [person(), person(birth_date="1990-01-01", unemployed_since="2014-01-01", education_level="tertiary"),
              person(employment_status="employed", workplace_region="piemonte")]
    path = tmp_path / "decisions.jsonl"
    with open(path, "w") as fh:
        for i, p in enumerate(people):
            result = evaluate(dul, p, AS_OF)
            result.pop("trace")
            fh.write(json.dumps({"id": f"d{i}", "input": p, "as_of": "2014-03-01", "policy": {"id": DUL},
                                 "result": result}) + "\n")
        fh.write(json.dumps({"input": people[0], "as_of": "2016-01-01", "policy": {"id": DUL},
                             "result": {"eligible": False}}) + "\n")  # outside the period
    same = summarise_changes(whatif(dul, read_jsonl(path, dt.date(2014, 1, 1), dt.date(2014, 12, 31), DUL)))
    assert (same["decisions"], same["changed"], same["transitions"]) == (3, 0, [])
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    from .test_walkthrough import open_gap_after_dul_i
    open_gap_after_dul_i(root)
    made = new_edition(root, Registry.load(root).get(DUL, "2013"), "2015", dt.date(2015, 7, 1), dt.date(2019, 1, 21))
    text = made.policy_path.read_text().replace("amount: {value: 2600.00,", "amount: {value: 3000.00,")
    made.policy_path.write_text(text.replace("eta_max_giovani: {value: 29,", "eta_max_giovani: {value: 35,"))
    draft = Registry.load(root).get(DUL, "2015")
    moved = summarise_changes(whatif(draft, read_jsonl(path, dt.date(2014, 1, 1), dt.date(2014, 12, 31), DUL)))
    before = [evaluate(dul, p, AS_OF) for p in people]
    after = [evaluate(draft, p, AS_OF) for p in people]

    def outcome(e):
        return e["eligible"], (e["band"] or {}).get("id"), (e["benefit"] or {}).get("amount")
    assert moved["changed"] == sum(outcome(a) != outcome(b) for a, b in zip(before, after)) > 0
    assert Decimal(moved["amount_after"]) == sum(Decimal(e["benefit"]["amount"]) for e in after if e["benefit"])
    assert Decimal(moved["amount_before"]) == sum(Decimal(e["benefit"]["amount"]) for e in before if e["benefit"])
    # an edition that needs facts the stored inputs lack reports them instead of guessing
    other = summarise_changes(whatif(registry.get(DUL, "2019"),
                                     read_jsonl(path, dt.date(2014, 1, 1), dt.date(2014, 12, 31), DUL)))
    assert other["errors"] == 3 and "è richiesto da questa policy" in other["error_examples"][0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": {}, "result": {}, "as_of": "2014-01-01"}\n{oops\n')
    code = main(["whatif", f"{DUL}@2019", "--from", "2014-01-01", "--to", "2014-12-31", "--decisions", str(bad)])
    assert code == 2


def test_whatif_reads_the_decision_store(tmp_path, registry, dul, capsys):
    """Decisions taken through the service are re-evaluated from the store (SQLite here)."""
    from api.service import Service, Store
    from api.store.db import upgrade

    from ..conftest import person
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    service = Service(registry, Store(url))
    people = [person(), person(birth_date="1990-01-01", unemployed_since="2014-01-01"),
              person(employment_status="employed", workplace_region="piemonte")]
    try:
        for p in people:
            service.decide("eligibility", {"policy": DUL, "version": "2013", "as_of": AS_OF, "person": p},
                           caller="test")
    finally:
        service.store.close()
    # the window is the application date (as_of), not the day the decisions were stored (today)
    code = main(["whatif", f"{DUL}@2013", "--from", str(AS_OF - dt.timedelta(days=1)),
                 "--to", str(AS_OF + dt.timedelta(days=1)), "--database", url, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and (out["decisions"], out["changed"], out["errors"]) == (3, 0, 0)
    assert out["unchanged"] + out["changed"] + out["errors"] == out["decisions"]
    today = dt.date.today()
    code = main(["whatif", f"{DUL}@2013", "--from", str(today - dt.timedelta(days=1)),
                 "--to", str(today + dt.timedelta(days=1)), "--database", url, "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["decisions"] == 0
    expected = sum(Decimal(evaluate(dul, p, AS_OF)["benefit"]["amount"]) for p in people
                   if evaluate(dul, p, AS_OF)["benefit"])
    assert Decimal(out["amount_before"]) == Decimal(out["amount_after"]) == expected
    code = main(["whatif", f"{DUL}@2013", "--from", "2000-01-01", "--to", "2000-01-02", "--database", url, "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["decisions"] == 0


def test_whatif_without_a_store_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMP_DATABASE_URL", raising=False)
    monkeypatch.setenv("ALMP_POLICIES", str(POLICIES))
    code = main(["whatif", f"{DUL}@2013", "--from", "2014-01-01", "--to", "2014-12-31", "--lang", "it"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nessun archivio delle decisioni" in err and "--decisions" in err
    assert "OperationalError" not in err and "Traceback" not in err
