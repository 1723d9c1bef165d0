"""An open-loop HTTP load generator: requests start on a fixed schedule, whatever the server does.

    ../.venv/bin/python openloop.py --base http://127.0.0.1:8000 --paths paths.txt --rate 200 --duration 60

Request i is due at start + i / rate (evenly spaced: no bursts) and goes out on an idle keep-alive connection
(a new one when none is idle, up to --max-connections). Its latency is measured from the time it was *due* to
the last byte of its answer, so a server that falls behind is charged for the wait it causes (no "coordinated
omission": a closed-loop client, or one that sends in bursts once a second, reports less, or more, than a
rider would see). Plain HTTP/1.1 over asyncio streams: about 0.1 ms of this process's CPU per request, so the
generator itself stays small beside the server on a 2-core machine.

`run(...)` returns the records [(kind, status, latency_ms, due_s)]; `summary(records)` the table row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np


@dataclass
class Request:
    method: str
    path: str
    kind: str = "get"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.closed = False

    async def send(self, host: str, req: Request) -> tuple[int, bytes, dict[str, str]]:
        lines = [f"{req.method} {req.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in req.headers]
        if req.body or req.method == "POST":
            lines.append(f"Content-Length: {len(req.body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + req.body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        cookies = []
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            k, _, v = line.decode("latin-1").partition(":")
            k = k.strip().lower()
            if k == "set-cookie":
                cookies.append(v.strip())
            headers[k] = v.strip()
        if cookies:
            headers["set-cookie"] = "\n".join(cookies)
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            body = b"".join(parts)
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":  # a whole answer, on a connection not to reuse
            self.closed = True
            self.writer.close()
        return status, body, headers

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections to one host: an idle one is reused, else a new one is opened."""

    def __init__(self, base: str, max_connections: int = 256):
        u = urlsplit(base)
        self.host_header = u.netloc
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.idle: list[_Conn] = []
        self.open = 0
        self.max = max_connections
        self.freed = asyncio.Event()
        self.stale = 0  # kept-alive connections found closed by the server (the request went again)

    async def request(self, req: Request) -> tuple[int, bytes, dict[str, str]]:
        """Send on an idle connection, or a new one. A kept-alive connection the server has closed meanwhile
        (gunicorn closes one idle for --keep-alive seconds) fails before any answer: then the request goes
        again on a new connection, as browsers and HTTP libraries do; its time still counts from when it was due."""
        while not self.idle and self.open >= self.max:
            self.freed.clear()
            await self.freed.wait()
        reused = bool(self.idle)
        conn = self.idle.pop() if reused else await self._connect()
        try:
            out = await conn.send(self.host_header, req)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn.close()
            if not reused:
                self.open -= 1
                self.freed.set()
                raise
            self.stale += 1
            conn = await self._connect(count=False)  # in place of the closed one
            try:
                out = await conn.send(self.host_header, req)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                self.open -= 1
                self.freed.set()
                raise
        if conn.closed:
            self.open -= 1
        else:
            self.idle.append(conn)
        self.freed.set()
        return out

    async def _connect(self, count: bool = True) -> _Conn:
        if count:
            self.open += 1
        try:
            return _Conn(*await asyncio.open_connection(self.host, self.port))
        except OSError:
            self.open -= 1
            self.freed.set()
            raise

    def close(self) -> None:
        for c in self.idle:
            c.close()


#: after the last request is due, answers are awaited this long; what is still open then is given up and
#: recorded with status -1 (a server that collapsed must not hang the benchmark)
GRACE_S = 30.0


async def _run(base: str, make: Callable[[int], Request], rate: float, duration: float, max_conn: int):
    pool = Pool(base, max_conn)
    n = int(rate * duration)
    records: list[tuple[str, int, float, float]] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def one(i: int) -> None:
        due = start + i / rate
        req = make(i)
        try:
            status, _body, _h = await pool.request(req)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        except asyncio.CancelledError:
            records.append((req.kind, -1, (loop.time() - due) * 1e3, due - start))
            raise
        records.append((req.kind, status, (loop.time() - due) * 1e3, due - start))

    tasks = []
    for i in range(n):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i)))
    _done, pending = await asyncio.wait(tasks, timeout=GRACE_S)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    pool.close()
    return records


def run(base: str, make: Callable[[int], Request], *, rate: float, duration: float, max_connections: int = 256):
    """Send int(rate * duration) requests, request i made by make(i), due evenly spaced; the records."""
    return asyncio.run(_run(base, make, rate, duration, max_connections))


def paths_maker(paths: Sequence[str], seed: int = 1) -> Callable[[int], Request]:
    rng = np.random.default_rng(seed)
    order = rng.integers(0, len(paths), 10_000_000 // max(len(paths), 1) + len(paths))

    def kind(p: str) -> str:
        if "open_now" in p and "amenity" in p:
            return "open_now+amenity"
        return "open_now" if "open_now" in p else "amenity" if "amenity" in p else "plain"

    return lambda i: (lambda p: Request("GET", p, kind(p)))(paths[order[i % len(order)]])


def summary(records, seconds: float) -> dict:
    t = np.array([r[2] for r in records]) if records else np.zeros(0)
    status = np.array([r[1] for r in records]) if records else np.zeros(0, int)
    ok = (status >= 200) & (status < 400)
    due = np.array([r[3] for r in records]) if records else np.zeros(0)
    span = float(due.max() - due.min()) if len(due) > 1 else seconds
    gave_up = int((status < 0).sum())

    def q(x):
        return float(np.percentile(t, x)) if len(t) else float("nan")

    return {
        "rps": (len(records) - 1) / span if span > 0 else float("nan"),
        "n": len(records),
        "p50": q(50),
        "p90": q(90),
        "p99": q(99),
        "max": float(t.max()) if len(t) else float("nan"),
        "non2xx": int((~ok & (status > 0)).sum()),
        "errors": str(int((status == 0).sum())) + (f" + {gave_up} given up" if gave_up else ""),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--paths", required=True, help="a file of request paths, one a line")
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--max-connections", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1, help="the order the paths are taken in")
    ap.add_argument("--records", help="write every request's [kind, status, latency ms, due s] to this JSON file")
    a = ap.parse_args(argv)
    paths = [x for x in open(a.paths, encoding="utf-8").read().split() if x]
    t0 = time.perf_counter()
    rec = run(a.base, paths_maker(paths, a.seed), rate=a.rate, duration=a.duration, max_connections=a.max_connections)
    if a.records:
        with open(a.records, "w") as f:
            json.dump(rec, f)
    print(json.dumps(summary(rec, time.perf_counter() - t0)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
