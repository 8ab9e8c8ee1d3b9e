"""The compiled fact reader gives exactly the fact dictionary's values, or its very problems."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from engine.errors import InputErrors
from engine.policy.reader import FactReader

from ..decide.test_columns import damaged
from ..strategies import AS_OF


def outcome(fn):
    try:
        return "ok", fn()
    except InputErrors as exc:
        return "errors", exc.problems


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged(), as_of=st.sampled_from([AS_OF, dt.date(2016, 2, 29), dt.date(2013, 12, 31)]))
def test_reader_agrees_with_the_dictionary(dul, raw, as_of):
    reader = FactReader(dul.dictionary, dul.needed_inputs, dul.subject)
    fast = outcome(lambda: reader.read(raw, as_of, ("person",)))
    slow = outcome(lambda: dul.dictionary.prepare(raw, set(dul.needed_inputs), as_of, dul.subject, ("person",)))
    if fast[0] == "ok" and slow[0] == "ok":  # computed facts the edition does not read are left out
        facts = dul.dictionary.facts
        slow = ("ok", {k: v for k, v in slow[1].items() if not facts[k].computed or k in dul.needed_inputs})
    assert fast == slow
    if fast[0] == "ok":
        assert list(fast[1]) == list(slow[1])  # same facts in the same order (the explanation lists them)


def test_reader_rejects_what_the_dictionary_rejects(dul):
    reader = FactReader(dul.dictionary, dul.needed_inputs, dul.subject)
    for raw in (None, [], "x", {}):
        assert outcome(lambda: reader.read(raw, AS_OF, ("person",)))[0] == "errors"


class _Text(str):
    """A str subclass: equal to a remembered date text, yet not read as exactly one."""


_EDGE_DATES = st.sampled_from(["1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "2014-03-01", "2014-03-02",
                               "2016-02-29", "2015-02-29", "1980-02-29", "2014-3-1", " 2014-03-01", "２０１４-03-01",
                               None, 20140301, _Text("1980-02-29"), _Text("2013-01-31")])
_SHARED: dict = {}  # one reader across examples: its remembered dates and derived values are in play


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged(), dates=st.fixed_dictionaries({}, optional={"birth_date": _EDGE_DATES,
                                                               "unemployed_since": _EDGE_DATES}),
       as_of=st.sampled_from([AS_OF, dt.date(2016, 2, 29), dt.date(2013, 12, 31), dt.date(2199, 12, 31)]))
def test_a_reader_with_remembered_dates_agrees_with_the_dictionary(dul, raw, dates, as_of):
    """Dates read once are looked up the next time, derived values per evaluation date: same answers."""
    reader = _SHARED.setdefault("reader", FactReader(dul.dictionary, dul.needed_inputs, dul.subject))
    raw = {**raw, **dates}
    slow = outcome(lambda: dul.dictionary.prepare(raw, set(dul.needed_inputs), as_of, dul.subject, ("person",)))
    if slow[0] == "ok":
        facts = dul.dictionary.facts
        slow = ("ok", {k: v for k, v in slow[1].items() if not facts[k].computed or k in dul.needed_inputs})
    for _ in range(2):  # the second read finds what the first remembered
        fast = outcome(lambda: reader.read(raw, as_of, ("person",)))
        assert fast == slow
        if fast[0] == "ok":
            assert list(fast[1]) == list(slow[1])
            assert [type(v) for v in fast[1].values()] == [type(v) for v in slow[1].values()]
