"""The station finder API (issue #5) under load: /api/stations/nearest served by gunicorn on PostgreSQL, driven
from a second process at a steady rate (locust), with a closed-loop capacity probe (wrk) first.

    .venv/bin/pip install -r benchmarks/requirements.txt    # gunicorn, locust
    apt-get install -y wrk                                  # optional: the capacity probe
    cd benchmarks && ../.venv/bin/python finder_load.py --duration 60                   # rates: 1/4 and 1/2 of wrk's
    cd benchmarks && ../.venv/bin/python finder_load.py --rates 20 40 --duration 60     # or fixed rates

What it does, each step printed with its time:
1. creates a database xinye_bench_finder_<pid> through --dsn, then with DATABASE_URL pointing at it runs
   `xinye migrate`, `xinye places import --city C` and `xinye demo --city C --workers N --seed S`;
2. writes --points request paths: community centres of the city (from the database) moved by a random
   offset (sd about 300 m); 60 % plain, 10 % with one or two amenities, 10 % open_now=true, 20 % both;
3. starts gunicorn on a free loopback port (gthread, --server-workers processes x --threads threads),
   XINYE_DEBUG=0, XINYE_ANON_RATE raised (all load comes from one address: the default 120/minute would
   answer 429), and warms every worker up (each builds its own station index on its first request);
4. --sequential requests one at a time on one connection, 20 ms apart (the latency without queueing), then
   wrk, closed loop, --probe-connections connections for --probe-duration seconds: the throughput ceiling of
   this server on this machine (skipped when wrk is missing);
5. for each rate in --rates (default: --fractions of the wrk throughput): locust headless, constant_throughput
   users (--users-per-rate users for each 10 requests/s, each below 1/latency) for --duration seconds; the
   latency of every request is recorded by the locustfile (exact percentiles, not locust's rounded ones),
   non-2xx counted;
6. stops the server and drops the database (also on Ctrl-C or an error), unless --keep.

Every request goes to 127.0.0.1 and every run is bounded in time. The machine's cores are shared by the
server, PostgreSQL and the load generator (and by anything else running there): the CPU seconds each used
are printed with the table.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PATH = "/api/stations/nearest"
AMENITIES = ["toilet", "water", "charging", "microwave", "air_conditioning", "battery_swap", "seats"]

LOCUSTFILE = r"""
import csv, os, random, time
from locust import FastHttpUser, constant_throughput, events, task

PATHS = [line.rstrip("\n") for line in open(os.environ["FINDER_POINTS"], encoding="utf-8") if line.strip()]
RATE = float(os.environ["FINDER_USER_RATE"])
RECORDS = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **kw):
    status = getattr(response, "status_code", 0) if response is not None else 0
    RECORDS.append((name, status, response_time, 1 if exception else 0, time.time() - response_time / 1000))


@events.quitting.add_listener
def _dump(environment, **kw):
    with open(os.environ["FINDER_RECORDS"], "w", newline="") as f:
        csv.writer(f).writerows(RECORDS)


class Finder(FastHttpUser):
    wait_time = constant_throughput(RATE)

    @task
    def nearest(self):
        path = random.choice(PATHS)
        kind = "open_now+amenity" if "open_now" in path and "amenity" in path else (
            "open_now" if "open_now" in path else "amenity" if "amenity" in path else "plain")
        with self.client.get(path, name=kind, catch_response=True) as r:
            if not 200 <= r.status_code < 300:
                r.failure(f"HTTP {r.status_code}")
"""

WRK_LUA = r"""
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def step(msg: str) -> float:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
    return time.perf_counter()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its reaped children, from /proc; 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def children_cpu() -> float:
    """CPU seconds of this process's finished children (a load generator counts once it has exited)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def pctl(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


class Bench:
    def __init__(self, a):
        self.a = a
        self.db = f"xinye_bench_finder_{os.getpid()}"
        self.tmp = Path(tempfile.mkdtemp(prefix="xinye_finder_load_"))
        self.server: subprocess.Popen | None = None
        self.created: list[str] = []
        self.dbs: dict[str, str] = {}  # label -> database
        from psycopg.conninfo import conninfo_to_dict

        p = conninfo_to_dict(a.dsn)
        user = p.get("user", "postgres")
        auth = user + (f":{p['password']}" if p.get("password") else "")
        self.server_url = f"postgres://{auth}@{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}/"
        self.env = dict(
            os.environ,
            XINYE_DEBUG="0",
            XINYE_PRODUCTION="0",
            XINYE_SECRET_KEY=secrets.token_urlsafe(40),
            XINYE_ALLOWED_HOSTS="127.0.0.1,localhost",
            # "per second": the throttle keeps a list of the last period's request times per address, and all
            # of this load comes from one address; a per-minute limit would make that list thousands long
            XINYE_ANON_RATE=a.anon_rate,
            XINYE_RATE_ANON=a.anon_rate,  # the middleware's general budget per address (issue 10), likewise
            XINYE_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="xinye.config.settings",
        )
        if a.redis:
            self.env["XINYE_REDIS_URL"] = a.redis
        self.servers: dict[str, tuple[subprocess.Popen, int]] = {}
        self.label = "this tree"

    # ------------------------------------------------------------------------------------------ setup

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.a.dsn, autocommit=True) as c:
            c.execute(sql)

    def env_for(self, label: str, pythonpath: Path | None = None) -> dict:
        env = dict(self.env, DATABASE_URL=self.server_url + self.dbs[label])
        if pythonpath is not None:  # the baseline's code first on the path, before the installed tree
            env["PYTHONPATH"] = str(pythonpath)
        return env

    def xinye(self, env: dict, *args: str) -> None:
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "xinye"), *args], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f"    xinye {' '.join(args)}: {time.perf_counter() - t0:.1f} s", flush=True)

    def setup_database(self, label: str = "this tree", pythonpath: Path | None = None) -> dict:
        """A database of its own for the code `label`, made by that code: its migrations, its demo."""
        a = self.a
        db = self.db if label == "this tree" else f"{self.db}_baseline"
        self.dbs[label] = db
        step(f"creating database {db} for {label}")
        self.admin(f"CREATE DATABASE {db}")
        self.created.append(db)
        env = self.env_for(label, pythonpath)
        self.xinye(env, "migrate", "--noinput", "-v0")
        self.xinye(env, "places", "import", "--city", a.city)
        self.xinye(env, "demo", "--city", a.city, "--workers", str(a.workers), "--seed", str(a.seed))
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        p = conninfo_to_dict(a.dsn)
        p["dbname"] = db
        with psycopg.connect(make_conninfo(**p)) as c:
            stations = c.execute("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM stations_station")
            n, n_open = stations.fetchone()
            pts = c.execute(
                "SELECT lat, lon FROM places_division WHERE level = 'community' AND code LIKE %s "
                "AND lat IS NOT NULL ORDER BY code",
                (a.city + "%",),
            ).fetchall()
            if not pts:  # no community coordinates: around the stations
                pts = c.execute("SELECT lat, lon FROM stations_station ORDER BY id").fetchall()
        print(f"    {n} stations ({n_open} open), {len(pts)} community locations", flush=True)
        return {"stations": n, "open": n_open, "locations": len(pts), "pts": np.array(pts, float)}

    def write_points(self, pts: np.ndarray) -> Path:
        rng = np.random.default_rng(self.a.seed)
        base = pts[rng.integers(0, len(pts), self.a.points)]
        lat = base[:, 0] + rng.normal(0, 0.0027, len(base))
        lon = base[:, 1] + rng.normal(0, 0.0029, len(base))
        lines = []
        for la, lo in zip(lat, lon, strict=True):
            q = f"{PATH}?lat={la:.6f}&lon={lo:.6f}"
            u = rng.random()
            if u < 0.1 or 0.2 <= u < 0.4:  # amenity: 0.2 with open_now, 0.1 alone
                q += "".join(f"&amenity={x}" for x in rng.choice(AMENITIES, int(rng.integers(1, 3)), replace=False))
            if u < 0.3:  # open_now: 0.2 with an amenity, 0.1 alone
                q += "&open_now=true"
            lines.append(q)
        path = self.tmp / "paths.txt"
        path.write_text("\n".join(lines) + "\n")
        kinds = {
            "plain": sum("amenity" not in x and "open_now" not in x for x in lines),
            "amenity": sum("amenity" in x and "open_now" not in x for x in lines),
            "open_now": sum("open_now" in x and "amenity" not in x for x in lines),
            "open_now+amenity": sum("open_now" in x and "amenity" in x for x in lines),
        }
        print(f"    {len(lines)} request paths in {path}: {kinds}", flush=True)
        return path

    # ------------------------------------------------------------------------------------------ server

    def baseline_tree(self, rev: str) -> Path:
        """The project's `src` at git revision `rev`, exported to the temporary directory (no checkout)."""
        out = self.tmp / "baseline"
        out.mkdir()
        archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
        (out / "node_modules").symlink_to(ROOT / "node_modules")  # division data and scripts, as installed
        sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True)
        self.baseline_sha = sha.stdout.strip()
        return out / "src"

    def use(self, label: str) -> None:
        """Send what follows to the server `label`."""
        self.label = label
        self.server, self.port = self.servers[label]
        self.base = f"http://127.0.0.1:{self.port}"

    def start_server(self, label: str = "this tree", pythonpath: Path | None = None) -> None:
        a = self.a
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = self.env_for(label, pythonpath)
        cmd = [
            str(BIN / "gunicorn"),
            "xinye.config.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={a.server_workers}",
            f"--threads={a.threads}",
            "--worker-class=gthread",
            "--keep-alive=5",
            "--log-level=warning",
            "--timeout=60",
        ]
        step(f"starting {label}: {' '.join(cmd[1:])}")
        logname = self.tmp / f"gunicorn-{len(self.servers)}.log"
        log = open(logname, "w")  # noqa: SIM115  (closed with the process)
        cwd = pythonpath.parent if pythonpath is not None else ROOT
        self.server = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        self.servers[label] = (self.server, self.port)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get(f"{PATH}?lat=22.54&lon=114.05")
                break
            except (urllib.error.URLError, ConnectionError):
                if self.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {logname}") from None
                time.sleep(0.3)

    def get(self, path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return r.status, r.read()

    def warm_up(self, paths: Path) -> None:
        lines = paths.read_text().split()
        t0 = time.perf_counter()
        bad = 0
        for p in lines[: self.a.warm_up]:  # new connections: the requests spread over the workers
            try:
                self.get(p)
            except urllib.error.HTTPError:
                bad += 1
        status, body = self.get(lines[0])
        found = json.loads(body)
        print(
            f"    warm-up: {self.a.warm_up} requests in {time.perf_counter() - t0:.1f} s, {bad} errors; "
            f"e.g. {lines[0]} -> {len(found)} stations, nearest {found[0]['distance_m']:.0f} m"
            if found
            else f"    warm-up: {self.a.warm_up} requests, {bad} errors; {lines[0]} found nothing",
            flush=True,
        )

    def pg_backends(self) -> dict[int, float]:
        """{pid: CPU seconds} of the PostgreSQL backends connected to our database."""
        import psycopg

        with psycopg.connect(self.a.dsn, autocommit=True) as c:
            rows = c.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.dbs[self.label],))
            pids = [r[0] for r in rows]
        return {p: proc_cpu(p) for p in pids}

    def pg_cpu_since(self, before: dict[int, float]) -> float:
        """CPU seconds our database's backends used since `before`: backends opened meanwhile count whole,
        backends closed meanwhile are missed (the app keeps connections 60 s), so this is a lower bound."""
        now = self.pg_backends()
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())

    def sequential(self, paths: Path) -> dict:
        """One request at a time on one keep-alive connection, 20 ms apart: the latency without queueing."""
        import http.client

        a = self.a
        rng = np.random.default_rng(a.seed + 1)
        lines = paths.read_text().split()
        step(f"unloaded latency: {a.sequential} requests one at a time, one connection")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        t_ms, bad = [], 0
        cpu0, pg0 = self.server_cpu(), self.pg_backends()
        t_all = time.perf_counter()
        for j in rng.integers(0, len(lines), a.sequential):
            t0 = time.perf_counter()
            conn.request("GET", lines[j])
            r = conn.getresponse()
            r.read()
            t_ms.append((time.perf_counter() - t0) * 1e3)
            bad += not 200 <= r.status < 300
            time.sleep(0.02)
        wall = time.perf_counter() - t_all
        cpu, pg = self.server_cpu() - cpu0, self.pg_cpu_since(pg0)
        conn.close()
        t = np.array(t_ms)
        return {
            "tool": "one at a time, 1 connection",
            "code": self.label,
            "target": "",
            "rps": len(t) / wall,
            "n": len(t),
            "p50": pctl(t, 50),
            "p90": pctl(t, 90),
            "p99": pctl(t, 99),
            "max": float(t.max()),
            "non2xx": bad,
            "errors": "0",
            "server_cpu": cpu,
            "pg_cpu": pg,
            "load_cpu": float("nan"),
            "seconds": wall,
        }

    def server_cpu(self) -> float:
        return sum(proc_cpu(p) for p in [self.server.pid, *children(self.server.pid)])

    # ------------------------------------------------------------------------------------------ load

    def wrk(self, paths: Path) -> dict | None:
        a = self.a
        if not shutil.which("wrk"):
            print("    wrk not found (apt-get install wrk): capacity probe skipped", flush=True)
            return None
        lua = self.tmp / "paths.lua"
        lua.write_text(WRK_LUA % (paths, a.seed))
        cmd = ["wrk", "-t1", f"-c{a.probe_connections}", f"-d{a.probe_duration}s", "--latency", "--timeout=10s"]
        cmd += ["-s", str(lua), self.base + PATH]
        step(f"capacity probe: {' '.join(cmd[:6])} (closed loop)")
        cpu0, pg0, load0 = self.server_cpu(), self.pg_backends(), children_cpu()
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=a.probe_duration + 60).stdout
        cpu, pg, load_cpu = self.server_cpu() - cpu0, self.pg_cpu_since(pg0), children_cpu() - load0

        def ms(label: str) -> float:
            m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
            if not m:
                return float("nan")
            return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        n = re.search(r"(\d+) requests in", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(r"Socket errors: (.*)", out)
        r = {
            "tool": f"wrk -c{a.probe_connections}, closed loop",
            "code": self.label,
            "target": "",
            "rps": float(rps.group(1)) if rps else float("nan"),
            "n": int(n.group(1)) if n else 0,
            "p50": ms("50%"),
            "p90": ms("90%"),
            "p99": ms("99%"),
            "max": float("nan"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": sock.group(1).strip() if sock else "0",
            "server_cpu": cpu,
            "pg_cpu": pg,
            "load_cpu": load_cpu,
            "seconds": a.probe_duration,
        }
        (self.tmp / "wrk.txt").write_text(out)
        print("    " + out.strip().replace("\n", "\n    "), flush=True)
        return r

    def locust(self, paths: Path, rate: float) -> dict:
        a = self.a
        users = max(1, int(round(rate / 10 * a.users_per_rate)))
        lf = self.tmp / "locustfile.py"
        lf.write_text(LOCUSTFILE)
        records = self.tmp / f"records_{rate:g}.csv"
        env = dict(
            os.environ, FINDER_POINTS=str(paths), FINDER_USER_RATE=str(rate / users), FINDER_RECORDS=str(records)
        )
        cmd = [str(BIN / "locust"), "-f", str(lf), "--headless", f"--users={users}", f"--spawn-rate={users}"]
        cmd += [f"--run-time={a.duration}s", f"--host={self.base}", "--only-summary", "--stop-timeout=10"]
        cmd += ["--loglevel=ERROR", "--skip-log-setup", "--exit-code-on-error=0"]
        step(f"steady rate {rate:g}/s: locust, {users} users x {rate / users:.2f}/s, {a.duration} s")
        cpu0, pg0, load0 = self.server_cpu(), self.pg_backends(), children_cpu()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(timeout=a.duration + 120)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        wall = time.perf_counter() - t0
        cpu, pg = self.server_cpu() - cpu0, self.pg_cpu_since(pg0)
        load_cpu = children_cpu() - load0
        if not records.exists():
            raise RuntimeError(f"locust wrote no records: {err.decode()[-2000:]}")
        rows = list(csv.reader(records.open()))
        status = np.array([int(r[1]) for r in rows])
        t_ms = np.array([float(r[2]) for r in rows])
        starts = np.array([float(r[4]) for r in rows])
        span = float(starts.max() - starts.min()) if len(rows) > 1 else float("nan")
        ok = (status >= 200) & (status < 300)
        by_kind = {}
        for kind in sorted({r[0] for r in rows}):
            sel = np.array([r[0] == kind for r in rows])
            by_kind[kind] = (int(sel.sum()), pctl(t_ms[sel], 50), pctl(t_ms[sel], 99))
        return {
            "tool": f"locust, {users} users",
            "code": self.label,
            "target": f"{rate:g}",
            "rps": (len(rows) - 1) / span,  # over the time from the first request sent to the last
            "n": len(rows),
            "p50": pctl(t_ms, 50),
            "p90": pctl(t_ms, 90),
            "p99": pctl(t_ms, 99),
            "max": float(t_ms.max()) if len(t_ms) else float("nan"),
            "non2xx": int((~ok).sum()),
            "errors": str(int((status == 0).sum())),
            "server_cpu": cpu,
            "pg_cpu": pg,
            "load_cpu": load_cpu,
            "seconds": wall,
            "by_kind": by_kind,
        }

    def openloop(self, paths: Path, rate: float) -> dict:
        """`rate` requests a second, evenly spaced, for --duration seconds, each timed from when it was due
        (benchmarks/openloop.py, run in a child process so that its CPU is counted apart)."""
        a = self.a
        out = self.tmp / f"openloop_{rate:g}.json"
        cmd = [sys.executable, str(Path(__file__).parent / "openloop.py"), "--base", self.base, "--paths", str(paths)]
        cmd += ["--rate", str(rate), "--duration", str(a.duration), "--seed", str(a.seed), "--records", str(out)]
        step(f"steady rate {rate:g}/s: open loop, evenly spaced, {a.duration} s")
        cpu0, pg0, load0 = self.server_cpu(), self.pg_backends(), children_cpu()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, timeout=a.duration + 120, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        cpu, pg, load_cpu = self.server_cpu() - cpu0, self.pg_cpu_since(pg0), children_cpu() - load0
        sys.path.insert(0, str(Path(__file__).parent))
        import openloop

        rows = json.loads(out.read_text())
        r = openloop.summary(rows, wall)
        t_ms = np.array([x[2] for x in rows])
        by_kind = {}
        for kind in sorted({x[0] for x in rows}):
            sel = np.array([x[0] == kind for x in rows])
            by_kind[kind] = (int(sel.sum()), pctl(t_ms[sel], 50), pctl(t_ms[sel], 99))
        r.update(
            tool="open loop",
            code=self.label,
            target=f"{rate:g}",
            server_cpu=cpu,
            pg_cpu=pg,
            load_cpu=load_cpu,
            seconds=wall,
            by_kind=by_kind,
        )
        return r

    # ------------------------------------------------------------------------------------------ cleanup

    def cleanup(self) -> None:
        for server in [p for p, _port in self.servers.values()] or [self.server]:
            if server is None or server.poll() is not None:
                continue
            server.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for db in self.created if not self.a.keep else []:
            self.admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            step(f"dropped database {db}")
        if not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def table(results: list[dict], duration: int) -> str:
    lines = [
        "| code | load | target req/s | achieved req/s | requests | p50 ms | p90 ms | p99 ms | max ms | non-2xx "
        "| socket errors | server CPU ms/request | PostgreSQL CPU ms/request | load generator CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        n = max(r["n"], 1)
        lines.append(
            f"| {r.get('code', '')} | {r['tool']} | {r['target']} | {r['rps']:,.1f} | {r['n']:,} "
            f"| {r['p50']:.1f} | {r['p90']:.1f} "
            f"| {r['p99']:.1f} | {r['max']:.0f} | {r['non2xx']} | {r['errors']} | {r['server_cpu'] * 1e3 / n:.1f} "
            f"| {r['pg_cpu'] * 1e3 / n:.1f} | {r['load_cpu']:.1f} |".replace("| nan |", "|  |")
        )
    kinds = [r for r in results if "by_kind" in r]
    if kinds:
        lines += ["", "| code | target req/s | kind | requests | p50 ms | p99 ms |", "|---|---:|---|---:|---:|---:|"]
        for r in kinds:
            for kind, (n, p50, p99) in r["by_kind"].items():
                lines.append(f"| {r.get('code', '')} | {r['target']} | {kind} | {n:,} | {p50:.1f} | {p99:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default=os.environ.get("XINYE_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--city", default="4403")
    ap.add_argument("--workers", type=int, default=20000, help="demo workers (about one station per 120)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--points", type=int, default=5000, help="distinct request paths")
    ap.add_argument("--rates", type=float, nargs="+", help="steady rates, requests/s (default: --fractions)")
    ap.add_argument(
        "--fractions",
        type=float,
        nargs="+",
        default=[0.25, 0.5],
        help="without --rates: steady rates as fractions of the closed-loop throughput wrk measured",
    )
    ap.add_argument("--duration", type=int, default=60, help="seconds at each rate")
    ap.add_argument("--users-per-rate", type=float, default=5, help="locust users for each 10 requests/s")
    ap.add_argument("--server-workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    ap.add_argument("--anon-rate", default="100000/second", help="XINYE_ANON_RATE for the server")
    ap.add_argument("--warm-up", type=int, default=200)
    ap.add_argument("--sequential", type=int, default=500, help="requests one at a time (0: none)")
    ap.add_argument("--probe-connections", type=int, default=8, help="wrk connections (0: no capacity probe)")
    ap.add_argument("--probe-duration", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the database and the temporary files")
    ap.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve the code of git revision REV (e.g. 1eae074, when issue 11 was filed) on the same database, "
        "and run every step on both, one after the other: the side-by-side comparison",
    )
    ap.add_argument(
        "--generator",
        choices=["openloop", "locust"],
        default="openloop",
        help="steady-rate load: openloop.py (evenly spaced, timed from when each request was due) or locust",
    )
    ap.add_argument("--redis", metavar="URL", help="XINYE_REDIS_URL for the servers (cache and rate-limit counts)")
    a = ap.parse_args(argv)
    if not (BIN / "gunicorn").exists() or (a.generator == "locust" and not (BIN / "locust").exists()):
        print("gunicorn or locust is missing: .venv/bin/pip install -r benchmarks/requirements.txt", file=sys.stderr)
        return 2
    b = Bench(a)
    results = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        t0 = step(f"finder load test, {os.cpu_count()} cores shared by server, PostgreSQL and load generator")
        info = b.setup_database()
        labels = []
        if a.baseline:
            base_src = b.baseline_tree(a.baseline)
            base_info = b.setup_database(f"baseline {a.baseline}", base_src)
            labels.append(f"baseline {a.baseline}")
        print(f"    set-up {time.perf_counter() - t0:.0f} s", flush=True)
        paths = b.write_points(info["pts"])
        if a.baseline:
            b.start_server(labels[0], base_src)
        b.start_server("this tree")
        labels.append("this tree")
        for label in labels:
            b.use(label)
            b.warm_up(paths)
        if a.sequential:
            for label in labels:
                b.use(label)
                results.append(b.sequential(paths))
        probes = {}
        if a.probe_connections > 0:
            for label in labels:
                b.use(label)
                r = b.wrk(paths)
                if r:
                    results.append(r)
                    probes[label] = r
        rates = a.rates
        if not rates:
            if not probes:
                raise SystemExit("no wrk capacity probe to take --fractions of: give --rates")
            rates = [max(1.0, round(f * probes["this tree"]["rps"])) for f in a.fractions]
        for rate in rates:
            for label in labels:
                b.use(label)
                results.append(b.locust(paths, rate) if a.generator == "locust" else b.openloop(paths, rate))
                print(table(results[-1:], a.duration), flush=True)
    finally:
        b.cleanup()
    print()
    print(
        f"{info['stations']} stations ({info['open']} open), city {a.city}, demo --workers {a.workers} "
        f"--seed {a.seed}; gunicorn gthread {a.server_workers} x {a.threads}, XINYE_ANON_RATE={a.anon_rate}"
        f"{', XINYE_REDIS_URL=' + a.redis if a.redis else ', counts in PostgreSQL'}"
        f"{', baseline ' + a.baseline + ' = ' + b.baseline_sha if a.baseline else ''}"
        + (
            f" (its own database and demo: {base_info['stations']} stations, {base_info['open']} open)"
            if a.baseline
            else ""
        )
    )
    print(table(results, a.duration))
    if a.baseline and len(probes) == 2:
        old, new = probes[labels[0]], probes["this tree"]
        print(
            f"\nclosed-loop ceiling: {new['rps']:,.1f} / {old['rps']:,.1f} req/s = {new['rps'] / old['rps']:.2f} x the "
            f"baseline's; server CPU per request {old['server_cpu'] * 1e3 / max(old['n'], 1):.2f} -> "
            f"{new['server_cpu'] * 1e3 / max(new['n'], 1):.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
