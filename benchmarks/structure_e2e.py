"""`xinye structure plan` end to end at national scale: the command, reading and writing the files (issue 13, item 8).

    cd benchmarks && ../.venv/bin/python structure_e2e.py                  # 200,000 units, 1,000,000 members
    cd benchmarks && ../.venv/bin/python structure_e2e.py --runs 3
    cd benchmarks && ../.venv/bin/python structure_e2e.py --units 20000 --members 100000
    cd benchmarks && ../.venv/bin/python structure_e2e.py --runs 0 --compare ../../main/src   # same PLAN.json?

Writes the national platform of `structure_bench.py` (headquarters, business lines, regions, cities, stations;
members spread with a long tail, 92 % formal) as BUSINESS.json, once (`--input`; kept between runs, made again
with `--fresh`), then runs

    xinye structure plan BUSINESS.json -o PLAN.json

in a subprocess, as a user would (Django start-up included), and prints for each run the wall time, the CPU
time (user + system, from `resource.getrusage(RUSAGE_CHILDREN)` before and after) and the peak resident memory
of the command (from `os.wait4`: that child's own; RUSAGE_CHILDREN's would be the largest of all runs so far),
with the machine's load average before and after. Target: under 12 s and under 2 GB.

`--compare SRC` runs the command once more with SRC (another checkout's `src`) first on the Python path, and
checks that both wrote the same PLAN.json (byte for byte; if not, which of its sections differ). The code each
run imports is printed: set PYTHONPATH to try a worktree's code with this virtual environment's command.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson
from structure_bench import national_platform


def write_business(path: Path, n_units: int, n_members: int) -> None:
    t0 = time.perf_counter()
    units, members = national_platform(n_units, n_members)
    data = {
        "units": [dict(id=u.id, parent=u.parent, name=u.name, kind=u.kind, division=u.division) for u in units],
        "members": [dict(id=m.id, unit=m.unit, status=m.status) for m in members],
    }
    path.write_bytes(orjson.dumps(data))
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB: {len(units):,} units, {len(members):,} members) "
        f"in {time.perf_counter() - t0:.1f} s"
    )


def _env(src: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src.resolve()), *filter(None, [env.get("PYTHONPATH")])])
    return env


def imported_from(env: dict[str, str]) -> str:
    """Where the command's Python finds the `xinye` package with this environment."""
    code = "import xinye; print(xinye.__file__)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip()


def run(xinye: str, business: Path, output: Path, src: Path | None = None) -> dict:
    env = _env(src)
    # the file is bigger than an upload may be by default (50 MB, 100,000 rows)
    env.setdefault("XINYE_IMPORT_MAX_BYTES", str(400 * 1024 * 1024))
    env.setdefault("XINYE_IMPORT_MAX_ROWS", str(5_000_000))
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [xinye, "structure", "plan", str(business), "-o", str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the progress bar
        env=env,
    )
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"xinye structure plan failed ({proc.returncode}):\n{out}")
    return {
        "wall": wall,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),  # this child's alone
        "rss_mb": usage.ru_maxrss / 1024,  # KB on Linux
        "load": (load_before, os.getloadavg()[0]),
        "summary": out.strip().splitlines()[0] if out.strip() else "",
        "size_mb": output.stat().st_size / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=200_000)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--input", type=Path, default=None, help="BUSINESS.json (default: in the temp directory)")
    ap.add_argument("--output", type=Path, default=None, help="PLAN.json (default: in the temp directory)")
    ap.add_argument("--fresh", action="store_true", help="generate BUSINESS.json again")
    ap.add_argument("--xinye", default=str(Path(sys.executable).with_name("xinye")), help="the xinye command")
    ap.add_argument("--compare", type=Path, default=None, metavar="SRC", help="check PLAN.json against SRC's code")
    a = ap.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    business = a.input or tmp / f"structure_e2e_{a.units}_{a.members}.json"
    output = a.output or tmp / f"structure_e2e_{a.units}_{a.members}.plan.json"
    if a.fresh or not business.exists():
        write_business(business, a.units, a.members)
    print(f"command: {a.xinye} structure plan {business} -o {output}")
    print(f"code: {imported_from(_env())}")
    results = []
    for i in range(a.runs):
        r = run(a.xinye, business, output)
        results.append(r)
        print(
            f"run {i + 1}: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s, peak RSS {r['rss_mb']:,.0f} MB, "
            f"load average {r['load'][0]:.2f} -> {r['load'][1]:.2f}; PLAN.json {r['size_mb']:.0f} MB"
        )
    if results:
        print(results[-1]["summary"])
        walls = sorted(r["wall"] for r in results)
        print(
            f"wall {walls[0]:.1f} - {walls[-1]:.1f} s (target under 12 s), "
            f"peak RSS at most {max(r['rss_mb'] for r in results):,.0f} MB (target under 2,048 MB)"
        )
    if a.compare is not None:
        compare(a, business, output)


def compare(a: argparse.Namespace, business: Path, output: Path) -> None:
    """Run the command with `a.compare`'s code too (this code first, when no run was asked for) and compare."""
    if not a.runs:
        r = run(a.xinye, business, output)
        print(f"this code: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s, peak RSS {r['rss_mb']:,.0f} MB")
    reference = output.with_suffix(".reference.json")
    print(f"reference code: {imported_from(_env(a.compare))}")
    r = run(a.xinye, business, reference, src=a.compare)
    print(f"reference: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s, peak RSS {r['rss_mb']:,.0f} MB")
    if output.read_bytes() == reference.read_bytes():
        print(f"same PLAN.json, byte for byte ({output.stat().st_size:,} bytes)")
        return
    mine, theirs = orjson.loads(output.read_bytes()), orjson.loads(reference.read_bytes())
    for key in sorted(mine.keys() | theirs.keys()):
        same = mine.get(key) == theirs.get(key)
        print(f"{key}: {'same' if same else 'DIFFERENT'}")
    raise SystemExit(f"PLAN.json differs from the reference's ({reference})")


if __name__ == "__main__":
    main()
