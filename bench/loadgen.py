"""HTTP load generator for the benchmarks: closed loop, or open loop at a fixed arrival rate.

    python -m bench.loadgen SPEC.json      (prints one JSON object; run by bench.compare)

Runs in its own process (asyncio on raw sockets, keep-alive connections), bounded in requests
and time. ``mode``:

- ``closed``: each of K connections sends its next request as soon as the previous answer
  arrives; throughput is the server's peak, latency is per request.
- ``open``: requests are *scheduled* at ``rate`` per second from the start, whatever the
  server does; a request's latency runs from its scheduled time, not from when a connection
  got free to send it, so a stalled server is charged for every request that waited
  (no coordinated omission, as wrk2 measures). Requests are spread over K connections.

Answers (status and body) are kept, up to ``keep`` of them, so the caller can check every one.
"""
from __future__ import annotations

import asyncio
import json
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


async def _connection(host, port, state: _State, deadline):
    spec = state.spec
    reader, writer = await asyncio.open_connection(host, port)
    rate = spec.get("rate")
    try:
        while True:
            k = state.next
            if k >= spec["max_requests"]:
                break
            state.next += 1
            if rate:
                scheduled = state.began + k / rate
                if scheduled >= deadline:
                    break
                wait = scheduled - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            elif time.perf_counter() >= deadline:
                break
            else:
                scheduled = time.perf_counter()
            index = k % len(state.requests)
            writer.write(state.requests[index])
            status, body, close = await _read_answer(reader)
            state.latencies.append(time.perf_counter() - scheduled)
            state.status[status] = state.status.get(status, 0) + 1
            if len(state.answers) < spec.get("keep", 0):
                state.answers.append((index, status, body.decode("utf-8", "replace")))
            if close:
                break
    finally:
        writer.close()


async def _load(spec: dict) -> dict:
    state = _State(spec)
    state.began = time.perf_counter()
    deadline = state.began + spec["seconds"]
    tasks = [asyncio.create_task(_connection(spec["host"], spec["port"], state, deadline))
             for _ in range(spec["connections"])]
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            state.errors += 1
    elapsed = time.perf_counter() - state.began
    lat = sorted(state.latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")
    return {"requests": len(lat), "elapsed": elapsed, "rate": len(lat) / elapsed if elapsed else 0.0,
            "p50": pct(.50), "p99": pct(.99), "p999": pct(.999), "max": lat[-1] * 1000 if lat else None,
            "status": state.status, "connection_errors": state.errors, "answers": state.answers}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_load(spec))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
