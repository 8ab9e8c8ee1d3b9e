"""The hypothesis profile of conftest.py reaches every test, also those with their own @settings."""
import os

from hypothesis import HealthCheck, given, settings, strategies as st

EXPLORE = os.environ.get("ALMP_HYPOTHESIS", "").strip().lower() == "explore"


@settings(max_examples=7, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers())
def _own_settings(_n):
    pass


def test_own_settings_override_only_the_fields_they_name():
    own = _own_settings._hypothesis_internal_use_settings
    assert (own.max_examples, own.deadline) == (7, None)
    assert own.print_blob is True
    if EXPLORE:
        assert own.derandomize is False
    else:
        assert own.derandomize is True and own.database is None


def test_the_default_is_the_same_examples_on_every_run_and_explore_draws_more():
    if EXPLORE:
        assert settings.default.derandomize is False and settings.default.max_examples > 100
    else:
        assert settings.default.derandomize is True and settings.default.database is None
        assert settings.default.max_examples == 100
    assert settings.default.print_blob is True
    # a runaway example fails, a loaded 2-core machine does not
    assert 0.5 <= settings.default.deadline.total_seconds() <= 5


def test_same_draws_twice_unless_exploring():
    seen: list[list[int]] = []

    for _ in range(2):
        run: list[int] = []

        @settings(max_examples=20)
        @given(st.integers())
        def draw(n):
            run.append(n)

        draw()
        seen.append(run)
    assert (seen[0] == seen[1]) is not EXPLORE
