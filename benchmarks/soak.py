"""Soak (issue 11, item 6): mixed load on the production set-up for minutes on end; errors, latency, memory.

    cd benchmarks && ../.venv/bin/python soak.py --minutes 10            # find the rate, then 10 minutes at it
    cd benchmarks && ../.venv/bin/python soak.py --minutes 10 --rate 150 # or at a given rate

Set-up as finder_load.py (a fresh PostgreSQL database, `xinye migrate`, `places import`, `demo`; gunicorn,
gthread 2 x 4, XINYE_DEBUG=0; rate limits ON, raised so that one load address is not refused), then:

- an Open311 key for the demo organizer (`xinye open311 key create`), the organizer signed in through the login
  form, and --trackers workers who each submitted a demand and entered its tracking code on the tracking form;
- the mix, open loop (benchmarks/openloop.py: evenly spaced, each request timed from when it was due):
  finder 70 % (GET /api/stations/nearest, the finder_load paths), organizer pages 10 % (home, demands queue,
  stations, organizations, members, people, community reports, one demand), tracking 15 % (GET
  /demands/tracked/ in a worker's session), demand intake 5 % (POST /open311/v2/requests.json with the key;
  a new demand each, with an Idempotency-Key);
- without --rate: 20-second steps at rising rates (--ramp) to the highest one whose p99 stays under --p99-ms
  with no error, then --minutes at that rate; every --sample seconds the resident memory of gunicorn's
  processes (master and workers, /proc/PID/status VmRSS), and the latency of that slice.

Prints a table per minute and the verdict: errors (non-2xx/3xx and failed connections), p99 of the whole run
and of each minute, and memory at the start, at the end and at most.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import finder_load  # noqa: E402
import openloop  # noqa: E402

ORGANIZER_PAGES = [
    "/",
    "/demands/",
    "/stations/",
    "/organizations/",
    "/members/",
    "/people/",
    "/community-reports/",
    "/demands/stats/",
]
#: the share of each kind: riders and drivers (finder, tracking, telling a demand) far outnumber the organizers
#: of a city; `--mix finder=0.55,organizer=0.25,...` changes it
MIX = [("finder", 0.70), ("organizer", 0.10), ("tracking", 0.15), ("intake", 0.05)]


class Client:
    """A tiny cookie-keeping client for the set-up steps (sign in, submit, enter a tracking code)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        c.close()
        return r.status, data, dict(r.getheaders())

    def csrf(self, path: str) -> str:
        _s, html, _h = self.request("GET", path)
        m = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not m:
            raise RuntimeError(f"no CSRF token on {path}")
        return m.group(1).decode()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def setup_sessions(b: finder_load.Bench, a) -> dict:
    env = b.env_for("this tree")
    out = subprocess.run(
        [str(finder_load.BIN / "xinye"), "open311", "key", "create", "--user", "organizer", "--name", "soak"],
        env=env,
        cwd=finder_load.ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    key = out[1].strip()
    org = Client(b.port)
    token = org.csrf("/accounts/login/")
    s, _d, h = org.request(
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": "organizer", "password": "xinye-demo-2026"},
        {"Referer": f"http://127.0.0.1:{b.port}/accounts/login/"},
    )
    if s != 302:
        raise RuntimeError(f"organizer sign-in answered {s}")
    services = json.loads(Client(b.port).request("GET", "/open311/v2/services.json")[1])
    code = services[0]["service_code"]
    trackers = []
    for i in range(a.trackers):
        w = Client(b.port)
        s, body, _h = w.request(
            "POST",
            "/open311/v2/requests.json",
            {"api_key": key, "service_code": code, "lat": "22.54", "long": "114.05", "description": f"soak {i}"},
        )
        if s not in (200, 201):
            raise RuntimeError(f"Open311 POST answered {s}: {body[:300]!r}")
        tracking = json.loads(body)[0]["tracking_code"]
        token = w.csrf("/demands/track/")
        s, _d, _h = w.request(
            "POST",
            "/demands/track/",
            {"csrfmiddlewaretoken": token, "code": tracking},
            {"Referer": f"http://127.0.0.1:{b.port}/demands/track/"},
        )
        if s != 302:
            raise RuntimeError(f"the tracking form answered {s}")
        trackers.append(w.cookie_header())
    _s, queue, _h = org.request("GET", "/demands/")
    demand = re.search(rb'href="(/demands/\d+/)"', queue)
    pages = ORGANIZER_PAGES + ([demand.group(1).decode()] if demand else [])
    return {"key": key, "code": code, "organizer": org.cookie_header(), "trackers": trackers, "pages": pages}


def maker(paths: list[str], s: dict, seed: int, port: int):
    rng = np.random.default_rng(seed)
    kinds = [k for k, _w in MIX]
    picks = rng.choice(len(kinds), size=2_000_000, p=[w for _k, w in MIX])
    host = f"127.0.0.1:{port}"

    def make(i: int) -> openloop.Request:
        kind = kinds[picks[i % len(picks)]]
        if kind == "finder":
            return openloop.Request("GET", paths[(i * 7919) % len(paths)], "finder")
        if kind == "organizer":
            page = s["pages"][i % len(s["pages"])]
            return openloop.Request("GET", page, "organizer", headers=(("Cookie", s["organizer"]),))
        if kind == "tracking":
            cookie = s["trackers"][i % len(s["trackers"])]
            return openloop.Request("GET", "/demands/tracked/", "tracking", headers=(("Cookie", cookie),))
        body = urllib.parse.urlencode(
            {
                "api_key": s["key"],
                "service_code": s["code"],
                "lat": f"{22.50 + (i % 97) / 1000:.4f}",
                "long": f"{114.00 + (i % 89) / 1000:.4f}",
                "description": f"soak load demand {i}",
            }
        ).encode()
        headers = (
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Idempotency-Key", f"soak-{seed}-{i}"),
            ("Referer", f"http://{host}/"),
        )
        return openloop.Request("POST", "/open311/v2/requests.json", "intake", body=body, headers=headers)

    return make


def rss_mb(b: finder_load.Bench) -> float:
    total = 0
    for pid in [b.server.pid, *finder_load.children(b.server.pid)]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def stats(rows) -> dict:
    t = np.array([r[2] for r in rows]) if rows else np.zeros(0)
    st = np.array([r[1] for r in rows]) if rows else np.zeros(0, int)
    bad = int(((st < 200) | (st >= 400)).sum())
    return {
        "n": len(rows),
        "p50": float(np.percentile(t, 50)) if len(t) else float("nan"),
        "p99": float(np.percentile(t, 99)) if len(t) else float("nan"),
        "max": float(t.max()) if len(t) else float("nan"),
        "errors": bad,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--city", default="4403")
    ap.add_argument("--workers", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--points", type=int, default=5000)
    ap.add_argument("--server-workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--anon-rate", default="100000/second")
    ap.add_argument("--redis", metavar="URL")
    ap.add_argument("--warm-up", type=int, default=200)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--trackers", type=int, default=20, help="workers following a demand of theirs")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=float, help="requests/s for the soak (default: found by the ramp)")
    ap.add_argument("--ramp", type=float, nargs="+", default=[50, 100, 150, 200, 250, 300, 400])
    ap.add_argument("--p99-ms", type=float, default=100)
    ap.add_argument("--sample", type=float, default=10, help="seconds between memory samples")
    ap.add_argument("--mix", help="shares, e.g. finder=0.55,organizer=0.25,tracking=0.15,intake=0.05")
    a = ap.parse_args(argv)
    if a.mix:
        shares = dict((k, float(v)) for k, v in (x.split("=") for x in a.mix.split(",")))
        total = sum(shares.values())
        MIX[:] = [(k, shares.get(k, 0.0) / total) for k, _w in MIX]
    b = finder_load.Bench(a)
    b.env["XINYE_RATE_DEMAND_USER"] = "1000000/hour"  # one key submits the whole intake share
    try:
        t0 = finder_load.step(f"soak: {a.minutes:g} minutes of mixed load, {time.strftime('%Y-%m-%d')}")
        info = b.setup_database()
        paths = [x for x in b.write_points(info["pts"]).read_text().split() if x]
        b.start_server()
        s = setup_sessions(b, a)
        for p in paths[: a.warm_up]:
            b.get(p)
        org = Client(b.port)
        org.cookies = dict(c.split("=", 1) for c in s["organizer"].split("; "))
        timings = []
        for page in s["pages"]:
            t = time.perf_counter()
            status, _d, _h = org.request("GET", page)
            timings.append(f"{page} {status} {(time.perf_counter() - t) * 1e3:.0f} ms")
        print("    organizer pages one at a time: " + "; ".join(timings), flush=True)
        print(f"    set-up {time.perf_counter() - t0:.0f} s; organizer pages: {' '.join(s['pages'])}", flush=True)
        make = maker(paths, s, a.seed, b.port)
        rate = a.rate
        if rate is None:
            held = None
            for r in a.ramp:
                rows = openloop.run(b.base, make, rate=r, duration=20)
                st = stats(rows)
                ok = st["errors"] == 0 and st["p99"] < a.p99_ms
                kinds = ", ".join(f"{k} {stats([x for x in rows if x[0] == k])['p99']:.0f}" for k, _w in MIX)
                print(
                    f"    ramp {r:g}/s: p50 {st['p50']:.1f} ms, p99 {st['p99']:.1f} ms, {st['errors']} errors"
                    f" (p99 ms by kind: {kinds})"
                )
                if not ok:
                    break
                held = r
            if held is None:  # soak at the lowest rate anyway: errors and memory still tell; the verdict fails
                print(f"    not even {a.ramp[0]:g}/s held p99 < {a.p99_ms:g} ms: soaking at {a.ramp[0]:g}/s")
                held = a.ramp[0]
            rate = held
        finder_load.step(f"soak at {rate:g} requests/s for {a.minutes:g} minutes")
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sampler():
            start = time.monotonic()
            while not done.is_set():
                samples.append((time.monotonic() - start, rss_mb(b)))
                done.wait(a.sample)

        th = threading.Thread(target=sampler, daemon=True)
        cpu0 = b.server_cpu()
        th.start()
        rows = openloop.run(b.base, make, rate=rate, duration=a.minutes * 60)
        done.set()
        th.join()
        cpu = b.server_cpu() - cpu0
    finally:
        b.cleanup()
    print()
    print(
        f"city {a.city}, demo --workers {a.workers} --seed {a.seed}; gunicorn gthread {a.server_workers} x "
        f"{a.threads}; {'Redis' if a.redis else 'PostgreSQL'} rate-limit counts; open loop at {rate:g} req/s; "
        f"mix {', '.join(f'{k} {w:.0%}' for k, w in MIX)}"
    )
    print("\n| minute | requests | p50 ms | p99 ms | max ms | errors | memory MB (end of minute) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in range(int(np.ceil(a.minutes))):
        part = [r for r in rows if m * 60 <= r[3] < (m + 1) * 60]
        mem = [v for t, v in samples if t <= (m + 1) * 60]
        st = stats(part)
        print(
            f"| {m + 1} | {st['n']:,} | {st['p50']:.1f} | {st['p99']:.1f} | {st['max']:.0f} | {st['errors']} "
            f"| {mem[-1] if mem else float('nan'):.0f} |"
        )
    print("\n| kind | requests | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|")
    for kind, _w in MIX:
        st = stats([r for r in rows if r[0] == kind])
        print(f"| {kind} | {st['n']:,} | {st['p50']:.1f} | {st['p99']:.1f} | {st['errors']} |")
    st = stats(rows)
    mem = [v for _t, v in samples]
    print(
        f"\nall: {st['n']:,} requests, p50 {st['p50']:.1f} ms, p99 {st['p99']:.1f} ms, max {st['max']:.0f} ms, "
        f"{st['errors']} errors; server CPU {cpu * 1e3 / max(st['n'], 1):.2f} ms/request; memory of gunicorn "
        f"(master + workers) {mem[0]:.0f} MB at the start, {mem[-1]:.0f} MB at the end, {max(mem):.0f} MB at most"
    )
    statuses: dict[int, int] = {}
    for r in rows:
        statuses[r[1]] = statuses.get(r[1], 0) + 1
    print(f"statuses: {dict(sorted(statuses.items()))}")
    return 0 if st["errors"] == 0 and st["p99"] < a.p99_ms else 1


if __name__ == "__main__":
    sys.exit(main())
