"""An open-model HTTP load generator (constant arrival rate, as wrk2 does), run as its own process.

Requests are sent on a fixed schedule whatever the server's pace: request i leaves at
start + i / rate, on a connection of its own (the production gunicorn's sync workers close each
connection after one answer), and its latency counts from the moment it was due, not from when
it left, so a server that falls behind is charged for the wait it causes (no coordinated
omission). Plain asyncio streams, not an HTTP library, so the generator stays cheap next to the
server it drives on the same machine.

Input (stdin, JSON): {"port", "rate", "duration", "requests": [{"method", "path", "headers",
"body"}], "clients": 0, "timeout": 10}; or "connections": N instead of "rate" for a closed loop (N
connections, each sending its next request when the last is answered: a capacity estimate).
Requests are taken in turn; "{n}" in a path or body is the request's number, "{run}" in a body this
run's random mark. With "clients" > 0, request i belongs to client i % clients, which keeps the
ETag of its last 200 and sends it as If-None-Match (the web app's polling, see
`frontend/src/lib/queries/tasks.ts`); with "warm": true each client first loads the page once,
unmeasured (the page load that gives it its first ETag), so that the run measures the polling. At
most "max_in_flight" (64) requests are open at once; a
request due beyond that is not sent but counted as an error ("overload"), so a rate far above the
server's leaves no long backlog behind for the next measurement. Output (stdout, one JSON line):
offered and achieved rate, completed, errors (a status >= 400, a timeout or a refused connection),
statuses, p50/p90/p99 and max latency in ms."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from typing import Any

RUN = uuid.uuid4().hex[:8]


def _request_bytes(spec: dict[str, Any], number: int, etag: str | None) -> bytes:
    body = str(spec.get("body") or "").replace("{n}", str(number)).replace("{run}", RUN).encode()
    path = str(spec["path"]).replace("{n}", str(number))
    lines = [f"{spec.get('method', 'GET')} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (spec.get("headers") or {}).items()]
    if etag is not None:
        lines.append(f"If-None-Match: {etag}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _parse(raw: bytes) -> tuple[int, str | None]:
    """The status and the ETag header of a raw HTTP response."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    etag = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "etag":
            etag = value.strip()
    return status, etag


async def _one(port: int, payload: bytes, timeout: float) -> tuple[int, str | None]:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(payload)
            await writer.drain()
            return await reader.read(-1)
        finally:
            writer.close()

    raw = await asyncio.wait_for(exchange(), timeout)
    return _parse(raw)


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    port = int(plan["port"])
    rate = float(plan.get("rate", 1))
    duration = float(plan["duration"])
    timeout = float(plan.get("timeout", 10))
    specs: list[dict[str, Any]] = plan["requests"]
    clients = int(plan.get("clients", 0))
    etags: dict[int, str] = {}
    total = max(1, int(rate * duration))
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    pending: set[asyncio.Task[None]] = set()

    max_in_flight = int(plan.get("max_in_flight", 64))

    async def send(number: int, due: float) -> None:
        if len(pending) > max_in_flight:  # the server is this far behind: count, do not pile on
            statuses["overload"] += 1
            return
        client = number % clients if clients else None
        etag = etags.get(client) if client is not None else None
        payload = _request_bytes(specs[number % len(specs)], number, etag)
        try:
            status, new_etag = await _one(port, payload, timeout)
        except (TimeoutError, OSError, ValueError, IndexError):
            statuses["error"] += 1
            return
        latencies.append(loop.time() - due)
        statuses[str(status)] += 1
        if client is not None and status == 200 and new_etag:
            etags[client] = new_etag

    if clients and plan.get("warm"):  # each client's page load, before the schedule starts
        gate = asyncio.Semaphore(8)

        async def warm(client: int) -> None:
            async with gate:
                payload = _request_bytes(specs[client % len(specs)], client, None)
                status, etag = await _one(port, payload, timeout)
                if status == 200 and etag:
                    etags[client] = etag

        await asyncio.gather(*(warm(client) for client in range(clients)))
        start = loop.time() + 0.05

    if plan.get("connections"):  # closed loop: each connection sends its next request at once
        deadline = start + duration
        counter = iter(range(10**9))

        async def connection_loop() -> None:
            while loop.time() < deadline:
                await send(next(counter), loop.time())

        await asyncio.sleep(max(0.0, start - loop.time()))
        await asyncio.gather(*(connection_loop() for _ in range(int(plan["connections"]))))
        total = next(counter)
        rate = total / duration
    sent = total if plan.get("connections") else 0
    while sent < total:
        now = loop.time()
        while sent < total and start + sent / rate <= now:
            task = asyncio.create_task(send(sent, start + sent / rate))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        if sent < total:
            await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))
    sending_ended = loop.time()
    if pending:
        await asyncio.wait(pending)
    elapsed = max(sending_ended, loop.time()) - start
    latencies.sort()

    def percentile(share: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))], 2)

    errors = (
        statuses["error"]
        + statuses["overload"]
        + sum(n for s, n in statuses.items() if s.isdigit() and int(s) >= 400)
    )
    return {
        "offered_rps": rate,
        "achieved_rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "requests": total,
        "completed": len(latencies),
        "errors": errors,
        "statuses": dict(statuses),
        "p50_ms": percentile(0.50),
        "p90_ms": percentile(0.90),
        "p99_ms": percentile(0.99),
        "max_ms": round(1000 * latencies[-1], 2) if latencies else None,
    }


def main() -> None:
    plan = json.load(sys.stdin)
    started = time.monotonic()
    result = asyncio.run(run(plan))
    result["wall_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
