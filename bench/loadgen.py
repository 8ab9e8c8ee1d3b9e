"""HTTP load generator for the benchmarks: closed loop, or open loop at a fixed arrival rate.

    python -m bench.loadgen SPEC.json      (prints one JSON object; run by bench.compare)

Runs in its own process (asyncio on raw sockets, keep-alive connections), bounded in requests
and time. ``mode``:

- ``closed``: each of K connections sends its next request as soon as the previous answer
  arrives; throughput is the server's peak, latency is per request.
- ``open``: requests are *scheduled* at ``rate`` per second from the start, whatever the
  server does; a request's latency runs from its scheduled time, not from when a connection
  got free to send it, so a stalled server is charged for every request that waited
  (no coordinated omission, as wrk2 measures). K keep-alive connections are opened before the
  clock starts; when none is free at a due time another is opened (up to ``max_connections``),
  so the generator never holds a request back for want of a connection. ``send_lag_ms`` is the
  largest delay between a due time and the actual sending (the generator's own lateness, which
  counts against the server: the measure errs on the pessimistic side).

Answers (status and body) are kept, up to ``keep`` of them, so the caller can check every one.
"""
from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from pathlib import Path


async def _read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, close, chunked = 0, False, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
        body = body[:-2]
    else:
        body = await reader.readexactly(length) if length else b""
    return status, body, close


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list: the smallest value with at least ``share`` of
    the values at or below it (as HdrHistogram and wrk2 report; no interpolation)."""
    if not ordered:
        return float("nan")
    rank = math.ceil(share * len(ordered) - 1e-9)  # 0.999 * 1000 is 999.0000000000001
    return ordered[min(len(ordered), max(rank, 1)) - 1]


def scheduled_time(began: float, rate: float, k: int) -> float:
    """When request ``k`` (0-based) is due at a constant arrival rate from ``began``."""
    return began + k / rate


def due_count(rate: float, seconds: float) -> int:
    """How many requests fall due in ``[0, seconds)`` at ``rate`` per second."""
    return max(0, math.ceil(rate * seconds - 1e-9))


def summary(latencies: list[float], elapsed: float) -> dict:
    lat = sorted(latencies)
    return {"requests": len(lat), "elapsed": elapsed, "rate": len(lat) / elapsed if elapsed else 0.0,
            "p50": percentile(lat, .50) * 1000, "p99": percentile(lat, .99) * 1000,
            "p999": percentile(lat, .999) * 1000, "max": lat[-1] * 1000 if lat else None}


class _State:
    def __init__(self, spec):
        self.spec = spec
        self.requests = [r.encode("latin-1") for r in spec["requests"]]
        self.next = 0
        self.latencies: list[float] = []
        self.status: dict[int, int] = {}
        self.answers: list = []
        self.errors = 0
        self.began = 0.0
        self.opened = 0       # connections opened (open loop grows them on demand)
        self.late = 0.0       # largest delay between a request's due time and its sending
        self.most = 0         # most connections open at once
        self.timeline: list = []  # (request number, latency), for tests

    def record(self, index: int, status: int, body: bytes, latency: float, k: int = -1) -> None:
        self.latencies.append(latency)
        self.timeline.append((k, latency))
        self.status[status] = self.status.get(status, 0) + 1
        if len(self.answers) < self.spec.get("keep", 0):
            self.answers.append((index, status, body.decode("utf-8", "replace")))


async def _connection(host, port, state: _State, deadline):
    """Closed loop: send the next request as soon as the previous answer is read."""
    spec = state.spec
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while state.next < spec["max_requests"] and time.perf_counter() < deadline:
            k = state.next
            state.next += 1
            index = k % len(state.requests)
            sent = time.perf_counter()
            writer.write(state.requests[index])
            status, body, close = await _read_answer(reader)
            state.record(index, status, body, time.perf_counter() - sent, k)
            if close:
                break
    finally:
        writer.close()


async def _open_loop(host, port, state: _State, seconds: float, clock=time.perf_counter) -> None:
    """Open loop: request k is due at ``began + k / rate`` whatever the server does, and its latency
    runs from that due time. A free keep-alive connection is reused; when none is free a new one is
    opened (up to ``max_connections``), so a slow answer never holds back the next request's
    sending: the generator is not what limits the arrival rate."""
    spec = state.spec
    rate = spec["rate"]
    limit = spec.get("max_connections", 2048)
    idle: list = []
    free = asyncio.Event()
    in_flight: set = set()
    total = min(spec["max_requests"], due_count(rate, seconds))
    for _ in range(spec.get("connections", 0)):  # opened before the clock starts
        idle.append(await asyncio.open_connection(host, port))
        state.opened += 1
    state.began = clock()

    async def one(k: int, due: float, conn) -> None:
        reader, writer = conn
        index = k % len(state.requests)
        try:
            state.late = max(state.late, clock() - due)
            writer.write(state.requests[index])
            status, body, close = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError):
            state.errors += 1
            writer.close()
            state.opened -= 1
            free.set()
            return
        state.record(index, status, body, clock() - due, k)
        if close:
            writer.close()
            state.opened -= 1
        else:
            idle.append(conn)
        free.set()

    for k in range(total):
        due = scheduled_time(state.began, rate, k)
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        while not idle and state.opened >= limit:
            free.clear()
            await free.wait()
        if idle:
            conn = idle.pop()
        else:
            state.opened += 1
            state.most = max(state.most, state.opened)
            try:
                conn = await asyncio.open_connection(host, port)
            except OSError:
                state.errors += 1
                state.opened -= 1
                continue
        task = asyncio.create_task(one(k, due, conn))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight, return_exceptions=True)
    for _, writer in idle:
        writer.close()


async def _load(spec: dict) -> dict:
    state = _State(spec)
    state.began = time.perf_counter()
    if spec.get("rate"):
        await _open_loop(spec["host"], spec["port"], state, spec["seconds"])
    else:
        deadline = state.began + spec["seconds"]
        tasks = [asyncio.create_task(_connection(spec["host"], spec["port"], state, deadline))
                 for _ in range(spec["connections"])]
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, BaseException):
                state.errors += 1
    elapsed = time.perf_counter() - state.began
    out = summary(state.latencies, elapsed)
    out.update(status=state.status, connection_errors=state.errors, answers=state.answers,
               send_lag_ms=state.late * 1000, offered=spec.get("rate"),
               connections=max(state.most, spec.get("connections", 0)))
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    text = json.dumps(asyncio.run(_load(spec)))
    if spec.get("output"):  # a file, not a pipe: megabytes of kept answers, whatever the reader's pace
        Path(spec["output"]).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
