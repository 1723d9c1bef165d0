"""`xinye indicators batch` end to end, and side by side the same query as one single-process Polars run.

    python benchmarks/batch_gen.py --workers 20000000 --stations 200000 --files 8 --out var/b20
    python benchmarks/batch_bench.py --data var/b20

Each run is a child process; its time is the wall clock and its peak memory the largest sum of the resident
memory of the process and all its children (the dask scheduler and workers), sampled every 0.1 s. The two
coverage.csv files must be identical; the ratio is batch time / single-process time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

SRC = str(Path(__file__).resolve().parents[1] / "src")

SINGLE = """
import sys
from xinye.algorithms import coverage_batch as cb
out = cb.single_process(sys.argv[1], sys.argv[2], float(sys.argv[3]))
out.write_csv(sys.argv[4])
"""


def measured(cmd: list[str]) -> tuple[float, int, str]:
    """(seconds, peak bytes of the process tree, stdout) of a command."""
    env = os.environ | {"PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    root = psutil.Process(p.pid)
    peak = 0
    while p.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            rss = 0
            for q in procs:
                try:
                    rss += q.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    out = p.stdout.read() if p.stdout else ""
    if p.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{out}")
    return time.perf_counter() - t, peak, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("var/batch"), help="the generator's --out")
    ap.add_argument("--radius-km", type=float, default=1.5)
    ap.add_argument("--memory-limit", default="3GiB")
    ap.add_argument("--n-workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-single", action="store_true", help="skip the single-process run")
    a = ap.parse_args(argv)
    out = a.data / "out"
    cmd = [sys.executable, "-m", "xinye.cli", "indicators", "-v0", "batch", "--workers", str(a.data / "workers"),
           "--stations", str(a.data / "stations.parquet"), "--out", str(out), "--radius-km", str(a.radius_km),
           "--memory-limit", a.memory_limit, "--n-workers", str(a.n_workers), "--threads", str(a.threads)]  # fmt: skip
    members = a.data / "members.parquet"
    if members.exists():
        cmd += ["--members", str(members)]
    t_b, m_b, text = measured(cmd)
    print(text.strip())
    print(f"batch (dask, {a.n_workers} x {a.threads} threads): {t_b:.1f} s, peak {m_b / 2**30:.2f} GiB")
    if a.no_single:
        return
    single_csv = a.data / "single.csv"
    t_s, m_s, _ = measured(
        [
            sys.executable,
            "-c",
            SINGLE,
            str(a.data / "workers" / "*.parquet"),
            str(a.data / "stations.parquet"),
            str(a.radius_km),
            str(single_csv),
        ]  # fmt: skip
    )
    print(f"single-process Polars (streaming): {t_s:.1f} s, peak {m_s / 2**30:.2f} GiB")
    # the same rows (the command writes CSV with CRLF line ends, as the csv module does; Polars writes LF)
    same = (out / "coverage.csv").read_text().splitlines() == single_csv.read_text().splitlines()
    print(f"ratio batch / single: {t_b / t_s:.2f}; coverage.csv identical: {same}")
    if not same:
        sys.exit("the two runs disagree")


if __name__ == "__main__":
    main()
