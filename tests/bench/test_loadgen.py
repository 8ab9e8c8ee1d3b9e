"""The open-loop load generator: its schedule and percentile arithmetic, and that a server stall is
charged to every request due during it (no coordinated omission). Bounds are causal (an answer
cannot come before the stall ends), not timings."""
from __future__ import annotations

import asyncio
import math
import time

import pytest
from hypothesis import given, strategies as st

from bench import loadgen


def test_nearest_rank_percentiles_of_one_to_a_thousand():
    values = [float(v) for v in range(1, 1001)]
    assert loadgen.percentile(values, .50) == 500
    assert loadgen.percentile(values, .99) == 990
    assert loadgen.percentile(values, .999) == 999
    assert loadgen.percentile(values, 1.0) == 1000
    assert loadgen.percentile([7.0], .999) == 7
    assert math.isnan(loadgen.percentile([], .5))


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=300), st.sampled_from([.5, .9, .99, .999]))
def test_percentile_is_the_smallest_value_covering_the_share(values, share):
    ordered = sorted(float(v) for v in values)
    got = loadgen.percentile(ordered, share)
    assert got in ordered
    assert sum(v <= got for v in ordered) >= share * len(ordered) - 1e-9
    assert sum(v < got for v in ordered) < share * len(ordered) - 1e-9 or got == ordered[0]


@given(st.floats(1, 5_000), st.floats(0.01, 30))
def test_schedule_covers_exactly_the_run(rate, seconds):
    n = loadgen.due_count(rate, seconds)
    began = 1000.0
    if n:
        assert loadgen.scheduled_time(began, rate, n - 1) < began + seconds + 1e-6
    assert loadgen.scheduled_time(began, rate, n) >= began + seconds - 1e-6
    # evenly spaced, not drifting: the k-th due time comes from k, not from adding up intervals
    assert loadgen.scheduled_time(began, rate, 10_000) - began == pytest.approx(10_000 / rate, rel=1e-9)


def test_due_count_of_round_figures():
    assert loadgen.due_count(100, 1.0) == 100
    assert loadgen.due_count(250, 2.0) == 500
    assert loadgen.due_count(3, 0.5) == 2  # due at 0 and 1/3 s


class StallingServer:
    """Answers every request at once, except that the ``stall_at``-th request freezes the server
    for ``stall`` seconds: nothing is answered until the stall ends."""

    def __init__(self, stall_at: int, stall: float):
        self.stall_at, self.stall = stall_at, stall
        self.seen = 0
        self.window = None  # (start, end) in time.perf_counter

    async def handle(self, reader, writer):
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.seen += 1
                if self.seen == self.stall_at:
                    start = time.perf_counter()
                    self.window = (start, start + self.stall)
                if self.window and time.perf_counter() < self.window[1]:
                    await asyncio.sleep(self.window[1] - time.perf_counter())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def run_open_loop(rate: float, seconds: float, stall_at: int, stall: float, **spec):
    server = StallingServer(stall_at, stall)

    async def main():
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        count = loadgen.due_count(rate, seconds)
        state = loadgen._State({"requests": [f"GET /{k} HTTP/1.1\r\nHost: x\r\n\r\n" for k in range(count)],
                                "rate": rate, "max_requests": 10 ** 6, "connections": 2, **spec})
        await loadgen._open_loop("127.0.0.1", port, state, seconds)
        listener.close()
        await listener.wait_closed()
        return state
    return asyncio.run(main()), server


def assert_stall_charged(state, server, rate):
    start, end = server.window
    due = {k: loadgen.scheduled_time(state.began, rate, k) for k, _ in state.timeline}
    latency = dict(state.timeline)
    during = [k for k in latency if start <= due[k] < end]
    assert len(during) >= 0.5 * (end - start) * rate  # the stall really spanned many due times
    for k in during:
        # no answer can arrive before the stall ends: from its due time, the request waited at least that long
        assert latency[k] >= end - due[k] - 1e-3, (k, latency[k], end - due[k])
    return during


def test_a_stall_is_charged_to_every_request_due_during_it():
    rate, stall = 200.0, 0.3
    state, server = run_open_loop(rate, 1.0, stall_at=40, stall=stall)
    assert len(state.latencies) == loadgen.due_count(rate, 1.0) and state.errors == 0
    during = assert_stall_charged(state, server, rate)
    # the generator opened connections rather than wait for the stalled ones: it starts with 2, and a
    # generator that waited would never hold more (how many more depends on how fast this machine sends,
    # which is timing, not cause: a CI run on a loaded machine opened 26 for 60 requests due)
    assert state.most > 2
    # spread over the stall: about half the requests due during it waited at least half of it
    waited_half = sum(1 for _, lat in state.timeline if lat >= stall / 2 - 1e-3)
    assert waited_half >= len([k for k in during
                               if loadgen.scheduled_time(state.began, rate, k) < server.window[1] - stall / 2])
    ordered = sorted(state.latencies)
    assert loadgen.percentile(ordered, .999) >= stall * 0.9


def test_with_few_connections_the_wait_for_one_still_counts():
    # two connections only, both held by the stall: requests due meanwhile are sent late, and their
    # latency still runs from their due time (a closed-loop measure would see them as fast)
    rate = 200.0
    state, server = run_open_loop(rate, 1.0, stall_at=40, stall=0.3, max_connections=2)
    assert state.most <= 2
    assert state.late >= 0.2  # sent long after they were due...
    assert_stall_charged(state, server, rate)  # ...and charged for it
