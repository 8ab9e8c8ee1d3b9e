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
