"""Adoption tables: who adopted when, read from and written to ``id,step`` CSV files.

An adoption table lists every firm of a network with the step at which it
adopted::

    id,step
    0,3
    1,
    2,-1
    3,0

An empty cell or ``-1`` means the firm had not adopted by the end of the
observation (it is right-censored at the last observed step); step ``0``
marks the firms that had adopted before the first observed step (initial
adopters: the likelihood conditions on them). Instead of steps a table may
give calendar dates (``id,date`` with ISO dates ``YYYY-MM-DD``) and a
*period*: ``"day"``, ``"week"``, ``"month"``, ``"quarter"``, ``"year"`` or a
number of days. Step 1 is the period that starts at ``origin`` (default: the
earliest date); a date before ``origin`` is step 0.

:func:`adoption_table` turns one replicate of a simulation into such a table,
so a simulated population can be written out (``diffusion run --adoptions``)
and fed back to the estimators.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..outputs import atomic_write

__all__ = [
    "PERIODS",
    "AdoptionCurve",
    "AdoptionData",
    "adoption_table",
    "read_adoption_curve",
    "read_adoptions",
    "write_adoptions",
]

#: Named period lengths: (unit, count) with unit "D" (days) or "M" (calendar months).
PERIODS: dict[str, tuple[str, int]] = {
    "day": ("D", 1),
    "week": ("D", 7),
    "month": ("M", 1),
    "quarter": ("M", 3),
    "year": ("M", 12),
}

_NEVER = ("", "-1", "na", "nan", "none", "never")


@dataclass(frozen=True)
class AdoptionData:
    """Adoption steps of every firm of a network, in the network's node order.

    Attributes
    ----------
    steps : ndarray of int64, shape (n,)
        Step at which each firm adopted (0: before the first observed step),
        ``-1`` if it had not adopted by :attr:`last_step`.
    last_step : int
        The last observed step ``T``; firms that never adopted are censored there.
    source : str or None
        The file the table came from (for messages).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.calibration import AdoptionData
    >>> d = AdoptionData(np.array([0, 2, -1, 5]), last_step=6)
    >>> d.adopters, d.curve().tolist()
    (3, [1, 1, 2, 2, 2, 3, 3])
    """

    steps: np.ndarray
    last_step: int
    source: str | None = None

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps, dtype=np.int64)
        if steps.ndim != 1:
            raise ParameterError("steps", "must be one step per firm")
        if steps.size and steps.min() < -1:
            raise ParameterError("steps", "must be >= 0, or -1 for firms that never adopted")
        if isinstance(self.last_step, bool) or int(self.last_step) != self.last_step \
                or self.last_step < 0:
            raise ParameterError("last_step", f"must be a non-negative integer, got {self.last_step!r}")
        if steps.size and steps.max() > self.last_step:
            raise ParameterError("last_step", f"a firm adopted at step {int(steps.max())}, after the "
                                 f"last observed step {self.last_step}")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "last_step", int(self.last_step))

    @property
    def n(self) -> int:
        """Number of firms."""
        return int(self.steps.size)

    @property
    def adopters(self) -> int:
        """Number of firms that adopted (initial adopters included)."""
        return int(np.count_nonzero(self.steps >= 0))

    def curve(self) -> np.ndarray:
        """Cumulative number of adopters after steps ``0 .. last_step``."""
        adopted = self.steps[self.steps >= 0]
        return np.cumsum(np.bincount(adopted, minlength=self.last_step + 1)).astype(np.int64)


@dataclass(frozen=True)
class AdoptionCurve:
    """An observed aggregate adoption curve (and final platform shares, if any).

    Attributes
    ----------
    fraction : ndarray, shape (T + 1,)
        Fraction of the firms that have adopted after steps ``0 .. T``.
    shares : ndarray or None
        Final platform shares, sorted from the largest (platform competition).
    source : str or None
        The file it came from.
    """

    fraction: np.ndarray
    shares: np.ndarray | None = None
    source: str | None = None

    @property
    def last_step(self) -> int:
        return int(self.fraction.size - 1)


def _fail(path: str, line: int | None, message: str) -> DiffusionError:
    where = f"{path}: line {line}: " if line is not None else f"{path}: "
    return DiffusionError(where + message)


def _read_rows(path: str | os.PathLike[str]) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    where = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [(i + 1, r) for i, r in enumerate(csv.reader(fh))]
    except FileNotFoundError:
        raise DiffusionError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise DiffusionError(f"{where}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise DiffusionError(f"{where}: not UTF-8 text") from None
    except (OSError, csv.Error) as exc:
        raise DiffusionError(f"{where}: cannot read: {exc}") from None
    rows = [(i, r) for i, r in rows if r and any(c.strip() for c in r)]
    if not rows:
        raise DiffusionError(f"{where}: empty file (expected a header row id,step)")
    header = [h.strip().lower() for h in rows[0][1]]
    return where, header, rows[1:]


def _period(period: Any) -> tuple[str, int]:
    if isinstance(period, str) and period in PERIODS:
        return PERIODS[period]
    if isinstance(period, int) and not isinstance(period, bool) and period >= 1:
        return "D", int(period)
    raise ParameterError("period", f"must be one of {', '.join(PERIODS)} or a number of days >= 1, "
                         f"got {period!r}")


def _steps_from_dates(where: str, lines: np.ndarray, cells: list[str], period: Any,
                      origin: Any) -> np.ndarray:
    unit, count = _period(period)
    never = np.array([c.strip().lower() in _NEVER for c in cells])
    dates = np.empty(len(cells), dtype="datetime64[D]")
    for k, (line, cell) in enumerate(zip(lines.tolist(), cells, strict=True)):
        if never[k]:
            continue
        try:
            dates[k] = np.datetime64(cell.strip(), "D")
        except ValueError:
            raise _fail(where, line, f"date {cell.strip()!r} is not an ISO date (YYYY-MM-DD)") from None
    seen = dates[~never]
    if origin is None:
        if seen.size == 0:
            return np.full(len(cells), -1, dtype=np.int64)
        start = seen.min()
    else:
        try:
            start = np.datetime64(str(origin), "D")
        except ValueError:
            raise ParameterError("origin", f"must be an ISO date (YYYY-MM-DD), got {origin!r}") from None
    if unit == "D":
        elapsed = (dates - start).astype(np.int64)
    else:
        months = (dates.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64)
        day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
        day0 = int((start - start.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64))
        elapsed = months - (day < day0)
    steps = np.where(elapsed < 0, 0, np.floor_divide(elapsed, count) + 1)
    steps[never] = -1
    return steps.astype(np.int64)


def _steps_from_cells(where: str, lines: np.ndarray, cells: list[str]) -> np.ndarray:
    steps = np.empty(len(cells), dtype=np.int64)
    for k, (line, cell) in enumerate(zip(lines.tolist(), cells, strict=True)):
        text = cell.strip()
        if text.lower() in _NEVER:
            steps[k] = -1
            continue
        try:
            value = int(text)
        except ValueError:
            raise _fail(where, line, f"step {text!r} is not an integer (use an empty cell or -1 "
                        "for a firm that never adopted)") from None
        if value < -1:
            raise _fail(where, line, f"step {value} is negative (use -1 or an empty cell for a "
                        "firm that never adopted)")
        steps[k] = value
    return steps


def _match_ids(where: str, network: Network, lines: np.ndarray, ids: list[str]) -> np.ndarray:
    """Node index of every id (vectorized lookup by sorting); errors name the line."""
    node_ids = np.asarray(network.node_ids)
    if node_ids.dtype.kind in "iu":
        try:
            keys = np.array([int(s) for s in ids], dtype=np.int64)
        except ValueError:
            bad = next(k for k, s in enumerate(ids) if not s.strip().lstrip("+-").isdigit())
            raise _fail(where, int(lines[bad]), f"firm {ids[bad]!r} is not in the network "
                        "(its ids are integers)") from None
        ref = node_ids.astype(np.int64)
    else:
        keys = np.array(ids, dtype=str)
        ref = node_ids.astype(str)
    order = np.argsort(ref, kind="stable")
    pos = np.searchsorted(ref[order], keys)
    pos = np.minimum(pos, len(ref) - 1)
    idx = order[pos]
    found = ref[idx] == keys
    if not found.all():
        bad = int(np.argmin(found))
        raise _fail(where, int(lines[bad]), f"firm {ids[bad]!r} is not in the network")
    return idx.astype(np.int64)


def read_adoptions(
    path: str | os.PathLike[str],
    network: Network,
    *,
    period: Any = None,
    origin: Any = None,
    last_step: int | None = None,
    missing: str = "error",
) -> AdoptionData:
    """Read an adoption table (``id,step`` or ``id,date``) for the firms of ``network``.

    Parameters
    ----------
    path : path-like
        CSV file with a header row: an ``id`` column and a ``step`` column
        (integers; empty or ``-1`` = never adopted) or a ``date`` column (ISO
        dates; then ``period`` is required).
    network : Network
        The firms; every id must be one of its node ids.
    period : str or int, optional
        Period length for dates: ``"day"``, ``"week"``, ``"month"``,
        ``"quarter"``, ``"year"`` or a number of days.
    origin : str, optional
        First day of step 1 for dates (default: the earliest date). Earlier
        dates are step 0 (adopted before the observation began).
    last_step : int, optional
        The last observed step ``T`` (default: the largest step in the table).
        Firms that never adopted are censored at ``T``.
    missing : {"error", "never"}, default "error"
        What a firm of the network absent from the table means: an error, or
        a firm that never adopted.

    Returns
    -------
    AdoptionData

    Raises
    ------
    DiffusionError
        Naming the file and the line: an unknown or repeated firm id, a step
        that is not an integer, a malformed date, a step after ``last_step``,
        firms of the network missing from the table (with ``missing="error"``).

    Examples
    --------
    >>> import os, tempfile
    >>> import diffusion
    >>> from diffusion.calibration import read_adoptions
    >>> net = diffusion.generators.complete_graph(4)
    >>> path = os.path.join(tempfile.mkdtemp(), "adoptions.csv")
    >>> _ = open(path, "w").write("id,step\\n0,0\\n1,2\\n2,\\n3,-1\\n")
    >>> read_adoptions(path, net).steps.tolist()
    [0, 2, -1, -1]
    >>> _ = open(path, "w").write("id,date\\n0,2024-01-15\\n1,2024-03-02\\n2,\\n3,2023-12-31\\n")
    >>> read_adoptions(path, net, period="month", origin="2024-01-01").steps.tolist()
    [1, 3, -1, 0]
    """
    if missing not in ("error", "never"):
        raise ParameterError("missing", f"must be 'error' or 'never', got {missing!r}")
    where, header, rows = _read_rows(path)
    if "id" not in header:
        raise _fail(where, 1, f"no 'id' column in the header ({', '.join(header)})")
    has_step, has_date = "step" in header, "date" in header
    if has_step == has_date:
        raise _fail(where, 1, "the header needs one 'step' column (or one 'date' column with a "
                    f"period), got: {', '.join(header)}")
    col_id = header.index("id")
    col_t = header.index("step" if has_step else "date")
    width = max(col_id, col_t) + 1
    for line, r in rows:
        if len(r) < width:
            raise _fail(where, line, f"expected at least {width} columns, got {len(r)}")
    lines = np.array([line for line, _ in rows], dtype=np.int64)
    ids = [r[col_id].strip() for _, r in rows]
    cells = [r[col_t] for _, r in rows]
    if has_date:
        if period is None:
            raise _fail(where, 1, "a 'date' column needs a period (day, week, month, quarter, "
                        "year or a number of days)")
        steps = _steps_from_dates(where, lines, cells, period, origin)
    else:
        if period is not None or origin is not None:
            raise ParameterError("period", "only used with a 'date' column")
        steps = _steps_from_cells(where, lines, cells)
    idx = _match_ids(where, network, lines, ids) if rows else np.empty(0, dtype=np.int64)
    order = np.argsort(idx, kind="stable")
    dup = np.nonzero(np.diff(idx[order]) == 0)[0]
    if dup.size:
        first, again = order[dup[0]], order[dup[0] + 1]
        raise _fail(where, int(lines[again]), f"firm {ids[again]!r} is listed twice (first on "
                    f"line {int(lines[first])})")
    out = np.full(network.n, -1, dtype=np.int64)
    out[idx] = steps
    top = int(out.max()) if out.size else -1
    if last_step is None:
        last_step = max(top, 0)
    elif isinstance(last_step, bool) or not isinstance(last_step, int | np.integer) or last_step < 0:
        raise ParameterError("last_step", f"must be a non-negative integer, got {last_step!r}")
    elif top > last_step:
        k = int(np.argmax(steps))
        raise _fail(where, int(lines[k]), f"step {top} is after the last observed step {last_step}")
    if idx.size < network.n and missing == "error":
        listed = np.zeros(network.n, dtype=bool)
        listed[idx] = True
        absent = np.nonzero(~listed)[0]
        raise _fail(where, None, f"{absent.size} of the network's {network.n} firms are not in the "
                    f"table (first: {network.node_ids[absent[0]]!r}); list every firm (an empty "
                    "step for those that never adopted), or treat absent firms as never adopting "
                    "(missing = \"never\")")
    return AdoptionData(out, int(last_step), where)


def adoption_table(result: Any, replicate: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adoption table of one replicate of a simulation: ``(ids, steps)``.

    Parameters
    ----------
    result : SimulationResult
        What :func:`diffusion.simulate` returned; the replicate's per-node arrays must have
        been kept (``keep="replicates"``, the default, or ``keep=[replicate, ...]``).
    replicate : int, default 0
        Which replicate.

    Returns
    -------
    ids : ndarray
        The firms' node ids, in network order.
    steps : ndarray of int64
        Step at which each firm adopted (0: initial adopter), ``-1`` never.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.calibration import adoption_table
    >>> net = diffusion.generators.erdos_renyi(50, mean_degree=4, seed=1)
    >>> res = diffusion.simulate(net, diffusion.Isomorphic(external=0.05), runs=2, seed=3,
    ...                          max_steps=10)
    >>> ids, steps = adoption_table(res, 1)
    >>> ids.shape, int((steps >= 0).sum()) == int(res.final_count[1])
    ((50,), True)
    """
    runs = int(result.runs)
    if isinstance(replicate, bool) or not isinstance(replicate, int | np.integer) \
            or not 0 <= replicate < runs:
        raise ParameterError("replicate", f"must be an integer in 0..{runs - 1}, got {replicate!r}")
    # the only place that reads per-node adoption steps from a result (a kept replicate)
    steps = np.asarray(result.replicate(int(replicate)).adoption_step, dtype=np.int64)
    ids = result.node_ids if result.node_ids is not None else np.arange(steps.size)
    return np.asarray(ids), steps


def write_adoptions(path: str | os.PathLike[str], ids: Sequence[Any] | np.ndarray,
                    steps: Sequence[int] | np.ndarray) -> Path:
    """Write an ``id,step`` adoption table atomically (empty step: never adopted).

    Examples
    --------
    >>> import os, tempfile
    >>> from diffusion.calibration import write_adoptions
    >>> p = write_adoptions(os.path.join(tempfile.mkdtemp(), "a.csv"), [7, 8], [2, -1])
    >>> p.read_text().splitlines()
    ['id,step', '7,2', '8,']
    """
    ids = np.asarray(ids)
    steps = np.asarray(steps, dtype=np.int64)
    if ids.shape != steps.shape or ids.ndim != 1:
        raise ParameterError("steps", "needs one step per id")
    cells = np.where(steps >= 0, steps.astype(str), "")
    with atomic_write(path, newline="") as fh:
        fh.write("id,step\n")
        fh.writelines(f"{i},{s}\n" for i, s in zip(ids.tolist(), cells.tolist(), strict=True))
    return Path(path)


_FRACTION = ("fraction", "mean_fraction", "adopted_fraction", "share")
_COUNT = ("adopters", "count", "cumulative", "adopted")


def read_adoption_curve(path: str | os.PathLike[str], n: int) -> AdoptionCurve:
    """Read an observed adoption curve for a population of ``n`` firms.

    The CSV has one row per step ``0 .. T`` (in order; a ``step`` column, if
    present, must count 0, 1, 2, ...) and a column of cumulative adopters:
    fractions (``fraction``, ``mean_fraction`` as written in ``curve.csv``)
    or counts (``adopters``, ``count``, ``cumulative``). Columns
    ``share_<platform>`` give platform shares; their last row is used as the
    final shares (sorted from the largest).

    Examples
    --------
    >>> import os, tempfile
    >>> from diffusion.calibration import read_adoption_curve
    >>> path = os.path.join(tempfile.mkdtemp(), "curve.csv")
    >>> _ = open(path, "w").write("step,adopters\\n0,0\\n1,5\\n2,12\\n")
    >>> read_adoption_curve(path, 20).fraction.tolist()
    [0.0, 0.25, 0.6]
    """
    where, header, rows = _read_rows(path)
    if not rows:
        raise _fail(where, None, "no data rows")
    col = next((header.index(c) for c in (*_FRACTION, *_COUNT) if c in header), None)
    if col is None:
        raise _fail(where, 1, "needs a column of cumulative adopters: one of "
                    f"{', '.join((*_FRACTION, *_COUNT))} (header: {', '.join(header)})")
    values = np.empty(len(rows))
    for k, (line, r) in enumerate(rows):
        try:
            values[k] = float(r[col])
        except (ValueError, IndexError):
            raise _fail(where, line, f"{header[col]} {r[col] if col < len(r) else ''!r} is not a "
                        "number") from None
        if not np.isfinite(values[k]) or values[k] < 0:
            raise _fail(where, line, f"{header[col]} must be a finite number >= 0")
        if "step" in header:
            cell = r[header.index("step")].strip()
            if cell != str(k):
                raise _fail(where, line, f"step {cell!r}: the rows must be steps 0, 1, 2, ... "
                            f"in order (expected {k})")
    if header[col] in _COUNT:
        if values.max() > n:
            k = int(np.argmax(values))
            raise _fail(where, rows[k][0], f"{values[k]:g} adopters but the network has {n} firms")
        values = values / n
    elif values.max() > 1:
        k = int(np.argmax(values))
        raise _fail(where, rows[k][0], f"fraction {values[k]:g} is above 1")
    drops = np.nonzero(np.diff(values) < -1e-12)[0]
    if drops.size:
        raise _fail(where, rows[drops[0] + 1][0], "a cumulative adoption curve must not decrease")
    share_cols = [i for i, h in enumerate(header) if h.startswith("share_")]
    shares = None
    if share_cols:
        line, last = rows[-1]
        try:
            shares = np.sort(np.array([float(last[i]) for i in share_cols]))[::-1]
        except (ValueError, IndexError):
            raise _fail(where, line, "platform shares must be numbers") from None
    return AdoptionCurve(values, shares, where)
