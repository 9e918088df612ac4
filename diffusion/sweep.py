"""Parameter sweeps: one scenario run at every point of a grid, resumable.

A ``[sweep]`` table in a scenario file names scenario keys as dotted strings
and the values to run them at. Either a grid (the cartesian product of the
lists, in the order written, the last key varying fastest)::

    [sweep]
    "cascade.threshold" = [0.1, 0.2, 0.3]
    "network.mean_degree" = [2, 4, 8]

or an explicit list of parameter sets, each setting the same keys::

    [sweep]
    points = [
        { "cascade.threshold" = 0.1, "network.mean_degree" = 4 },
        { "cascade.threshold" = 0.2, "network.mean_degree" = 8 },
    ]

Every point is the scenario with its keys replaced, validated exactly like
the file (a wrong key or a value of the wrong type is an error naming the file
and the key, before anything runs), and run with the scenario's replicates.

Seeding
-------
Point ``i`` runs with ``scenario.seed`` replaced by :func:`point_seed`\\
``(seed, i)``, a 63-bit integer drawn from ``SeedSequence([seed, i])``: each
point has its own independent streams (graph and replicates), the same
whichever executor, worker count or resume history produced it. To rerun
point ``i`` alone, run the scenario with its keys set and that seed (both are
stored in the database).

Storage and resuming
--------------------
:func:`run_sweep` writes ``DIR/sweep.sqlite`` (SQLite, WAL mode) with tables
``meta`` (the scenario and grid, as JSON), ``points`` (one row per point: the
swept keys, the seed, the summary as JSON and its numbers as
``summary.<dotted name>`` columns), ``runs`` (one row per point and replicate:
the ``runs.csv`` columns) and ``curves`` (one row per point and step: the
``curve.csv`` columns). Each point is committed in one transaction as soon as
it completes, so a sweep killed at any moment (even ``kill -9``) and started
again skips the points already stored and ends with the same results as an
uninterrupted run. The stored scenario and grid must match the file, or the
sweep stops with an error. At the end ``DIR/sweep.csv`` (one row per point and
replicate: the swept keys, then the ``runs.csv`` columns) is written
atomically from the database (:func:`write_sweep_csv` regenerates it).

When the database cannot be written (a full disk, a file-size limit, a
read-only directory) the sweep stops with an :class:`OSError` that says so;
the points already committed stay in the database, and the same command
resumes once the cause is removed. Only a file that is not an SQLite
database is reported as "not a sweep database".

Examples
--------
>>> import tempfile
>>> import diffusion
>>> from diffusion.sweep import run_sweep, sweep_records
>>> sc = diffusion.parse_scenario({
...     "scenario": {"name": "demo", "seed": 1, "runs": 3},
...     "network": {"generator": "erdos_renyi", "n": 200, "mean_degree": 4.0},
...     "cascade": {"model": "linear_threshold", "threshold": 0.2, "initial": {"count": 2}},
...     "sweep": {"cascade.threshold": [0.1, 0.3]},
... })
>>> out = tempfile.mkdtemp()
>>> res = run_sweep(sc, out)
>>> res.points, res.completed, res.csv.name
(2, 2, 'sweep.csv')
>>> rows = sweep_records(res.database)
>>> len(rows), list(rows[0])[:3]
(6, ['cascade.threshold', 'run', 'final_fraction'])
>>> run_sweep(sc, out).completed  # everything already stored
0
"""

from __future__ import annotations

import contextlib
import copy
import csv
import errno
import json
import math
import os
import resource
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .errors import DiffusionError, ScenarioError
from .outputs import atomic_write, jsonable
from .scenario import (
    TABLES,
    Scenario,
    TableHandler,
    check_resources,
    load_scenario,
    parse_scenario,
    run_scenario,
)

__all__ = [
    "MAX_POINTS",
    "SWEEP_CSV",
    "SWEEP_DATABASE",
    "SWEEP_TABLE",
    "Sweep",
    "SweepResult",
    "SweepRunner",
    "check_sweep",
    "describe_points",
    "parse_sweep",
    "point_scenario",
    "point_scenarios",
    "point_seed",
    "point_summaries",
    "run_sweep",
    "sweep_points",
    "sweep_records",
    "write_sweep_csv",
]

#: File names inside the output directory.
SWEEP_DATABASE = "sweep.sqlite"
SWEEP_CSV = "sweep.csv"
#: Version of the database layout.
FORMAT = 1

_CORE = ("scenario", "network", "cascade")


# ----------------------------------------------------------------- the [sweep] table
#: Most points a sweep may have (each point is a whole scenario run; a larger grid is a mistake
#: or belongs in several files). Checked from the grid's shape, before any point exists.
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Sweep:
    """A parsed ``[sweep]`` table: its points are computed one at a time, never all at once.

    Attributes
    ----------
    keys : tuple of str
        The swept keys (dotted scenario keys), in column order.
    axes : tuple of tuple
        For a grid: the values of each key, aligned with :attr:`keys` (the
        points are their cartesian product, the last key varying fastest).
        For explicit points: one tuple of values per point.
    kind : {"grid", "points"}
        How the table was written.
    table : Mapping
        The table as written (for writing the scenario back).

    Examples
    --------
    >>> from diffusion.sweep import parse_sweep
    >>> sw = parse_sweep({"cascade.threshold": [0.1, 0.2], "network.mean_degree": [2, 4]})
    >>> len(sw), sw.keys
    (4, ('cascade.threshold', 'network.mean_degree'))
    >>> sw.point(1)
    {'cascade.threshold': 0.1, 'network.mean_degree': 4}
    """

    keys: tuple[str, ...]
    axes: tuple[tuple[Any, ...], ...]
    kind: str
    table: Mapping[str, Any]

    def __len__(self) -> int:
        if self.kind == "points":
            return len(self.axes)
        return math.prod(len(a) for a in self.axes)

    def point(self, index: int) -> dict[str, Any]:
        """The parameter set of point ``index``: ``{dotted key: value}`` (a fresh copy)."""
        if not 0 <= index < len(self):
            raise IndexError(f"sweep point {index} out of range (0..{len(self) - 1})")
        if self.kind == "points":
            row = self.axes[index]
        else:
            picks = []
            for axis in reversed(self.axes):  # mixed radix, the last key varying fastest
                index, j = divmod(index, len(axis))
                picks.append(axis[j])
            row = tuple(reversed(picks))
        return dict(zip(self.keys, copy.deepcopy(row), strict=True))

    def iter_points(self) -> Iterator[dict[str, Any]]:
        """The parameter sets of every point, in order, one at a time."""
        return (self.point(i) for i in range(len(self)))

    def points(self) -> list[dict[str, Any]]:
        """The parameter set of every point (all in memory: prefer :meth:`iter_points`)."""
        return list(self.iter_points())

    @property
    def values(self) -> tuple[tuple[Any, ...], ...]:
        """One tuple of values per point, aligned with :attr:`keys` (all in memory)."""
        return tuple(tuple(p.values()) for p in self.iter_points())

    def to_dict(self) -> dict[str, Any]:
        """The table as written (TOML-ready)."""
        return copy.deepcopy(dict(self.table))


def _flatten(table: Mapping[str, Any], prefix: str, leaf: Callable[[str, Any], bool]) -> Iterator[tuple[str, Any]]:
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping) and not leaf(key, v):
            yield from _flatten(v, key, leaf)
        else:
            yield key, v


def _check_key(key: str, err: Callable[[str, str], ScenarioError]) -> None:
    parts = key.split(".")
    known = (*_CORE, *(t for t in TABLES if t != "sweep"))
    if len(parts) < 2 or not all(p.strip() for p in parts):
        raise err(key, "must be a dotted scenario key such as \"cascade.threshold\"")
    if parts[0] not in known:
        raise err(key, f"unknown table [{parts[0]}] (sweepable: {', '.join(f'[{t}]' for t in known)})")


def parse_sweep(table: Mapping[str, Any], path: str | os.PathLike[str] | None = None) -> Sweep:
    """Check the structure of a ``[sweep]`` table and expand it into points.

    Keys are checked only for form here (a dotted name under a known table);
    every point is validated against the scenario by :func:`point_scenario`.

    Parameters
    ----------
    table : Mapping
        The ``[sweep]`` table: dotted keys with lists of values (a grid), or
        ``points``, a list of tables of dotted keys.
    path : path-like, optional
        The scenario file, for error messages.

    Raises
    ------
    ScenarioError
        An empty grid or list, a value that is not a list, a malformed or
        unknown key, points that do not all set the same keys, more than
        :data:`MAX_POINTS` points.

    Examples
    --------
    >>> from diffusion.sweep import parse_sweep
    >>> parse_sweep({"points": [{"cascade.threshold": 0.1}, {"cascade.threshold": 0.3}]}).values
    ((0.1,), (0.3,))
    >>> parse_sweep({"cascade.threshold": []}, "s.toml")
    Traceback (most recent call last):
    ...
    diffusion.errors.ScenarioError: s.toml: sweep.cascade.threshold: empty list: give at least one value
    """
    where = str(path) if path is not None else None

    def err(key: str | None, msg: str) -> ScenarioError:
        return ScenarioError(msg, path=where, key=f"sweep.{key}" if key else "sweep")

    if not isinstance(table, Mapping):
        raise err(None, f"must be a table, got {type(table).__name__}")
    if not table:
        raise err(None, "empty: give dotted keys with lists of values, or points = [...]")
    if "points" in table:
        if len(table) > 1:
            other = next(k for k in table if k != "points")
            raise err(other, "give either a grid of keys or points = [...], not both")
        pts = table["points"]
        if not isinstance(pts, list) or not pts:
            raise err("points", "must be a non-empty list of tables of dotted keys")
        if len(pts) > MAX_POINTS:
            raise err("points", f"{len(pts):,} points; a sweep has at most {MAX_POINTS:,} "
                      "(split it over several scenario files)")
        rows: list[dict[str, Any]] = []
        for i, p in enumerate(pts):
            if not isinstance(p, Mapping) or not p:
                raise err(f"points[{i}]", "must be a non-empty table of dotted keys and values")
            rows.append(dict(_flatten(p, "", lambda key, _v: "." in key)))
        keys = tuple(rows[0])
        for key in keys:
            _check_key(key, err)
        for i, row in enumerate(rows):
            if set(row) != set(keys):
                diff = sorted(set(row) ^ set(keys))
                raise err(f"points[{i}]", f"sets different keys than points[0] ({', '.join(diff)}); "
                          "every point must set the same keys")
        return Sweep(keys, tuple(tuple(r[k] for k in keys) for r in rows), "points", copy.deepcopy(dict(table)))
    grid = dict(_flatten(table, "", lambda _k, v: False))
    for key, values in grid.items():
        _check_key(key, err)
        if not isinstance(values, list):
            raise err(key, f"must be a list of values, got {type(values).__name__} {values!r}")
        if not values:
            raise err(key, "empty list: give at least one value")
    keys = tuple(grid)
    axes = tuple(tuple(grid[k]) for k in keys)
    total = math.prod(len(a) for a in axes)
    if total > MAX_POINTS:  # from the grid's shape: no point is made
        shape = " x ".join(f"{len(a):,}" for a in axes)
        raise err(None, f"the grid has {shape} = {total:,} points; a sweep has at most {MAX_POINTS:,} "
                  "(split it over several scenario files)")
    return Sweep(keys, axes, "grid", copy.deepcopy(dict(table)))


def _parse_table(table: Mapping[str, Any], ctx: Any) -> Sweep:
    return parse_sweep(table, ctx.path)


#: The ``[sweep]`` scenario table (registered by :mod:`diffusion`).
SWEEP_TABLE = TableHandler(_parse_table, dump=lambda sweep: sweep.to_dict())


# ----------------------------------------------------------------- points
def point_seed(seed: int, index: int) -> int:
    """``scenario.seed`` of sweep point ``index``: 63 bits of ``SeedSequence([seed, index])``.

    Examples
    --------
    >>> from diffusion.sweep import point_seed
    >>> point_seed(7, 0) == point_seed(7, 0) != point_seed(7, 1)
    True
    >>> 0 <= point_seed(7, 3) < 2**63
    True
    """
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def _set(data: dict[str, Any], dotted: str, value: Any, where: str | None) -> None:
    *parents, last = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parents):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ScenarioError(f"cannot set {dotted!r}: {'.'.join(parents[:i + 1])} is not a table",
                                path=where, key=f"sweep.{dotted}")
    node[last] = copy.deepcopy(value)


def _point_data(base: Mapping[str, Any], params: Mapping[str, Any], index: int,
                where: str | None) -> dict[str, Any]:
    data = copy.deepcopy(dict(base))
    data.pop("sweep", None)
    for key, value in params.items():
        _set(data, key, value, where)
    settings = data.get("scenario")
    if isinstance(settings, dict) and isinstance(settings.get("seed"), int) \
            and not isinstance(settings["seed"], bool) and settings["seed"] >= 0:
        settings["seed"] = point_seed(settings["seed"], index)
    return data


def _blame(exc: ScenarioError, params: Mapping[str, Any], index: int, where: str | None) -> ScenarioError:
    """Report a point's error at the swept key that caused it."""
    for key in params:
        if exc.key and (exc.key == key or exc.key.startswith(key + ".") or key.startswith(exc.key + ".")):
            return ScenarioError(f"{exc.reason} (sweep point {index}: {key} = {params[key]!r})",
                                 path=where, key=f"sweep.{key}")
    return ScenarioError(f"{exc.reason} (sweep point {index})", path=where, key=exc.key)


def point_scenario(scenario: Scenario, index: int) -> Scenario:
    """The scenario of sweep point ``index``: its keys set, its seed, no ``[sweep]`` table.

    Raises
    ------
    ScenarioError
        If a swept value is invalid for its key (naming the file and the key).

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.sweep import point_scenario, point_seed
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "demo", "seed": 1, "runs": 3},
    ...     "network": {"generator": "erdos_renyi", "n": 100, "mean_degree": 4.0},
    ...     "cascade": {"model": "linear_threshold", "threshold": 0.2, "initial": {"count": 2}},
    ...     "sweep": {"cascade.threshold": [0.1, 0.3]}})
    >>> p = point_scenario(sc, 1)
    >>> p.cascade.params["threshold"], p.seed == point_seed(1, 1), p.table("sweep")
    (0.3, True, None)
    """
    sweep = _require_sweep(scenario)
    params = sweep.point(index)
    where = str(scenario.path) if scenario.path else None
    data = _point_data(scenario.to_dict(), params, index, where)
    try:
        return parse_scenario(data, path=scenario.path)
    except ScenarioError as exc:
        raise _blame(exc, params, index, where) from None


def point_scenarios(scenario: Scenario) -> Iterator[Scenario]:
    """The scenario of every sweep point, in order, validated one at a time (see :func:`point_scenario`).

    Raises
    ------
    ScenarioError
        No ``[sweep]`` table (at once), or a swept value that is invalid for its key
        (when that point is reached).

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.sweep import point_scenarios
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "demo", "seed": 1},
    ...     "network": {"generator": "erdos_renyi", "n": 100, "mean_degree": 4.0},
    ...     "cascade": {"model": "linear_threshold", "threshold": 0.2, "initial": {"count": 2}},
    ...     "sweep": {"cascade.threshold": [0.1, 0.3]}})
    >>> [p.cascade.params["threshold"] for p in point_scenarios(sc)]
    [0.1, 0.3]
    """
    sweep = _require_sweep(scenario)
    where = str(scenario.path) if scenario.path else None
    base = scenario.to_dict()

    def scenarios() -> Iterator[Scenario]:
        for i, params in enumerate(sweep.iter_points()):
            yield _point(scenario, _point_data(base, params, i, where), params, i)

    return scenarios()


def check_sweep(scenario: Scenario) -> int:
    """Validate every point of the sweep of ``scenario``, one at a time; return their number.

    Each point is parsed like a file and the memory its network needs is
    estimated (:func:`~diffusion.scenario.check_resources`); no point is kept,
    so a large sweep is checked in constant memory.

    Raises
    ------
    ScenarioError
        No ``[sweep]`` table, or a swept value that is invalid for its key
        (naming the file and ``sweep.<key>``).

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.sweep import check_sweep
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "demo", "seed": 1},
    ...     "network": {"generator": "erdos_renyi", "n": 100, "mean_degree": 4.0},
    ...     "cascade": {"model": "linear_threshold", "threshold": 0.2, "initial": {"count": 2}},
    ...     "sweep": {"cascade.threshold": [0.1, 2.0]}})
    >>> check_sweep(sc)
    Traceback (most recent call last):
    ...
    diffusion.errors.ScenarioError: sweep.cascade.threshold: must be <= 1.0, got 2.0 (sweep point 1: cascade.threshold = 2.0)
    """
    sweep = _require_sweep(scenario)
    where = str(scenario.path) if scenario.path else None
    for i, point in enumerate(point_scenarios(scenario)):
        try:
            check_resources(point)
        except ScenarioError as exc:
            raise _blame(exc, sweep.point(i), i, where) from None
    return len(sweep)


def _point(scenario: Scenario, data: Mapping[str, Any], params: Mapping[str, Any], index: int) -> Scenario:
    where = str(scenario.path) if scenario.path else None
    try:
        return parse_scenario(data, path=scenario.path)
    except ScenarioError as exc:
        raise _blame(exc, params, index, where) from None


def _require_sweep(scenario: Scenario) -> Sweep:
    sweep = scenario.table("sweep")
    if sweep is None:
        where = f"{scenario.path}: " if scenario.path else ""
        raise ScenarioError(f"{where}no [sweep] table: nothing to sweep")
    return sweep


@dataclass(frozen=True)
class PointResult:
    """What one sweep point produced (returned by workers, stored in the database)."""

    index: int
    summary: dict[str, Any]
    runs: list[dict[str, Any]]
    curve: list[dict[str, Any]]


def _run_point(data: Mapping[str, Any], path: str | None, index: int, params: Mapping[str, Any],
               map_chunks: Callable[..., Any] | None = None) -> PointResult:
    """Run one point (in this process or in a worker); ``data`` is its scenario mapping."""
    try:
        scenario = parse_scenario(data, path=path)
        res = run_scenario(scenario, keep="summary", map_chunks=map_chunks)
    except ScenarioError as exc:
        raise _blame(exc, params, index, path) from None
    return PointResult(index, jsonable(res.summary), jsonable(res.runs), jsonable(res.curve))


# ----------------------------------------------------------------- storage
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(obj: Any) -> str:
    return json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"), default=str)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def _numbers(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _numbers(v, f"{prefix}.{k}")
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield prefix, obj


def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k, ...) != b.get(k, ...):
                return _first_difference(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k)
    return prefix or "(top level)"


# primary SQLite result codes (https://sqlite.org/rescode.html)
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26
#: Free space below which a failed write is put down to a full disk.
_NEARLY_FULL = 1 << 20


def _write_failure(path: Path) -> tuple[str, str]:
    """Why writing next to ``path`` failed, as far as can be told, and what to do about it."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    if free is not None and free < _NEARLY_FULL:
        return f"the disk is full ({free:,} bytes free)", "free some space"
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:
        sizes = [p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()]
        if max(sizes, default=0) + _NEARLY_FULL >= limit:
            return (f"the file-size limit of this process (ulimit -f, {limit:,} bytes) is reached",
                    "raise the limit")
    return "disk I/O error (is the disk full?)", "free some space"


def _storage_error(path: Path, exc: sqlite3.Error, stored: int | None = None) -> Exception:
    """The error to raise for an SQLite failure on the sweep database ``path``.

    Only a file that is not a database blames the input (``--out``); a write
    that fails (full disk, file-size limit, permissions, another writer) is an
    :class:`OSError` that says so, and that the stored points are kept.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return DiffusionError(f"{path}: not a sweep database ({exc})")
    kept = "" if not stored else ("; the point stored so far is kept" if stored == 1
                                  else f"; the {stored} points stored so far are kept")
    if primary in (_SQLITE_FULL, _SQLITE_IOERR):
        why, remedy = _write_failure(path)
        return OSError(errno.ENOSPC, f"cannot write the sweep database: {why}{kept}; {remedy} and run the "
                       "same command again to resume", str(path))
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return OSError(errno.EBUSY, f"the sweep database is locked by another program ({exc}){kept}", str(path))
    if primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM):
        return OSError(errno.EACCES, f"cannot write the sweep database ({exc}){kept}", str(path))
    return DiffusionError(f"{path}: cannot use the sweep database ({exc}){kept}")


class _Store:
    """The sweep database: one connection, explicit transactions."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        except sqlite3.DatabaseError as exc:
            raise _storage_error(path, exc) from None
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise _storage_error(path, exc) from None

    def close(self) -> None:
        self.conn.close()

    def _columns(self, table: str) -> list[str]:
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info({_q(table)})")]

    def _ensure(self, table: str, names: Iterable[str]) -> None:
        have = set(self._columns(table))
        for name in names:
            if name not in have:
                self.conn.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(name)}")
                have.add(name)

    def open(self, meta: dict[str, str], keys: Sequence[str], scenario_path: str | None) -> None:
        """Create the tables, or check that the stored metadata matches ``meta``."""
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            c.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            stored = dict(c.execute("SELECT key, value FROM meta").fetchall())
            if not stored:
                c.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
                c.execute("CREATE TABLE points (point INTEGER PRIMARY KEY, seed INTEGER NOT NULL, "
                          "params TEXT NOT NULL, summary TEXT NOT NULL, run_columns TEXT NOT NULL, "
                          "curve_columns TEXT NOT NULL)")
                self._ensure("points", keys)
                c.execute("CREATE TABLE runs (point INTEGER NOT NULL, run INTEGER NOT NULL, "
                          "PRIMARY KEY (point, run))")
                c.execute("CREATE TABLE curves (point INTEGER NOT NULL, step INTEGER NOT NULL, "
                          "PRIMARY KEY (point, step))")
            c.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise _storage_error(self.path, exc) from None
        if stored:
            self._check(stored, meta, scenario_path)

    def _check(self, stored: dict[str, str], meta: dict[str, str], scenario_path: str | None) -> None:
        where = f"{scenario_path}: " if scenario_path else ""
        if stored.get("format") != meta["format"]:
            raise DiffusionError(f"{where}{self.path} was written in another format "
                                 f"({stored.get('format')}); use a new output directory")
        for key, what in (("scenario", "scenario"), ("points", "[sweep] points")):
            if stored.get(key) != meta[key]:
                detail = ""
                if key == "scenario":
                    detail = " (first difference at " + _first_difference(
                        json.loads(stored.get(key) or "{}"), json.loads(meta[key])) + ")"
                raise DiffusionError(
                    f"{where}{self.path} holds a sweep of a different {what}{detail}; "
                    "use another --out directory, or delete it to start over")

    def completed(self) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT point FROM points")}

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # what failed may fail again: the file is intact
                self.conn.execute("ROLLBACK")

    def add(self, res: PointResult, seed: int, params: Mapping[str, Any]) -> bool:
        """Store a completed point in one transaction; False if it was already there."""
        try:
            return self._add(res, seed, params)
        except sqlite3.DatabaseError as exc:
            try:
                stored: int | None = len(self.completed())
            except sqlite3.Error:
                stored = None
            raise _storage_error(self.path, exc, stored) from None

    def _add(self, res: PointResult, seed: int, params: Mapping[str, Any]) -> bool:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            if c.execute("SELECT 1 FROM points WHERE point = ?", (res.index,)).fetchone():
                c.execute("ROLLBACK")
                return False
            numbers = dict(_numbers(res.summary, "summary"))
            run_cols = list(dict.fromkeys(k for r in res.runs for k in r))
            curve_cols = list(dict.fromkeys(k for r in res.curve for k in r))
            self._ensure("points", numbers)
            self._ensure("runs", run_cols)
            self._ensure("curves", curve_cols)
            row = {"point": res.index, "seed": seed, "params": json.dumps(jsonable(params)),
                   "summary": json.dumps(res.summary), "run_columns": json.dumps(run_cols),
                   "curve_columns": json.dumps(curve_cols)}
            row.update({k: _cell(v) for k, v in params.items()})
            row.update(numbers)
            self._insert("points", [row])
            self._insert("runs", [{"point": res.index, **{k: _cell(v) for k, v in r.items()}}
                                  for r in res.runs])
            self._insert("curves", [{"point": res.index, **{k: _cell(v) for k, v in r.items()}}
                                    for r in res.curve])
            c.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        return True

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = list(dict.fromkeys(k for r in rows for k in r))
        sql = (f"INSERT INTO {_q(table)} ({', '.join(map(_q, cols))}) "
               f"VALUES ({', '.join('?' * len(cols))})")
        self.conn.executemany(sql, [[r.get(k) for k in cols] for r in rows])


# ----------------------------------------------------------------- reading back
def _connect_ro(database: str | os.PathLike[str]) -> sqlite3.Connection:
    p = Path(database)
    if p.is_dir():
        p = p / SWEEP_DATABASE
    if not p.is_file():
        raise DiffusionError(f"{p}: no such sweep database")
    return sqlite3.connect(f"file:{p}?mode=ro", uri=True)


def _sweep_rows(conn: sqlite3.Connection) -> tuple[list[str], Iterator[list[Any]]]:
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    keys: list[str] = json.loads(meta["keys"])
    points = conn.execute("SELECT point, params, run_columns FROM points ORDER BY point").fetchall()
    params = {p: json.loads(pp) for p, pp, _ in points}
    run_cols = list(dict.fromkeys(c for _, _, rc in points for c in json.loads(rc)))
    header = keys + run_cols

    def rows() -> Iterator[list[Any]]:
        sel = ", ".join(_q(c) for c in ["point", *run_cols])
        for point, *values in conn.execute(f"SELECT {sel} FROM runs ORDER BY point, run"):
            yield [params[point].get(k) for k in keys] + values

    return header, rows()


def sweep_records(database: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of ``sweep.csv`` as dicts (swept keys, then the ``runs.csv`` columns).

    ``database`` is ``sweep.sqlite`` or the directory holding it. Points not
    yet completed are absent.
    """
    conn = _connect_ro(database)
    try:
        header, rows = _sweep_rows(conn)
        return [dict(zip(header, r, strict=True)) for r in rows]
    finally:
        conn.close()


def point_summaries(database: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One dict per completed point: ``point``, ``seed``, ``params`` and ``summary``."""
    conn = _connect_ro(database)
    try:
        return [{"point": p, "seed": s, "params": json.loads(pp), "summary": json.loads(sm)}
                for p, s, pp, sm in conn.execute("SELECT point, seed, params, summary FROM points "
                                                 "ORDER BY point")]
    finally:
        conn.close()


def sweep_points(database: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The swept keys and one record per completed point of a sweep database.

    Each record has the swept keys' values, ``point``, ``runs``,
    ``mean_final`` (mean final share adopted over the point's replicates),
    ``median_final`` and ``global_share`` (share of its replicates whose
    adoption reached 50 %).
    """
    rows = point_summaries(database)
    keys = list(rows[0]["params"]) if rows else []
    out = []
    for row in rows:
        casc = row["summary"]["cascade"]
        ff = casc["final_fraction"]
        reach = (casc.get("time_to") or {}).get("50%", {}).get("reached")
        out.append({**row["params"], "point": row["point"], "runs": row["summary"].get("runs"),
                    "mean_final": ff["mean"], "median_final": ff["q50"],
                    "global_share": float("nan") if reach is None else reach})
    return keys, out


def describe_points(keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The table ``diffusion sweep`` prints: one line per point, columns aligned.

    Examples
    --------
    >>> rows = [{"z": 1.0, "mean_final": 0.001, "median_final": 0.0, "global_share": 0.0},
    ...         {"z": 4.0, "mean_final": 0.84, "median_final": 0.98, "global_share": 0.86}]
    >>> print("\\n".join(describe_points(["z"], rows)))
      z  mean final share  median final share  runs reaching 50 %
    1.0             0.1 %               0.0 %                 0 %
    4.0            84.0 %              98.0 %                86 %
    """
    head = [*keys, "mean final share", "median final share", "runs reaching 50 %"]
    table = [[str(r[k]) for k in keys] + [f"{100 * r['mean_final']:.1f} %", f"{100 * r['median_final']:.1f} %",
                                          "n/a" if r["global_share"] != r["global_share"]
                                          else f"{100 * r['global_share']:.0f} %"] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(head)]
    return ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in [head, *table]]


def _csv_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def write_sweep_csv(database: str | os.PathLike[str], path: str | os.PathLike[str] | None = None) -> Path:
    """(Re)write ``sweep.csv`` atomically from the database; returns its path.

    Rows are ordered by point, then replicate, so the file depends only on the
    stored results, not on the order in which points completed.
    """
    db = Path(database)
    out = Path(path) if path is not None else (db if db.is_dir() else db.parent) / SWEEP_CSV
    conn = _connect_ro(database)
    try:
        header, rows = _sweep_rows(conn)
        with atomic_write(out, newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([_csv_cell(v) for v in row])
    finally:
        conn.close()
    return out


# ----------------------------------------------------------------- running
@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    out_dir : Path
        The output directory.
    database, csv : Path
        ``sweep.sqlite`` and ``sweep.csv``.
    points : int
        Number of points in the sweep.
    completed : int
        Points run by this call (the others were already stored).
    """

    out_dir: Path
    database: Path
    csv: Path
    points: int
    completed: int


class SweepRunner:
    """A sweep bound to an output directory: validated, opened, ready to run.

    Creating it validates every point, opens (or creates) the database and
    checks it belongs to this scenario; :attr:`pending` lists the points still
    to run. :func:`run_sweep` is the one-call form.

    Parameters
    ----------
    scenario : Scenario or path-like
        A scenario with a ``[sweep]`` table, or its file.
    out_dir : path-like
        Where ``sweep.sqlite`` and ``sweep.csv`` go (created if needed).
    """

    def __init__(self, scenario: Scenario | str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        self.sweep = _require_sweep(scenario)
        self.where = str(scenario.path) if scenario.path else None
        self._base = scenario.to_dict()
        check_sweep(scenario)  # every point, before anything is written
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise DiffusionError(f"{self.out_dir}: not a directory")
        meta = {
            "format": str(FORMAT),
            "scenario": _canonical({k: v for k, v in self._base.items() if k != "sweep"}),
            "keys": json.dumps(list(self.sweep.keys)),
            # the canonical JSON list of every point's parameters, built one point at a time
            "points": "[" + ",".join(_canonical(p) for p in self.sweep.iter_points()) + "]",
            "version": __version__,
        }
        self.store = _Store(self.out_dir / SWEEP_DATABASE)
        try:
            self.store.open(meta, self.sweep.keys, self.where)
            done = self.store.completed()
        except BaseException:
            self.store.close()
            raise
        self.pending = [i for i in range(len(self.sweep)) if i not in done]

    @property
    def total(self) -> int:
        """Number of points in the sweep."""
        return len(self.sweep)

    def _task(self, index: int) -> tuple[dict[str, Any], str | None, int, dict[str, Any]]:
        params = self.sweep.point(index)
        return _point_data(self._base, params, index, self.where), self.where, index, params

    def close(self) -> None:
        """Close the database (:meth:`run` does it when it finishes)."""
        self.store.close()

    def __enter__(self) -> SweepRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, executor: Callable[..., Iterable[Any]] | None = None,
            progress: Callable[[int], None] | None = None) -> SweepResult:
        """Run the pending points, storing each as it completes; then write ``sweep.csv``.

        Parameters
        ----------
        executor : callable, optional
            A ``map_chunks`` executor (see :mod:`diffusion.parallel`). With at
            least two pending points per worker, whole points run in parallel;
            otherwise points run one after another, each one's replicates
            spread over the workers. Default: serially in this process.
        progress : callable, optional
            Called with 1 after each stored point.
        """
        workers = int(getattr(executor, "workers", 1)) if executor is not None else 1
        completed = 0
        try:
            if executor is not None and workers > 1 and len(self.pending) >= 2 * workers:
                results: Iterable[PointResult] = executor(_run_point, (self._task(i) for i in self.pending))
            else:
                results = (_run_point(*self._task(i), executor) for i in self.pending)
            for res in results:
                data, _, _, params = self._task(res.index)
                if self.store.add(res, int(data["scenario"]["seed"]), params):
                    completed += 1
                if progress is not None:
                    progress(1)
            self.pending = sorted(set(self.pending) - self.store.completed())
            # a finished database is one self-contained file (no -wal / -shm next to it),
            # unless another program is reading it right now
            with contextlib.suppress(sqlite3.OperationalError):
                self.store.conn.execute("PRAGMA journal_mode=DELETE")
            try:
                csv_path = write_sweep_csv(self.store.path)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                    raise
                why, remedy = _write_failure(self.store.path)
                raise OSError(exc.errno, f"cannot write {SWEEP_CSV}: {why}; every point is stored in "
                              f"{self.store.path.name}: {remedy} and run the same command again to write it",
                              str(self.out_dir / SWEEP_CSV)) from None
        finally:
            self.store.close()
        return SweepResult(self.out_dir, self.store.path, csv_path, self.total, completed)


def run_sweep(scenario: Scenario | str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
              executor: Callable[..., Iterable[Any]] | None = None,
              progress: Callable[[int], None] | None = None) -> SweepResult:
    """Run (or resume) the sweep of ``scenario`` into ``out_dir``.

    Parameters
    ----------
    scenario : Scenario or path-like
        A scenario with a ``[sweep]`` table, or its file.
    out_dir : path-like
        Output directory: ``sweep.sqlite`` (results, written point by point)
        and ``sweep.csv`` (written at the end).
    executor : callable, optional
        Where points run (see :mod:`diffusion.parallel`); results do not
        depend on it.
    progress : callable, optional
        Called with 1 after each completed point.

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        No ``[sweep]`` table, or a swept value that is invalid for its key.
    DiffusionError
        ``out_dir`` holds the sweep of a different scenario or grid.
    """
    return SweepRunner(scenario, out_dir).run(executor=executor, progress=progress)
