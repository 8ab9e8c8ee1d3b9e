"""Simulation over many worker processes gives exactly the single-process result, however the
population file is cut into chunks."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.avviso import simulate as sim

from ..strategies import persons
from .test_properties import COLUMNS, _default, cell, write_csv

DUL = "lombardia/dote-unica-lavoro"
AS_OF = dt.date(2014, 3, 1)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(persons, min_size=1, max_size=80), st.integers(40, 3_000), st.data())
def test_three_workers_give_exactly_what_one_gives(tmp_path_factory, registry, people, chunk_bytes, data):
    old, new = registry.get(DUL, "2013"), registry.get(DUL, "2019")
    needed = set().union(*(p.dictionary.closure(set(p.needed_inputs)) for p in (old, new)))
    columns = sorted(needed | set(COLUMNS))
    rows = [[cell(person.get(c, _default(registry, c))) for c in columns] for person in people]
    path = write_csv(tmp_path_factory.mktemp("pop") / "p.csv", columns, rows)
    rates = {b.id: data.draw(st.decimals(0, 1, places=3), label=f"rate {b.id}") for b in old.bands}
    take_up = data.draw(st.decimals("0.01", 1, places=2), label="take-up")

    one = sim.run([old, new], path, AS_OF, workers=1)
    three = sim.run([old, new], path, AS_OF, workers=3, chunk_bytes=chunk_bytes)  # many small chunks
    assert three.people == one.people == len(people)
    assert three.states == one.states
    assert three.transitions == one.transitions
    # and so every Decimal figure derived from them: commitments, outcome payments, the comparison
    first = [sim.summarise(old, t.states[0], t.people, rates, take_up) for t in (one, three)]
    second = [sim.summarise(new, t.states[1], t.people, {}, take_up) for t in (one, three)]
    assert first[0] == first[1] and second[0] == second[1]
    assert sim.compare(first[0], second[0], one.transitions) == sim.compare(first[1], second[1], three.transitions)


def test_chunks_cut_small_still_cover_every_record_once(tmp_path, registry):
    # 2,000 records cut into blocks of 100 bytes: every line number comes back exactly once, in order
    dul = registry.get(DUL, "2013")
    columns = sorted(set(dul.dictionary.closure(set(dul.needed_inputs))) | set(COLUMNS))
    person = {c: _default(registry, c) for c in columns}
    person.update(birth_date="1980-05-01", employment_status="unemployed", unemployed_since="2013-01-10",
                  residence_region="lombardia", domicile_region="lombardia")
    path = write_csv(tmp_path / "p.csv", columns, [[cell(person[c]) for c in columns]] * 2_000)
    lines = [at for at, _ in sim.records(path, block_bytes=100)]
    assert lines == list(range(2, 2_002))
    assert sim.run([dul], path, AS_OF, workers=3, chunk_bytes=100).people == 2_000


amounts = st.decimals(0, "99999.99", places=2)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(persons, st.booleans(), amounts, st.sampled_from(["1", "2", "3", "4"])),
                min_size=1, max_size=60), st.integers(1, 7))
def test_whatif_in_three_processes_adds_up_to_the_one_process_outcome(registry, stored, part):
    from engine.avviso.whatif import record_from, whatif
    draft = registry.get(DUL, "2019")  # needs facts some stored inputs lack: errors are part of the outcome
    columns = sorted(set(draft.dictionary.closure(set(draft.needed_inputs))) | set(COLUMNS))
    records = []
    for i, (person, complete, amount, band) in enumerate(stored):
        if complete:
            person = {c: person.get(c, _default(registry, c)) for c in columns}
        result = {"eligible": True, "band": {"id": band}, "benefit": {"amount": str(amount)}}
        records.append(record_from({"id": f"d{i}", "input": person, "as_of": "2014-03-01", "result": result}, "x"))
    one = whatif(draft, iter(records))
    three = whatif(draft, iter(records), workers=3, part=part)
    assert three == one
    assert three.decisions == len(records)
    # a record the draft cannot decide is an error, its stored amount not counted; the rest add up exactly
    failed = {error.split(":")[0] for error in three.errors}
    assert len(failed) == len(three.errors)
    assert three.amount_before == sum((a for i, (_, _, a, _) in enumerate(stored) if f"d{i}" not in failed),
                                      Decimal(0))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(persons, min_size=1, max_size=30), st.data())
def test_a_reader_remembering_cells_reads_every_row_as_a_fresh_reader(registry, people, data):
    from engine.avviso.population import RowReader
    policy = registry.get(DUL, "2019")
    columns = sorted(set(policy.dictionary.closure(set(policy.needed_inputs))) | set(COLUMNS))
    rows = [[cell(p.get(c, _default(registry, c))) for c in columns] for p in people]
    rows += [data.draw(st.sampled_from(rows)) for _ in range(10)]  # repeated cells: read from memory
    needed = set(policy.needed_inputs)
    shared = RowReader(policy.dictionary, columns, needed, AS_OF, "p.csv")
    for line, row in enumerate(rows, 2):
        fresh = RowReader(policy.dictionary, columns, needed, AS_OF, "p.csv")
        try:
            expected = fresh.env(row, line)
        except sim.PopulationError as exc:
            with pytest.raises(sim.PopulationError) as again:
                shared.env(row, line)
            assert str(again.value) == str(exc)
            continue
        assert shared.env(row, line) == expected


def test_a_bad_cell_seen_twice_is_reported_twice_with_its_own_line(registry):
    from engine.avviso.population import RowReader
    dul = registry.get(DUL, "2013")
    columns = sorted(set(dul.dictionary.closure(set(dul.needed_inputs))) | set(COLUMNS))
    person = {c: _default(registry, c) for c in columns}
    person.update(birth_date="1980-13-01", employment_status="unemployed", unemployed_since="2013-01-10",
                  residence_region="lombardia", domicile_region="lombardia")
    reader = RowReader(dul.dictionary, columns, set(dul.needed_inputs), AS_OF, "p.csv")
    row = [cell(person[c]) for c in columns]
    for line in (7, 9):
        with pytest.raises(sim.PopulationError, match=f"p.csv:{line}: colonna 'birth_date'") as bad:
            reader.env(row, line)
        assert "1980-13-01" not in str(bad.value)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(persons, min_size=1, max_size=30), st.booleans())
def test_columns_of_a_chunk_are_the_rows_read_one_by_one(registry, people, spoil):
    from engine.avviso.population import RowReader
    policy = registry.get(DUL, "2019")
    columns = sorted(set(policy.dictionary.closure(set(policy.needed_inputs))) | set(COLUMNS))
    records = [(line, [cell(p.get(c, _default(registry, c))) for c in columns]) for line, p in enumerate(people, 2)]
    if spoil:  # one bad date anywhere: no columns, the caller reads row by row and reports it
        records[-1][1][columns.index("birth_date")] = "1980-02-30"
    needed = set(policy.needed_inputs)
    fresh = RowReader(policy.dictionary, columns, needed, AS_OF, "p.csv")
    got = RowReader(policy.dictionary, columns, needed, AS_OF, "p.csv").columns(records)
    envs = []
    for line, row in records:
        try:
            envs.append(fresh.env(row, line))
        except sim.PopulationError:
            envs.append(None)
    if None in envs:
        assert got is None
        return
    assert got is not None
    for i, env in enumerate(envs):
        assert {name: values[i] for name, values in got.items()} | fresh.constant == env


def test_a_short_record_or_an_empty_line_among_good_ones_reads_as_row_by_row(tmp_path, registry):
    dul = registry.get(DUL, "2013")
    columns = sorted(set(dul.dictionary.closure(set(dul.needed_inputs))) | set(COLUMNS))
    person = {c: _default(registry, c) for c in columns}
    person.update(birth_date="1980-05-01", employment_status="unemployed", unemployed_since="2013-01-10",
                  residence_region="lombardia", domicile_region="lombardia")
    good = ",".join(cell(person[c]) for c in columns)
    path = tmp_path / "p.csv"
    path.write_text(",".join(columns) + "\n" + "\n".join([good] * 3 + [""] + [good] * 3) + "\n")
    assert sim.run([dul], path, AS_OF, workers=1).people == 6  # the empty line 5 is skipped
    path.write_text(",".join(columns) + "\n" + "\n".join([good] * 3 + [good.rsplit(",", 1)[0]] + [good]) + "\n")
    with pytest.raises(sim.PopulationError, match=rf"p.csv:5: attese {len(columns)} celle, trovate {len(columns) - 1}"):
        sim.run([dul], path, AS_OF, workers=1)
