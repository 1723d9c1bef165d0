"""Station coverage of the whole country from files, on dask.distributed with Polars and H3 in each partition.

Input: workers in Parquet files (columns ``id``, ``lat``, ``lon`` WGS-84, ``occupation``, ``platform``,
``division`` the 12-digit code of the community they work in), split into any number of files (and row
groups); stations in one CSV or Parquet file (``id``, ``lat``, ``lon``, ``open_24h``). A worker is covered
when a station lies within `radius_m` metres of them by `geo.haversine_m` (the mean Earth radius, boundary
included), the same distance every coverage figure in Xinye uses (`geo.pairs_within`).

Method
------
1. Stations (once, on the client): each station's H3 cell at resolution `RES` (about 0.1 km2) and a grid
   disk around it, wide enough that its outermost ring lies wholly beyond the radius (checked per station:
   a straight path from the station to a point within the radius only crosses neighbouring cells, so it
   cannot leave the disk without crossing that ring). A cell whose every point is within the radius of the
   station (centre distance + the cell's circumradius <= radius) is covered outright; a cell that only
   partly is keeps the station as a candidate for an exact check. 24-hour stations give the same for
   ``covered_24h``.
2. Workers (one task per file or group of row groups): H3 cell of every worker, a hash join on the cell
   table; workers in a cell covered outright are done; the others in a candidate cell are joined with its
   candidate stations and checked with the haversine formula. Each task returns counts by (division,
   occupation) and, for the branch formation, the communities' centres (mean worker position) and the
   members found in it.
3. The counts are summed and written to coverage.csv; branches are formed city by city (the first four digits
   of the division code) with `branches.form_branches`, the same call the community planning makes.

The tables of step 1 are sent once to each dask worker; the workers' files are read where the task runs, so
with ``--scheduler`` every dask worker must see the files at the same path.
"""

from __future__ import annotations

import glob
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import geo
from .errors import InputError, RowError

if TYPE_CHECKING:
    import polars as pl

RES = 9  # H3 resolution of the cells (edge about 174 m)
WORKER_COLUMNS = ("id", "lat", "lon", "occupation", "platform", "division")
STATION_COLUMNS = ("id", "lat", "lon", "open_24h")
ROWS_PER_TASK = 4_000_000
TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "24h"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", ""}


# ------------------------------------------------------------------------------------------------- input


def worker_files(spec: str | os.PathLike) -> list[str]:
    """The Parquet files of `spec`: a directory (every *.parquet under it), a glob or one file."""
    s = str(spec)
    if os.path.isdir(s):
        files = sorted(str(p) for p in Path(s).rglob("*.parquet"))
    elif any(ch in s for ch in "*?["):
        files = sorted(glob.glob(s, recursive=True))
    else:
        files = [s] if os.path.exists(s) else []
    if not files:
        raise InputError([RowError(s, None, None, None, "no Parquet files of workers found there")])
    return files


@dataclass(frozen=True)
class Part:
    """One task: a file's row groups `groups` (None: the whole file), starting at data row `first_row` (0-based)."""

    file: str
    groups: tuple[int, ...] | None
    first_row: int
    rows: int


def plan_parts(files: Sequence[str], rows_per_task: int = ROWS_PER_TASK) -> list[Part]:
    """Split the files into tasks of about `rows_per_task` rows (whole row groups); checks every file's columns."""
    import pyarrow.parquet as pq

    parts: list[Part] = []
    for f in files:
        try:
            meta = pq.ParquetFile(f)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported as such
            raise InputError([RowError(f, None, None, None, f"not a readable Parquet file: {exc}")]) from exc
        names = set(meta.schema_arrow.names)
        missing = [c for c in WORKER_COLUMNS if c not in names]
        if missing:
            raise InputError(
                [RowError(f, None, c, None, f"missing column (has: {', '.join(sorted(names))})") for c in missing]
            )
        start, group, n, first = 0, [], 0, 0
        for g in range(meta.num_row_groups):
            rows = meta.metadata.row_group(g).num_rows
            group.append(g)
            n += rows
            if n >= rows_per_task:
                parts.append(Part(f, tuple(group), first, n))
                first += n
                group, n = [], 0
        if group or not parts or parts[-1].file != f:
            parts.append(Part(f, tuple(group) if group else None, first, n))
        del start
    return parts


def _bool_column(values, file: str):
    """open_24h as booleans: true/false, 1/0, yes/no, 是/否 (case-insensitive); anything else is refused."""
    import polars as pl

    s = values
    if s.dtype == pl.Boolean:
        if s.null_count():
            i = int(s.is_null().arg_true()[0])
            raise InputError([RowError(file, i + 2, "open_24h", None, "empty; give true or false")])
        return s
    if s.dtype.is_integer():
        bad = ~s.is_in([0, 1]) | s.is_null()
        if bad.any():
            i = int(bad.arg_true()[0])
            raise InputError([RowError(file, i + 2, "open_24h", s[i], "not true/false (1/0)")])
        return s == 1
    t = s.cast(pl.String).fill_null("").str.strip_chars().str.to_lowercase()
    bad = ~(t.is_in(list(TRUE_WORDS)) | t.is_in(list(FALSE_WORDS)))
    if bad.any():
        i = int(bad.arg_true()[0])
        raise InputError([RowError(file, i + 2, "open_24h", s[i], "not true/false (yes/no, 1/0)")])
    return t.is_in(list(TRUE_WORDS))


def read_stations(path: str | os.PathLike):
    """Stations as a Polars frame (id, lat, lon, open_24h: bool); bad input raises InputError naming the row
    (1-based, a CSV header being row 1; in Parquet, data rows counted from 2 likewise) and the column."""
    import polars as pl

    p = str(path)
    try:
        if p.lower().endswith((".parquet", ".pq")):
            df = pl.read_parquet(p)
        else:
            df = pl.read_csv(p, infer_schema=False)  # every column as text: checked below
    except FileNotFoundError as exc:
        raise InputError([RowError(p, None, None, None, "no such file")]) from exc
    except Exception as exc:  # noqa: BLE001
        raise InputError([RowError(p, None, None, None, f"not a readable CSV or Parquet file: {exc}")]) from exc
    missing = [c for c in STATION_COLUMNS if c not in df.columns]
    if missing:
        raise InputError([RowError(p, 1, c, None, f"missing column (has: {', '.join(df.columns)})") for c in missing])
    out = {"id": df["id"].cast(pl.String)}
    for col, lim in (("lat", 90.0), ("lon", 180.0)):
        raw = df[col]
        num = (
            raw.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
            if raw.dtype == pl.String
            else (raw.cast(pl.Float64))
        )
        bad = num.is_null() | num.is_nan() | (num.abs() > lim)
        if bad.any():
            i = int(bad.arg_true()[0])
            raise InputError([RowError(p, i + 2, col, raw[i], f"not a {col} in degrees between -{lim:g} and {lim:g}")])
        out[col] = num
    out["open_24h"] = _bool_column(df["open_24h"], p)
    return pl.DataFrame(out)


# ------------------------------------------------------------------------------------- station cell tables


@dataclass
class CellTables:
    """`cells`: cell -> full (covered outright by a station), full24 (by a 24-hour one), check (a candidate
    station partly covers it); `pairs`: cell, s_lat, s_lon, s24 (the candidate stations of each cell)."""

    cells: object
    pairs: object
    radius_m: float
    stats: dict = field(default_factory=dict)


def _circumradius_m(cell: int) -> float:
    import h3

    s = h3.int_to_str(cell)
    c_lat, c_lon = h3.cell_to_latlng(s)
    return max(geo.haversine_m(c_lat, c_lon, a, b) for a, b in h3.cell_to_boundary(s))


def station_tables(stations, radius_m: float, res: int = RES, chunk: int = 20_000) -> CellTables:
    """The cell tables of step 1 (see the module docstring) for a Polars frame of stations."""
    import polars as pl
    import polars_h3 as plh3

    t0 = time.perf_counter()
    st = stations.select("lat", "lon", "open_24h").with_columns(plh3.latlng_to_cell("lat", "lon", res).alias("home"))
    homes = st["home"].unique().to_list()
    # 1 % over the cell's own largest centre-to-vertex distance: neighbouring cells within a few km differ by
    # far less, and great-circle edges bulge by less than a millimetre at this size
    circ = {h: 1.01 * _circumradius_m(h) for h in homes}
    st = st.with_columns(pl.col("home").replace_strict(circ, return_dtype=pl.Float64).alias("e"))
    # the nearest cells of ring k are about 1.5 k edges away (the circumradius of a hexagon is its edge);
    # 10 % margin for distortion, then each station's outermost ring is checked and widened where needed
    st = st.with_columns(((radius_m + pl.col("e")) / (1.35 * pl.col("e") / 1.01)).ceil().cast(pl.Int64).alias("k"))
    st = st.with_row_index("sid")
    while len(st):
        ring = (
            st.select("sid", "lat", "lon", "e", plh3.grid_ring("home", pl.col("k")).alias("cell"))
            .explode("cell")
            .with_columns(
                geo.haversine_m_expr(
                    pl.col("lat"), pl.col("lon"), plh3.cell_to_lat("cell"), plh3.cell_to_lng("cell")
                ).alias("d")
            )
            .group_by("sid")
            .agg((pl.col("d") - pl.col("e")).min().alias("gap"))
        )
        short = ring.filter(pl.col("gap") <= radius_m)["sid"]
        if not len(short):
            break
        st = st.with_columns(pl.when(pl.col("sid").is_in(short.to_list())).then(pl.col("k") + 1).otherwise("k"))
    full_parts, partial_parts, n_disk = [], [], 0
    for lo in range(0, len(st), chunk):
        disk = (
            st.slice(lo, chunk)
            .select("lat", "lon", "open_24h", "e", plh3.grid_disk("home", pl.col("k") - 1).alias("cell"))
            .explode("cell")
            .with_columns(
                geo.haversine_m_expr(
                    pl.col("lat"), pl.col("lon"), plh3.cell_to_lat("cell"), plh3.cell_to_lng("cell")
                ).alias("d")
            )
            .filter(pl.col("d") - pl.col("e") <= radius_m)
            .with_columns((pl.col("d") + pl.col("e") <= radius_m).alias("inside"))
        )
        n_disk += len(disk)
        full_parts.append(
            disk.filter(pl.col("inside"))
            .group_by("cell")
            .agg(pl.lit(True).alias("full"), pl.col("open_24h").any().alias("full24"))
        )
        partial_parts.append(
            disk.filter(~pl.col("inside")).select(
                "cell", pl.col("lat").alias("s_lat"), pl.col("lon").alias("s_lon"), pl.col("open_24h").alias("s24")
            )
        )
        del disk
    empty_full = pl.DataFrame(schema={"cell": pl.UInt64, "full": pl.Boolean, "full24": pl.Boolean})
    empty_partial = pl.DataFrame(
        schema={"cell": pl.UInt64, "s_lat": pl.Float64, "s_lon": pl.Float64, "s24": pl.Boolean}
    )
    full = pl.concat([empty_full, *full_parts]).group_by("cell").agg(pl.col("full").any(), pl.col("full24").any())
    partial = pl.concat([empty_partial, *partial_parts])
    del full_parts, partial_parts
    # a candidate is useful only where the cell is not already covered outright (for its kind)
    partial = (
        partial.join(full, on="cell", how="left")
        .with_columns(pl.col("full").fill_null(False), pl.col("full24").fill_null(False))
        .filter(~pl.col("full") | (pl.col("s24") & ~pl.col("full24")))
        .select("cell", "s_lat", "s_lon", "s24")
        .sort("cell")
    )
    check = partial.select("cell").unique().with_columns(pl.lit(True).alias("check"))
    cells = (
        full.join(check, on="cell", how="full", coalesce=True)
        .with_columns(
            pl.col("full").fill_null(False), pl.col("full24").fill_null(False), pl.col("check").fill_null(False)
        )
        .sort("cell")
    )
    k_max = int(st["k"].max()) - 1 if len(st) else 0
    return CellTables(
        cells=cells,
        pairs=partial,
        radius_m=radius_m,
        stats={
            "stations": len(st),
            "h3_resolution": res,
            "disk_k_max": k_max,
            "disk_cells": n_disk,
            "cells": len(cells),
            "candidate_pairs": len(partial),
            "seconds": round(time.perf_counter() - t0, 2),
        },
    )


# ------------------------------------------------------------------------------------------ worker tasks


def _read_part(part: Part, columns: Sequence[str]):
    import polars as pl
    import pyarrow.parquet as pq

    f = pq.ParquetFile(part.file)
    table = (
        f.read(columns=list(columns))
        if part.groups is None
        else f.read_row_groups(list(part.groups), columns=list(columns))
    )
    return pl.from_arrow(table)


def _where(part: Part, mask) -> int:
    """The 1-based data row (in its file) of the first true value of `mask`."""
    return part.first_row + int(mask.arg_true()[0]) + 1


def validate_workers(df, part: Part):
    """Check lat, lon and division of a frame read from `part`; returns it with division as text and occupation
    without nulls. Errors name the file, the data row (counting from 1) and the value."""
    import polars as pl

    errors = []
    for col, lim in (("lat", 90.0), ("lon", 180.0)):
        s = df[col]
        if not s.dtype.is_numeric():
            errors.append(RowError(part.file, None, col, str(s.dtype), "not a number column"))
            continue
        s = s.cast(pl.Float64)
        bad = s.is_null() | s.is_nan() | (s.abs() > lim)
        if bad.any():
            i = _where(part, bad)
            errors.append(
                RowError(
                    part.file,
                    f"data row {i}",
                    col,
                    s[i - 1 - part.first_row],
                    f"not a {col} in degrees between -{lim:g} and {lim:g}",
                )  # fmt: skip
            )
    d = df["division"]
    if d.dtype.is_integer():
        bad = d.is_null() | (d < 100_000_000_000) | (d > 999_999_999_999)
        text = d.cast(pl.String)
    else:
        text = d.cast(pl.String)
        bad = text.is_null() | ~text.str.contains(r"^[1-9]\d{11}$")
    if bad.any():
        i = _where(part, bad)
        errors.append(
            RowError(
                part.file,
                f"data row {i}",
                "division",
                d[i - 1 - part.first_row],
                "not a 12-digit division code (GB/T 2260 and the statistical codes)",
            )  # fmt: skip
        )
    if errors:
        raise InputError(errors, summary=f"{part.file}: bad workers")
    return df.with_columns(
        pl.col("lat").cast(pl.Float64),
        pl.col("lon").cast(pl.Float64),
        text.alias("division"),
        pl.col("occupation").cast(pl.String).fill_null(""),
    )


def covered_frame(lf, tables: CellTables, res: int = RES):
    """The query on a LazyFrame of workers (lat, lon, division, occupation): adds `covered` and `covered_24h`
    (booleans). Used by every task and, over all the files at once, by the single-process comparison."""
    import polars as pl
    import polars_h3 as plh3

    cells = tables.cells.lazy() if isinstance(tables.cells, pl.DataFrame) else tables.cells
    pairs = tables.pairs.lazy() if isinstance(tables.pairs, pl.DataFrame) else tables.pairs
    w = (
        lf.with_row_index("row")
        .with_columns(plh3.latlng_to_cell("lat", "lon", res).alias("cell"))
        .join(cells, on="cell", how="left")
        .with_columns(
            pl.col("full").fill_null(False), pl.col("full24").fill_null(False), pl.col("check").fill_null(False)
        )
    )
    cand = (
        w.filter(pl.col("check") & ~(pl.col("full") & pl.col("full24")))
        .select("row", "cell", "lat", "lon")
        .join(pairs, on="cell")
        .with_columns(
            (
                geo.haversine_m_expr(pl.col("lat"), pl.col("lon"), pl.col("s_lat"), pl.col("s_lon")) <= tables.radius_m
            ).alias("near")
        )
        .group_by("row")
        .agg(pl.col("near").any().alias("near"), (pl.col("near") & pl.col("s24")).any().alias("near24"))
    )
    return (
        w.join(cand, on="row", how="left")
        .with_columns(
            (pl.col("full") | pl.col("near").fill_null(False)).alias("covered"),
            (pl.col("full24") | pl.col("near24").fill_null(False)).alias("covered_24h"),
        )
        .drop("row", "cell", "full", "full24", "check", "near", "near24")
    )


def summarise(lf):
    """Counts by (division, occupation) with the sums of positions (the communities' centres)."""
    import polars as pl

    return lf.group_by("division", "occupation").agg(
        pl.len().alias("workers"),
        pl.col("covered").sum().alias("covered"),
        pl.col("covered_24h").sum().alias("covered_24h"),
        pl.col("lat").sum().alias("sum_lat"),
        pl.col("lon").sum().alias("sum_lon"),
    )


def run_part(part: Part, tables: CellTables, members=None, member_occupations: Sequence[str] = ()) -> dict:
    """One task: counts of a part and, when `members` (a frame id, status) is given, the members in it."""
    import polars as pl

    cols = ["lat", "lon", "division", "occupation"] + (["id"] if members is not None else [])
    df = validate_workers(_read_part(part, cols), part)
    counts = summarise(covered_frame(df.lazy(), tables)).collect()
    found = None
    if members is not None and len(members):
        ids = df["id"]
        m = members.with_columns(pl.col("id").cast(ids.dtype, strict=False)).drop_nulls("id")
        found = (
            df.filter(pl.col("occupation").is_in(list(member_occupations)))
            .join(m, on="id")
            .select(pl.col("id").cast(pl.String), "division", "occupation", "status")
        )
    return {"counts": counts, "members": found, "rows": len(df)}


# ------------------------------------------------------------------------------------------ the whole batch


@dataclass
class BatchResult:
    coverage: pl.DataFrame  # division, occupation, workers, covered, covered_24h
    centres: pl.DataFrame  # division, lat, lon, workers
    members: pl.DataFrame | None
    stats: dict


def _combine(frames: list):
    import polars as pl

    return (
        pl.concat(frames)
        .group_by("division", "occupation")
        .agg(pl.col("workers", "covered", "covered_24h", "sum_lat", "sum_lon").sum())
    )


def run_batch(
    workers: str | os.PathLike,
    stations: str | os.PathLike,
    *,
    radius_km: float = 1.5,
    client=None,
    members=None,
    member_occupations: Sequence[str] = (),
    rows_per_task: int = ROWS_PER_TASK,
    progress: Callable[[str, int, int], None] = lambda *a: None,
) -> BatchResult:
    """Coverage of every worker in the files; on `client` (a dask.distributed Client) or, without one, in this
    process one part after the other."""
    import polars as pl

    if not (radius_km > 0 and math.isfinite(radius_km)):
        raise InputError([RowError("--radius-km", None, None, radius_km, "a positive number of kilometres")])
    t0 = time.perf_counter()
    files = worker_files(workers)
    parts = plan_parts(files, rows_per_task)
    st = read_stations(stations)
    tables = station_tables(st, 1000.0 * radius_km)
    t1 = time.perf_counter()
    frames, found, rows, done = [], [], 0, 0
    progress("workers", 0, len(parts))

    def take(r: dict) -> None:
        nonlocal rows, done, frames
        frames.append(r["counts"])
        if r["members"] is not None:
            found.append(r["members"])
        rows += r["rows"]
        done += 1
        if len(frames) >= 16:
            frames = [_combine(frames)]
        progress("workers", done, len(parts))

    if client is None:
        for part in parts:
            take(run_part(part, tables, members, member_occupations))
    else:
        from dask.distributed import as_completed

        shared = client.scatter(tables, broadcast=True)
        shared_m = client.scatter(members, broadcast=True) if members is not None else None
        futures = [
            client.submit(run_part, part, shared, shared_m, tuple(member_occupations), key=f"coverage-part-{i}")
            for i, part in enumerate(parts)
        ]
        try:
            for fut in as_completed(futures):
                take(fut.result())
                fut.release()
        finally:
            for fut in futures:
                fut.cancel()
    total = _combine(frames) if frames else None
    if total is None or not len(total):
        total = pl.DataFrame(
            schema={
                "division": pl.String,
                "occupation": pl.String,
                "workers": pl.UInt32,
                "covered": pl.UInt32,
                "covered_24h": pl.UInt32,
                "sum_lat": pl.Float64,
                "sum_lon": pl.Float64,
            }  # fmt: skip
        )
    coverage = total.select(
        "division",
        "occupation",
        pl.col("workers").cast(pl.Int64),
        pl.col("covered").cast(pl.Int64),
        pl.col("covered_24h").cast(pl.Int64),
    ).sort("division", "occupation")
    centres = (
        total.group_by("division")
        .agg(pl.col("workers").sum(), pl.col("sum_lat").sum(), pl.col("sum_lon").sum())
        .select(
            "division",
            (pl.col("sum_lat") / pl.col("workers")).alias("lat"),
            (pl.col("sum_lon") / pl.col("workers")).alias("lon"),
            pl.col("workers").cast(pl.Int64),
        )
        .sort("division")
    )
    mem = pl.concat(found).sort("id") if found else None
    t2 = time.perf_counter()
    return BatchResult(
        coverage=coverage,
        centres=centres,
        members=mem,
        stats={
            "files": len(files),
            "tasks": len(parts),
            "workers": rows,
            "covered": int(coverage["covered"].sum()) if len(coverage) else 0,
            "covered_24h": int(coverage["covered_24h"].sum()) if len(coverage) else 0,
            "radius_m": 1000.0 * radius_km,
            "stations_seconds": round(t1 - t0, 2),
            "workers_seconds": round(t2 - t1, 2),
        }
        | {f"stations_{k}": v for k, v in tables.stats.items() if k != "seconds"},
    )


def single_process(workers: str | os.PathLike, stations: str | os.PathLike, radius_km: float = 1.5):
    """The same query over all the files as one Polars streaming query in this process (no dask, no checks of
    the input beyond Polars' own): the comparison the benchmark prints next to the batch."""
    import polars as pl

    files = worker_files(workers)
    tables = station_tables(read_stations(stations), 1000.0 * radius_km)
    lf = pl.scan_parquet(files).select(
        pl.col("lat").cast(pl.Float64),
        pl.col("lon").cast(pl.Float64),
        pl.col("division").cast(pl.String),
        pl.col("occupation").cast(pl.String).fill_null(""),
    )
    out = summarise(covered_frame(lf, tables)).collect(engine="streaming")
    return out.select(
        "division", "occupation", pl.col("workers").cast(pl.Int64), pl.col("covered").cast(pl.Int64),
        pl.col("covered_24h").cast(pl.Int64),
    ).sort("division", "occupation")  # fmt: skip


# ------------------------------------------------------------------------------------------ branch plans


def read_members(path: str | os.PathLike):
    """Members (id, status formal|probationary) from CSV or Parquet; errors name the row and value."""
    import polars as pl

    p = str(path)
    try:
        df = pl.read_parquet(p) if p.lower().endswith((".parquet", ".pq")) else pl.read_csv(p, infer_schema=False)
    except FileNotFoundError as exc:
        raise InputError([RowError(p, None, None, None, "no such file")]) from exc
    except Exception as exc:  # noqa: BLE001
        raise InputError([RowError(p, None, None, None, f"not a readable CSV or Parquet file: {exc}")]) from exc
    missing = [c for c in ("id", "status") if c not in df.columns]
    if missing:
        raise InputError([RowError(p, 1, c, None, f"missing column (has: {', '.join(df.columns)})") for c in missing])
    status = df["status"].cast(pl.String).str.strip_chars()
    bad = status.is_null() | ~status.is_in(["formal", "probationary"])
    if bad.any():
        i = int(bad.arg_true()[0])
        raise InputError([RowError(p, i + 2, "status", df["status"][i], "formal or probationary")])
    return pl.DataFrame({"id": df["id"].cast(pl.String), "status": status})


def city_inputs(result: BatchResult) -> dict[str, tuple[list, list]]:
    """{city code (4 digits + 8 zeros): (communities, members)} for `branches.form_branches`: each community
    at the mean position of the workers of its division, its street the first 9 digits."""
    from .branches import Community, Member

    out: dict[str, tuple[list, list]] = {}
    if result.members is None or not len(result.members):
        return out
    member_divs = set(result.members["division"].to_list())
    for code, lat, lon, _n in result.centres.iter_rows():
        if code in member_divs:
            out.setdefault(code[:4] + "0" * 8, ([], []))[0].append(Community(code, lat, lon, code[:9] + "000"))
    for mid, code, occ, status in result.members.select("id", "division", "occupation", "status").iter_rows():
        out[code[:4] + "0" * 8][1].append(Member(mid, code, status, occ))
    return out


def plan_city(city: str, communities: list, members: list, params: dict) -> dict:
    from .branches import form_branches

    plan = form_branches(communities, members, **params, files=(f"communities of {city}", f"members of {city}"))
    return {"city": city} | plan.to_json()


def plan_branches(result: BatchResult, params: dict, client=None) -> list[dict]:
    """Branch plans, one per city (in city order), on `client` when given."""
    inputs = city_inputs(result)
    cities = sorted(inputs)
    if client is None:
        return [plan_city(c, *inputs[c], params) for c in cities]
    futures = [client.submit(plan_city, c, *inputs[c], params, key=f"branches-{c}") for c in cities]
    return client.gather(futures)


def write_outputs(out: Path, result: BatchResult, plans: list[dict] | None) -> list[Path]:
    """DIR/coverage.csv; with plans, DIR/branches.csv (one row per branch) and DIR/branches/CITY.json (each
    city's plan as `xinye branches plan` writes it, with the members no branch could take)."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "coverage.csv"]
    from .tabular import csv_writer  # every cell inert: occupations and ids come from the input files

    with open(written[0], "w", newline="", encoding="utf-8") as fh:
        w = csv_writer(fh)
        w.writerow(result.coverage.columns)
        for row in result.coverage.iter_rows():
            w.writerow(row)
    if plans is not None:
        (out / "branches").mkdir(exist_ok=True)
        with open(out / "branches.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv_writer(fh)
            w.writerow(["city", "branch", "anchor", "communities", "members"])
            for p in plans:
                for b in p["branches"]:
                    w.writerow([p["city"], b["id"], b["anchor"], " ".join(b["communities"]), len(b["members"])])
                path = out / "branches" / f"{p['city']}.json"
                path.write_text(json.dumps(p, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(out / "branches.csv")
    return written


def kdtree_counts(lat, lon, s_lat, s_lon, s24, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """covered and covered_24h of each worker by an exact k-d tree count (unit vectors, chord of the radius):
    the reference the tests compare the batch with."""
    from scipy.spatial import cKDTree

    chord = geo.chord_of(radius_m)
    w = geo.unit_vectors(np.asarray(lat), np.asarray(lon))
    s_lat, s_lon, s24 = np.asarray(s_lat), np.asarray(s_lon), np.asarray(s24, bool)
    tree = cKDTree(geo.unit_vectors(s_lat, s_lon))
    cov = np.asarray(tree.query_ball_point(w, chord, return_length=True)) > 0
    if s24.any():
        t24 = cKDTree(geo.unit_vectors(s_lat[s24], s_lon[s24]))
        cov24 = np.asarray(t24.query_ball_point(w, chord, return_length=True)) > 0
    else:
        cov24 = np.zeros(len(w), bool)
    return cov, cov24
