"""Nearest service stations (issue #5): Xinye's NearestIndex against scipy's cKDTree on raw degrees and against
PostGIS KNN (`ORDER BY geom <-> point LIMIT k` on a GiST index), on the same points, in one run.

    apt-get install -y postgresql-15-postgis-3      # the server's major version; PostGIS rows are skipped without it
    cd benchmarks && ../.venv/bin/python nearest_bench.py --stations 200000 --queries 1000000 --seed 1

Points: stations and query points over Shenzhen's built-up area (22.45-22.80 N, 113.80-114.45 E), 75 % around
district centres and 25 % uniform, from one seed. Every method answers the same queries, one core each
(cKDTree with workers=1; PostgreSQL with max_parallel_workers_per_gather=0 unless --pg-parallel).

- ours: NearestIndex.query_many (k-d tree over unit vectors: exact on the sphere), one batch call;
  "ours, one call a query" is NearestIndex.query in a Python loop on a sample (what the finder API does).
- cKDTree (deg): scipy's cKDTree on raw (lat, lon) degrees, one batch call: planar in degrees, so not exact
  (a degree of longitude is cos(22.5 deg) = 0.92 of a degree of latitude here).
- PostGIS geometry (SRID 4326, planar in degrees, like cKDTree on degrees) and geography (sphere distance):
  one SQL statement over a query table loaded with COPY,
  `SELECT q.id, n.id FROM q CROSS JOIN LATERAL (SELECT s.id FROM s ORDER BY s.geom <-> q.geom LIMIT k) n`,
  timed from sending it to having read every result row (COPY ... TO STDOUT, binary); "round trip" rows are
  one prepared statement a query over one TCP connection on a sample (latency p50/p99).
  Optional variant "utm": geometry projected to UTM 50N (EPSG:32650), planar in metres.

Agreement is measured against ours: the same set of k ids, the same order, the same nearest station, and the
worst excess distance (metres, great-circle) of the k-th station a method returned over the true k-th.
The script creates a database xinye_bench_nearest_<pid> through --dsn and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from scipy.spatial import cKDTree

from xinye.algorithms.geo import NearestIndex, haversine_m_array

BOX = (22.45, 113.80, 22.80, 114.45)  # min lat, min lon, max lat, max lon
# District centres (lat, lon, weight): Futian, Luohu, Nanshan, Bao'an, Longgang, Longhua, Guangming, Pingshan,
# Yantian, and Bao'an's Shajing/Songgang in the north-west.
CENTRES = np.array(
    [
        (22.541, 114.055, 3),
        (22.548, 114.131, 2),
        (22.533, 113.930, 3),
        (22.555, 113.883, 3),
        (22.720, 114.247, 3),
        (22.697, 114.045, 3),
        (22.749, 113.936, 1),
        (22.690, 114.346, 1),
        (22.557, 114.236, 1),
        (22.740, 113.840, 2),
    ]
)
VARIANTS = {
    # name: (column expression built from lon/lat, point expression for one query, description)
    "geometry": ("ST_SetSRID(ST_MakePoint(lon, lat), 4326)", "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"),
    "geography": (
        "ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography",
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography",
    ),
    "utm": (
        "ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 32650)",
        "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 32650)",
    ),
}


def city_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n (lat, lon) points: 75 % Gaussian around district centres (sd about 3 km), 25 % uniform over BOX;
    a Gaussian point that falls outside BOX is drawn again uniformly (clipping would stack points on the edge)."""
    lat0, lon0, lat1, lon1 = BOX
    near = rng.random(n) < 0.75
    which = rng.choice(len(CENTRES), n, p=CENTRES[:, 2] / CENTRES[:, 2].sum())
    lat = np.where(near, CENTRES[which, 0] + rng.normal(0, 0.027, n), rng.uniform(lat0, lat1, n))
    lon = np.where(near, CENTRES[which, 1] + rng.normal(0, 0.029, n), rng.uniform(lon0, lon1, n))
    out = np.flatnonzero((lat < lat0) | (lat > lat1) | (lon < lon0) | (lon > lon1))
    lat[out], lon[out] = rng.uniform(lat0, lat1, len(out)), rng.uniform(lon0, lon1, len(out))
    return lat, lon


def timed(fn, repeat: int, cpu=time.process_time):
    """(result of the last call, [wall-clock seconds], [CPU seconds by `cpu`]) of `repeat` calls. On a shared
    machine the CPU time moves less than the wall-clock time when other processes compete for the cores."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        c0, t0 = cpu(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    return out, walls, cpus


def agreement(ids: np.ndarray, truth: np.ndarray, qlat, qlon, slat, slon) -> dict:
    """How far `ids` (n, k) agree with the exact answer `truth` (n, k), both nearest first."""
    same_order = (ids == truth).all(axis=1)
    same_set = (np.sort(ids, axis=1) == np.sort(truth, axis=1)).all(axis=1)
    bad = np.flatnonzero(~same_set)
    excess = np.zeros(0)
    if len(bad):
        d_got = np.sort(haversine_m_array(qlat[bad, None], qlon[bad, None], slat[ids[bad]], slon[ids[bad]]), axis=1)
        d_true = haversine_m_array(qlat[bad, None], qlon[bad, None], slat[truth[bad]], slon[truth[bad]])
        excess = d_got[:, -1] - np.sort(d_true, axis=1)[:, -1]
    return {
        "set": float(same_set.mean()),
        "order": float(same_order.mean()),
        "top1": float((ids[:, 0] == truth[:, 0]).mean()),
        "ties": int((excess < 1e-6).sum()),  # different ids at the same distance: ties, not errors
        "excess_max": float(excess.max()) if len(excess) else 0.0,
    }


def latency(fn, points) -> dict:
    """One call per point; qps over the whole loop and latency percentiles in microseconds."""
    lat = np.empty(len(points))
    t_all = time.perf_counter()
    for j, (a, b) in enumerate(points):
        t0 = time.perf_counter()
        fn(a, b)
        lat[j] = time.perf_counter() - t0
    total = time.perf_counter() - t_all
    return {"qps": len(points) / total, "p50_us": np.percentile(lat, 50) * 1e6, "p99_us": np.percentile(lat, 99) * 1e6}


# ------------------------------------------------------------------------------------------------- PostGIS


class PostGISUnavailable(RuntimeError):
    pass


def _copy_rows(cur, sql: str, cols: list[np.ndarray], fmt: str) -> None:
    """COPY numpy columns into a table as text."""
    import io

    buf = io.BytesIO()
    np.savetxt(buf, np.column_stack(cols), fmt=fmt, delimiter="\t")
    with cur.copy(sql) as cp:
        cp.write(buf.getvalue())


def _read_pairs(cur, sql: str) -> np.ndarray:
    """Run `COPY (sql) TO STDOUT (FORMAT binary)` for two int4 columns; return an (n, 2) int array."""
    chunks = []
    with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as cp:
        for data in cp:
            chunks.append(bytes(data))
    raw = b"".join(chunks)
    # 19-byte header, then per row: int16 field count, (int32 length, int32 value) x 2; 2-byte trailer
    rows = np.frombuffer(raw, dtype=">i2,>i4,>i4,>i4,>i4", offset=19, count=(len(raw) - 21) // 18)
    return np.column_stack([rows["f2"], rows["f4"]]).astype(np.int64)


class PostGIS:
    """A scratch database with the stations and query points, one table per column kind."""

    def __init__(self, dsn: str, parallel: int):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        self.psycopg = psycopg
        try:
            admin = psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError as e:
            raise PostGISUnavailable(f"cannot connect to PostgreSQL at {dsn!r}: {e}".strip()) from e
        self.admin, self.db = admin, f"xinye_bench_nearest_{os.getpid()}"
        admin.execute(f"DROP DATABASE IF EXISTS {self.db}")
        admin.execute(f"CREATE DATABASE {self.db}")
        params = conninfo_to_dict(dsn)
        params["dbname"] = self.db
        self.conn = psycopg.connect(make_conninfo(**params), autocommit=True)
        try:
            self.conn.execute("CREATE EXTENSION postgis")
        except psycopg.Error as e:
            self.close()
            raise PostGISUnavailable(
                f"the PostGIS extension is not available on this server ({str(e).strip()}); install it with "
                "`apt-get install -y postgresql-<major>-postgis-3` for the server's major version"
            ) from e
        self.backend = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.version = self.conn.execute("SELECT postgis_lib_version()").fetchone()[0]
        self.server = self.conn.execute("SHOW server_version").fetchone()[0]
        self.conn.execute(f"SET max_parallel_workers_per_gather = {int(parallel)}")

    def load(self, slat, slon, qlat, qlon, variants: list[str]) -> dict:
        cur, out = self.conn.cursor(), {}
        t0 = time.perf_counter()
        cur.execute("CREATE UNLOGGED TABLE raw_s (id int, lat float8, lon float8)")
        cur.execute("CREATE UNLOGGED TABLE raw_q (id int, lat float8, lon float8)")
        ids_s, ids_q = np.arange(len(slat)), np.arange(len(qlat))
        _copy_rows(cur, "COPY raw_s FROM STDIN", [ids_s, slat, slon], "%d\t%.17g\t%.17g")
        _copy_rows(cur, "COPY raw_q FROM STDIN", [ids_q, qlat, qlon], "%d\t%.17g\t%.17g")
        out["copy_s"] = time.perf_counter() - t0
        for v in variants:
            col = VARIANTS[v][0]
            cur.execute(f"CREATE UNLOGGED TABLE s_{v} AS SELECT id, {col} AS g FROM raw_s")
            cur.execute(f"CREATE UNLOGGED TABLE q_{v} AS SELECT id, {col} AS g FROM raw_q")
            t0 = time.perf_counter()
            cur.execute(f"CREATE INDEX ON s_{v} USING gist (g)")
            out[f"index_{v}_s"] = time.perf_counter() - t0
            cur.execute(f"VACUUM ANALYZE s_{v}")
            cur.execute(f"VACUUM ANALYZE q_{v}")
        return out

    def cpu(self) -> float:
        """CPU seconds of the server process of our connection (from /proc: same machine) plus this process."""
        try:
            with open(f"/proc/{self.backend}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            server = float("nan")
        return server + time.process_time()

    def knn_all(self, v: str, k: int, n: int) -> np.ndarray:
        """(n, k) station ids for every query point, one SQL statement."""
        sql = (
            f"SELECT q.id, n.id FROM q_{v} q CROSS JOIN LATERAL "
            f"(SELECT s.id FROM s_{v} s ORDER BY s.g <-> q.g LIMIT {int(k)}) n"
        )
        pairs = _read_pairs(self.conn.cursor(), sql)
        order = np.argsort(pairs[:, 0], kind="stable")  # keeps each query's rows nearest first
        if len(pairs) != n * k:
            raise RuntimeError(f"PostGIS {v} returned {len(pairs)} rows, expected {n * k}")
        return pairs[order, 1].reshape(n, k)

    def plan(self, v: str, k: int) -> str:
        sql = (
            f"EXPLAIN SELECT q.id, n.id FROM q_{v} q CROSS JOIN LATERAL "
            f"(SELECT s.id FROM s_{v} s ORDER BY s.g <-> q.g LIMIT {int(k)}) n"
        )
        return "\n".join(r[0] for r in self.conn.execute(sql).fetchall())

    def one(self, v: str, k: int):
        """A function (lat, lon) -> ids: one prepared statement, one round trip."""
        cur = self.conn.cursor()
        sql = f"SELECT id FROM s_{v} ORDER BY g <-> {VARIANTS[v][1]} LIMIT {int(k)}"

        def query(lat, lon):
            cur.execute(sql, (float(lon), float(lat)), prepare=True)
            return cur.fetchall()

        return query

    def close(self) -> None:
        if getattr(self, "conn", None) is not None:
            self.conn.close()
            self.conn = None
        self.admin.execute(f"DROP DATABASE IF EXISTS {self.db}")
        self.admin.close()


# ------------------------------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stations", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dsn", default=os.environ.get("XINYE_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of each in-memory batch (best and median shown)")
    ap.add_argument("--pg-repeat", type=int, default=1, help="runs of each PostGIS statement")
    ap.add_argument("--pg-variants", nargs="*", default=["geometry", "geography"], choices=sorted(VARIANTS))
    ap.add_argument("--pg-parallel", type=int, default=0, help="max_parallel_workers_per_gather (default 0)")
    ap.add_argument("--sample", type=int, default=20_000, help="queries in the one-call-a-query latency rows")
    a = ap.parse_args(argv)
    k = a.k

    rng = np.random.default_rng(a.seed)
    slat, slon = city_points(a.stations, rng)
    qlat, qlon = city_points(a.queries, rng)
    sample = np.column_stack([qlat, qlon])[rng.choice(a.queries, min(a.sample, a.queries), replace=False)]
    print(
        f"{a.stations:,} stations, {a.queries:,} queries, k={k}, seed {a.seed}; "
        f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores (shared: timings are noisy)",
        flush=True,
    )

    rows = []  # (method, build s, times, agreement or None, latency or None)
    t0 = time.perf_counter()
    index = NearestIndex(slat, slon)
    build = time.perf_counter() - t0
    (truth, _), *times = timed(lambda: index.query_many(qlat, qlon, k=k, workers=1), a.repeat)
    rows.append(("ours: NearestIndex.query_many", build, times, None, None))
    lat_ours = latency(lambda la, lo: index.query(la, lo, k=k), sample)
    rows.append(("ours: NearestIndex.query, one call a query", None, None, None, lat_ours))

    t0 = time.perf_counter()
    tree = cKDTree(np.column_stack([slat, slon]))
    build = time.perf_counter() - t0
    (_, deg), *times = timed(lambda: tree.query(np.column_stack([qlat, qlon]), k=k, workers=1), a.repeat)
    deg = deg.reshape(len(qlat), k)
    rows.append(("cKDTree on (lat, lon) degrees", build, times, agreement(deg, truth, qlat, qlon, slat, slon), None))

    pg_note = ""
    pg_results = {}
    if a.pg_variants:
        try:
            pg = PostGIS(a.dsn, a.pg_parallel)
        except PostGISUnavailable as e:
            pg_note = f"PostGIS rows skipped: {e}"
            print(pg_note, file=sys.stderr, flush=True)
            pg = None
        if pg is not None:
            try:
                loaded = pg.load(slat, slon, qlat, qlon, a.pg_variants)
                pg_note = (
                    f"PostgreSQL {pg.server}, PostGIS {pg.version}, max_parallel_workers_per_gather={a.pg_parallel}; "
                    f"COPY of stations and queries {loaded['copy_s']:.1f} s (not counted)"
                )
                print(pg_note, flush=True)
                for v in a.pg_variants:
                    print(f"  plan ({v}):\n    " + pg.plan(v, k).replace("\n", "\n    "), flush=True)
                    ids, *times = timed(lambda v=v: pg.knn_all(v, k, len(qlat)), a.pg_repeat, pg.cpu)
                    pg_results[v] = ids
                    agree = agreement(ids, truth, qlat, qlon, slat, slon)
                    rows.append((f"PostGIS {v} <-> LATERAL, one statement", loaded[f"index_{v}_s"], times, agree, None))
                    print(f"  {v}: {min(times[0]):.1f} s", flush=True)
                for v in a.pg_variants:
                    rows.append(
                        (f"PostGIS {v}, one round trip a query", None, None, None, latency(pg.one(v, k), sample))
                    )
            finally:
                pg.close()

    best_wall, best_cpu = a.queries / min(rows[0][2][0]), a.queries / min(rows[0][2][1])
    print()
    print(
        "| method | build s | wall s (best / median) | CPU s (best) | queries/s (wall) | ours ÷ it (wall) "
        "| ours ÷ it (CPU) | same 5 ids | same order | same nearest | worst excess of 5th, m | p50 µs | p99 µs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, build, times, agree, lat in rows:
        cells = [name, f"{build:.2f}" if build is not None else ""]
        if times:
            walls, cpus = times
            qps, qps_cpu = a.queries / min(walls), a.queries / min(cpus)
            cells += [
                f"{min(walls):.2f} / {statistics.median(walls):.2f}",
                f"{min(cpus):.2f}",
                f"{qps:,.0f}",
                f"{best_wall / qps:.1f}",
                f"{best_cpu / qps_cpu:.1f}",
            ]
        else:
            cells += [f"({len(sample):,} sampled)", "", f"{lat['qps']:,.0f}", f"{best_wall / lat['qps']:.1f}", ""]
        if agree:
            cells += [
                f"{agree['set']:.2%}",
                f"{agree['order']:.2%}",
                f"{agree['top1']:.2%}",
                f"{agree['excess_max']:.1f}",
            ]
        elif name.startswith("ours: NearestIndex.query_many"):
            cells += ["(reference)", "", "", ""]
        else:
            cells += ["", "", "", ""]
        cells += [f"{lat['p50_us']:.0f}", f"{lat['p99_us']:.0f}"] if lat else ["", ""]
        print("| " + " | ".join(cells) + " |")
    if "geometry" in pg_results:
        same = (np.sort(pg_results["geometry"], axis=1) == np.sort(deg, axis=1)).all(axis=1).mean()
        print(f"\nPostGIS geometry vs cKDTree on degrees (both planar in degrees): same 5 ids {same:.2%}")
    ties = {name: agree["ties"] for name, _, _, agree, _ in rows if agree and agree["ties"]}
    if ties:
        print(f"queries whose different ids were ties (same distance): {ties}")
    if pg_note.startswith("PostGIS rows skipped"):
        print(pg_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
