"""Roster import end to end: `xinye people import FILE` of a 100,000-row roster, as a user runs it.

    .venv/bin/python benchmarks/roster_bench.py --rows 100000

Makes a scratch SQLite database (migrate, Shenzhen's divisions, a handful of companies and branches), writes a
seeded roster (CSV in GB18030, Chinese headers: 80 % workers, 20 % members in 50 branches, a quarter with
ID-card numbers), then times, each as a separate process: the dry run, the import, and the same import again
(which changes nothing). Reports wall time and the process's peak memory (ru_maxrss of the child).
Goal (issue 12): under 60 s and under 1 GB for 100,000 rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
XINYE = [sys.executable, "-m", "xinye.cli"]


def run(args: list[str], env: dict) -> tuple[float, float, float, str]:
    """Wall time, CPU time (user + system) and peak memory of `xinye ARGS` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(XINYE + args, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"xinye {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, max(after.ru_maxrss, before.ru_maxrss) / 1024, done.stdout.strip()


def id_card(n: int) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    d = n // 1000  # a distinct birth date for each thousand, so numbers are unique up to 10 million rows
    body = f"440305{1970 + d % 30}{1 + (d // 30) % 12:02d}{1 + (d // 360) % 28:02d}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xinye-roster-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "XINYE_VAR": str(work),
           "PYTHONPATH": str(ROOT / "src"), "XINYE_IMPORT_MAX_ROWS": str(max(100_000, o.rows))}  # fmt: skip
    subprocess.run(XINYE + ["migrate", "-v0"], env=env, check=True)
    subprocess.run(XINYE + ["places", "import", "--city", "4403"], env=env, check=True, capture_output=True)
    setup = (
        "import django; django.setup()\n"
        "from xinye.organizations.models import Company, Organization\n"
        "from xinye.places.models import Division\n"
        "for i, (n, k) in enumerate([('快马外卖', 'food_delivery'), ('美食送', 'food_delivery'), "
        "('顺通速运', 'express'), ('安行出行', 'ride_hailing')]):\n"
        "    Company.objects.create(name=n + '有限公司', short_name=n, kind=k)\n"
        "for i in range(50):\n"
        "    Organization.objects.create(name=f'测试第{i}党支部', kind='branch', anchor_kind='company')\n"
        "print(','.join(Division.objects.filter(level='community', code__startswith='4403')"
        ".values_list('code', flat=True)[:2000]))\n"
    )
    done = subprocess.run([sys.executable, "-c", setup], env={**env, "DJANGO_SETTINGS_MODULE": "xinye.config.settings"},
                          capture_output=True, text=True, check=True)  # fmt: skip
    communities = done.stdout.strip().split(",")
    import random

    rng = random.Random(o.seed)
    path = work / "roster.csv"
    occupations = ["外卖骑手", "快递员", "网约车司机", "货车司机"]
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["姓名", "手机号", "职业", "平台", "工作社区", "政治面貌", "所在党组织", "入党日期", "工会", "身份证号"]
        )
        for i in range(o.rows):
            member = rng.random() < 0.2
            w.writerow([
                f"测试{i}", f"1{rng.choice('3456789')}{i:09d}", rng.choice(occupations),
                ";".join(rng.sample(["快马外卖", "美食送", "顺通速运", "安行出行"], rng.randint(1, 2))),
                rng.choice(communities), rng.choice(["正式党员", "预备党员"]) if member else "群众",
                f"测试第{rng.randrange(50)}党支部" if member else "", "2020-07-01" if member else "",
                "区快递行业工会" if rng.random() < 0.3 else "", id_card(i) if rng.random() < 0.25 else "",
            ])  # fmt: skip
    print(f"roster: {o.rows} rows, {path.stat().st_size / 2**20:.1f} MB (GB18030 CSV)")
    for label, args in [
        ("dry run", ["people", "import", str(path), "--dry-run"]),
        ("import", ["people", "import", str(path)]),
        ("again (changes nothing)", ["people", "import", str(path)]),
    ]:
        wall, cpu, peak_mb, out = run(args, env)
        print(f"{label:26s} {wall:6.1f} s  (CPU {cpu:5.1f} s)  peak {peak_mb:6.0f} MB  | {out}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
