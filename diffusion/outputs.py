"""Writing results: JSON, CSV and text files, always atomically.

Every file is first written to a temporary file in the destination directory
and then moved over the destination with :func:`os.replace`, which is atomic on
POSIX and Windows. A run that is killed half-way therefore leaves either the
previous complete file or the new complete file, never a truncated one, and no
temporary file survives an exception.

Examples
--------
>>> import json, pathlib, tempfile
>>> from diffusion.outputs import write_csv, write_json
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_json(d / "summary.json", {"mean": 0.5})
>>> json.loads((d / "summary.json").read_text())
{'mean': 0.5}
>>> _ = write_csv(d / "runs.csv", [{"run": 0, "x": 1.5}, {"run": 1, "x": 2.0}])
>>> (d / "runs.csv").read_text().splitlines()
['run,x', '0,1.5', '1,2.0']
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_write", "fieldnames", "jsonable", "write_csv", "write_json", "write_text"]


@cache
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block succeeds.

    The parent directory is created if needed. The temporary file lives in the
    same directory (so the final :func:`os.replace` never crosses file systems)
    and is removed if the block raises; ``path`` is then left untouched.

    Parameters
    ----------
    path : path-like
        Destination file.
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline : str, optional
        As for :func:`open` (text mode only).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from diffusion.outputs import atomic_write
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out" / "a.txt"
    >>> with atomic_write(p) as f:
    ...     _ = f.write("hello")
    >>> p.read_text()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError("mode must be 'w' or 'wb'")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        kwargs = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_write(path) as f:
        f.write(text)
    return Path(path)


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays, tuples and paths made JSON-ready.

    Non-finite floats become ``None`` (``null``), so the output is strict JSON.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.outputs import jsonable
    >>> jsonable({"a": np.float64(0.5), "b": np.array([1, 2]), "c": float("nan")})
    {'a': 0.5, 'b': [1, 2], 'c': None}
    """
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return obj


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as strict JSON (see :func:`jsonable`) atomically; returns the path."""
    text = json.dumps(jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False)
    return write_text(path, text + "\n")


def fieldnames(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Union of the records' keys, in order of first appearance.

    Examples
    --------
    >>> from diffusion.outputs import fieldnames
    >>> fieldnames([{"a": 1}, {"a": 2, "b": 3}])
    ['a', 'b']
    """
    seen: dict[str, None] = {}
    for rec in records:
        for k in rec:
            seen.setdefault(k, None)
    return list(seen)


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def write_csv(path: str | os.PathLike[str], records: Sequence[Mapping[str, Any]],
              columns: Sequence[str] | None = None) -> Path:
    """Write flat records as CSV with a header row, atomically; returns the path.

    Columns default to :func:`fieldnames` of the records; a record that lacks a
    column gets an empty cell, and so do ``None`` and NaN values.
    """
    cols = list(columns) if columns is not None else fieldnames(records)
    with atomic_write(path, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(cols)
        for rec in records:
            writer.writerow([_cell(rec.get(c)) for c in cols])
    return Path(path)
