"""engine._accel (C) gives exactly what its Python reference gives, on every shipped edition.

``read_facts`` against ``FactReader._facts`` (the typed and derived facts, or None: "ask the fact
dictionary"), and ``body`` against ``DurableBackend._python_body``: the same dict with the same keys
in the same order and values of the same types, the same text, or the same exception type, on
random valid subjects and on hostile ones (wrong types, bool for int, int and str subclasses, huge
ints, NaN, lists and dicts, null where not allowed, missing or unknown facts, dates out of range or
malformed, keys that are str subclasses).
"""
from __future__ import annotations

import datetime as dt
import math
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine import _accel
from engine.decide.durable import DurableBackend, _Pieces
from engine.decide.evaluate import prepare_facts
from engine.errors import InputErrors
from engine.policy import reader as reader_module
from engine.policy.reader import FactReader, _Choices, _Derived

from ..conftest import POLICIES
from ..decide.test_columns import damaged
from ..strategies import AS_OF

EDITIONS = sorted(f"{path.parent.parent.name}/{path.parent.name}@{path.stem}" for path in POLICIES.glob("*/*/*.yaml")
                  if not path.name.endswith(".tests.yaml"))
AS_OFS = st.sampled_from([AS_OF, dt.date(2016, 2, 29), dt.date(2013, 12, 31), dt.date(2021, 6, 30),
                          dt.date(1950, 1, 1), dt.date(2199, 12, 31)])
_FIT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class _Str(str):
    """Equal to an allowed text, yet not exactly a str."""


class _Int(int):
    """Equal to a whole number, yet not exactly an int."""


class _Key(str):
    """A fact name as a str subclass (the C reader counts exact str keys and looks these up)."""


class _Loud(str):
    """A fact name that equals nothing, not even the name (its own hash and equality): an unknown fact."""

    def __hash__(self):
        return 7

    def __eq__(self, other):
        return False


class _Twin(str):
    """Equal to its text as an exact str only: two twins of one name are two keys of one dict."""

    def __eq__(self, other):
        return type(other) is str and str.__eq__(self, other)

    __hash__ = str.__hash__


_DATE_TEXTS = ["1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "2014-03-01", "2016-02-29", "2015-02-29",
               "2014-3-1", " 2014-03-01", "２０１４-03-01", "2014-02-30", "20140301", "2014-W10-1", "0000-01-01",
               "9999-12-31", "2014-03-01T00:00", ""]
HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 200), st.integers(), st.just(10 ** 40), st.just(-(10 ** 40)),
    st.floats(allow_nan=True, allow_infinity=True), st.just(math.nan), st.text(max_size=12),
    st.sampled_from(_DATE_TEXTS), st.binary(max_size=3), st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1), st.tuples(), st.dates(),
    st.decimals(allow_nan=True), st.integers(0, 100).map(_Int), st.sampled_from(_DATE_TEXTS).map(_Str),
    st.builds(dt.datetime, st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 28)),
)


def _good(fact):
    """Values the fact's reading accepts."""
    kind = fact.type.kind
    if kind == "enum":
        return st.sampled_from(sorted(fact.type.values))
    if kind in ("bool", "boolean"):
        return st.booleans()
    if kind == "int":
        low = 0 if fact.minimum is None else int(fact.minimum)
        return st.integers(low, low + 100 if fact.maximum is None else int(fact.maximum))
    if kind == "date":
        return st.dates(dt.date(1940, 1, 1), dt.date(2013, 12, 31)).map(str)
    if kind == "decimal":
        low = 0 if fact.minimum is None else int(fact.minimum)
        high = low + 100 if fact.maximum is None else int(fact.maximum)
        return st.one_of(st.decimals(low, high, places=2, allow_nan=False), st.integers(low, high))
    if kind == "list":
        return st.lists(st.sampled_from(sorted(fact.type.item.values)), max_size=len(fact.type.item.values), unique=True)
    return HOSTILE


def _near(fact):
    """Near misses and edges: bounds +-2, subclasses of good values, dates at and past the limits, formats."""
    kind = fact.type.kind
    if kind == "enum":
        return st.one_of(st.sampled_from(sorted(fact.type.values)).map(_Str), st.sampled_from(["Lombardia", "03", "F "]))
    if kind == "int":
        low = -50 if fact.minimum is None else int(fact.minimum) - 2
        high = low + 300 if fact.maximum is None else int(fact.maximum) + 2
        return st.one_of(st.integers(low, high), st.integers(low, high).map(_Int), st.booleans())
    if kind == "date":
        return st.one_of(st.dates(dt.date(1890, 1, 1), dt.date(2210, 12, 31)).map(str), st.sampled_from(_DATE_TEXTS),
                         st.dates(dt.date(1940, 1, 1), dt.date(2013, 12, 31)))
    if kind == "decimal":
        return st.one_of(st.sampled_from(["1,5", "0.25", "12", "1.234,5", "-0", "1e3", "NaN"]), st.floats(-5, 200),
                         st.decimals(-5, 2000, allow_nan=True))
    if kind == "list":
        return st.lists(st.sampled_from(sorted(fact.type.item.values) + ["x", None]), max_size=6)
    return HOSTILE


@st.composite
def subjects(draw, reader: FactReader):
    """A subject of the reader's edition: clean, one fact damaged, or many; facts in any order."""
    facts = reader.dictionary.facts
    mode = draw(st.sampled_from(["clean"] * 6 + ["one", "one", "many"]))
    near = draw(st.integers(0, 1))  # clean or with some near misses
    names = draw(st.permutations(sorted(reader.checks)))
    raw = {}
    for name in names:
        fact = facts[name]
        if name not in reader.required and draw(st.integers(0, 2)) == 0:
            continue  # an optional fact left out
        value = draw(_near(fact) if near and draw(st.integers(0, 5)) == 0 else _good(fact))
        if fact.nullable and draw(st.integers(0, 5)) == 0:
            value = None
        if mode == "many" and draw(st.integers(0, 3)) == 0:
            value = draw(HOSTILE)
        raw[name] = value
    if mode == "one" and raw:
        damage = draw(st.sampled_from(["value", "drop", "extra", "key", "loud"]))
        name = draw(st.sampled_from(sorted(raw)))
        if damage == "value":
            raw[name] = draw(HOSTILE)
        elif damage == "drop":
            del raw[name]
        elif damage == "extra":
            computed = sorted(n for n, f in facts.items() if f.computed) or ["age"]
            raw[draw(st.one_of(st.text(max_size=6), st.sampled_from(computed), st.just(1), st.just(None)))] = \
                draw(HOSTILE)
        else:  # the same fact under a key that is a str subclass, at the same place or the end
            value = raw.pop(name)
            raw[(_Key if damage == "key" else _Loud)(name)] = value
    return raw


_READERS: dict = {}  # one reader per edition across examples: remembered dates and derived values in play


def _reader(registry, edition: str) -> FactReader:
    policy_id, version = edition.split("@")
    reader = _READERS.get(edition)
    if reader is None:
        policy = registry.get(policy_id, version)
        reader = _READERS[edition] = FactReader(policy.dictionary, policy.needed_inputs, policy.subject)
    return reader


def outcome(fn):
    try:
        return "ok", fn()
    except InputErrors as exc:
        return "errors", exc.problems
    except Exception as exc:  # noqa: BLE001 - the same exception type on both paths
        return "raised", type(exc)


def assert_same_facts(c, python):
    """The same answer: both None, or the same facts (values, key objects' types, order, value types)."""
    assert c[0] == python[0]
    if c[0] != "ok" or c[1] is None or python[1] is None:
        assert c == python
        return
    assert list(c[1].items()) == list(python[1].items())
    assert [type(k) for k in c[1]] == [type(k) for k in python[1]]
    assert [type(v) for v in c[1].values()] == [type(v) for v in python[1].values()]


def test_every_shipped_edition_is_covered(registry):
    assert EDITIONS == sorted(f"{p.id}@{p.version}" for p in registry.policies)


def test_the_tables_are_dicts_with_dicts_subscript():
    """_accel looks a present key up as a dict's; that is the table's own subscript only if it is dict's."""
    for table in (_Choices, _Derived, _Pieces):
        assert table.__getitem__ is dict.__getitem__ and issubclass(table, dict)


@pytest.mark.parametrize("edition", EDITIONS)
@_FIT
@given(data=st.data(), as_of=AS_OFS, c_first=st.booleans())
def test_the_c_reader_reads_as_the_python_reader(registry, edition, data, as_of, c_first):
    reader = _reader(registry, edition)
    raw = data.draw(subjects(reader), label="raw")
    before = list(raw.items())
    c_read = lambda: _accel.read_facts(raw, as_of, reader._at, reader._reading)  # noqa: E731
    python_read = lambda: reader._facts(raw, as_of)  # noqa: E731
    if c_first:  # the first read may remember a date or a derived value the second one finds
        c, python = outcome(c_read), outcome(python_read)
    else:
        python, c = outcome(python_read), outcome(c_read)
    assert_same_facts(c, python)
    assert list(raw.items()) == before  # raw is read, never changed


@pytest.mark.parametrize("raw", [None, [], "x", (), {"gender": "F"}.items(), type("Facts", (dict,), {})(gender="F")])
def test_only_a_dict_is_read(dul, raw):
    reader = FactReader(dul.dictionary, dul.needed_inputs, dul.subject)
    assert _accel.read_facts(raw, AS_OF, reader._at, reader._reading) is None
    assert reader._facts(raw, AS_OF) is None


def test_two_keys_for_one_fact_are_judged_as_in_python(dul):
    """Two twin keys for one fact, with or without another required fact: the answer ``_fast`` gives.

    ``frozenset.issubset(dict)`` counts such keys differently on 3.11 (a missing fact stays missing)
    and on 3.12 (the size of an intersection: the twins make up for it); the C reader asks issubset
    itself whenever a key is not an exact str, and counts only exact str keys.
    """
    reader = FactReader(dul.dictionary, dul.needed_inputs, dul.subject)
    raw = {"birth_date": "1987-08-07", "gender": "M", "residence_region": "lombardia", "domicile_region": "lombardia",
           "workplace_region": "lombardia", "employment_status": "unemployed", "unemployed_since": "2013-10-22",
           "education_level": "upper_secondary", "income_support": "cig", "solidarity_agreement": False,
           "last_cigd_period": False}
    assert {"gender", "income_support"} <= reader.required
    answers = []
    for missing in (None, "income_support", "education_level"):
        twins = dict(raw)
        twins.pop("gender")
        twins[_Twin("gender")] = "M"
        twins[_Twin("gender")] = "F"
        if missing:
            del twins[missing]
        python = reader._facts(twins, AS_OF)
        assert_same_facts(("ok", _accel.read_facts(twins, AS_OF, reader._at, reader._reading)), ("ok", python))
        answers.append(python is not None)
    assert answers[0]  # both twins and every required fact: read on every version


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged(), as_of=AS_OFS)
def test_read_gives_the_same_with_and_without_the_extension(dul, raw, as_of):
    """Through ``read``: the typed facts, or the fact dictionary's very problems."""
    reader = _READERS.setdefault("dul-read", FactReader(dul.dictionary, dul.needed_inputs, dul.subject))
    with_c = outcome(lambda: reader.read(raw, as_of, ("person",)))
    with mock.patch.object(reader_module, "_read_facts", None):
        without = outcome(lambda: reader.read(raw, as_of, ("person",)))
    assert_same_facts(with_c, without)


class _Forgetful(dict):
    """An env whose ``get`` finds nothing: the body reads facts through ``get``, as _python_body does."""

    def get(self, key, default=None):
        return default


@pytest.mark.parametrize("edition", EDITIONS)
@_FIT
@given(data=st.data(), stage=st.sampled_from([1, 2]),
       points=st.one_of(st.none(), st.integers(-5, 120), st.just(10 ** 12), HOSTILE))
def test_the_c_body_writes_what_the_python_body_writes(registry, edition, data, stage, points):
    policy_id, version = edition.split("@")
    policy = registry.get(policy_id, version)
    backend = DurableBackend.for_policy(policy)
    reader = _reader(registry, edition)
    raw = data.draw(subjects(reader), label="raw")
    env = outcome(lambda: prepare_facts(policy, raw, AS_OF))[1]
    if not isinstance(env, dict) or data.draw(st.integers(0, 3), label="hostile env") == 0:
        names = sorted({name for name, _ in backend.fields[stage]} | {"points"})
        env = data.draw(st.dictionaries(st.sampled_from(names), HOSTILE), label="env")
    if data.draw(st.integers(0, 9), label="forgetful") == 0:
        env = _Forgetful(env)
    c = outcome(lambda: backend._body(stage, env, points))
    python = outcome(lambda: backend._python_body(stage, env, points))
    assert c == python
    if c[0] == "ok":
        assert type(c[1]) is str


def test_the_body_of_a_decision_is_its_json(dul):
    """One known text, so that both bodies cannot drift together."""
    backend = DurableBackend.for_policy(dul)
    env = prepare_facts(dul, {"birth_date": "1987-08-07", "gender": "M", "residence_region": "lombardia",
                              "domicile_region": "lombardia", "workplace_region": "lombardia",
                              "employment_status": "unemployed", "unemployed_since": "2013-10-22",
                              "education_level": "upper_secondary", "income_support": "cig",
                              "solidarity_agreement": False, "last_cigd_period": False}, AS_OF)
    assert backend._body(1, env, None) == (
        '","id":"f","_stage":1,"age":26000000,"domicile_region":"lombardia","education_level":"upper_secondary",'
        '"employment_status":"unemployed","gender":"M","income_support":"cig","last_cigd_period":false,'
        '"residence_region":"lombardia","solidarity_agreement":false,"unemployment_months":4000000,'
        '"workplace_region":"lombardia"}')
    assert backend._body(2, env, 7) == '","id":"f","_stage":2,"last_cigd_period":false,"solidarity_agreement":false,"points":7000000}'
    assert type(env["age"]) is int and env["birth_date"] == dt.date(1987, 8, 7)
