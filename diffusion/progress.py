"""Progress display with honest time estimates, for the command line and notebooks.

:class:`Progress` counts finished work items (replicates, sweep points,
generations) and draws one line on a terminal: a bar, the count, the elapsed
time and an estimate of the time left.

Why the estimate differs from a naive one
-----------------------------------------
The first items to finish carry costs the rest do not: starting worker
processes, importing the package in them, loading compiled kernels, building
the network. With a pool of ``w`` workers the first results also arrive
together, after ``w`` items' worth of work was done in parallel. A naive
estimate (elapsed time / items done × items left) therefore charges that
start-up to every remaining item and, on a two-core machine, ran five to ten
times too high at the start of a run (the estimate of a 29 s sweep began at
almost six minutes). Here the rate is measured from the moment the first
result arrived, over the items finished since: start-up is excluded and the
throughput of all workers together is what counts. Until a second result
arrives the estimate says so instead of guessing. The line is redrawn twice a
second, so that the elapsed time moves between results.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with Progress(4, "points", stream=out, force=True, refresh=0) as bar:
...     bar(1); bar(3)
>>> out.getvalue().rstrip().rsplit("\\r", 1)[-1].split()[:3]
['points', '[##############################]', '4/4']
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["Progress", "format_duration", "make_progress"]


def format_duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"`` or ``"1 h 02 min"``.

    Examples
    --------
    >>> format_duration(4.2), format_duration(185), format_duration(3720)
    ('4 s', '3 min 05 s', '1 h 02 min')
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class Progress:
    """A one-line progress display over ``total`` items; call it with the number just finished.

    Parameters
    ----------
    total : int
        Items to finish.
    label : str
        What is counted (shown first).
    stream : file, default sys.stderr
    force : bool, default False
        Draw even when ``stream`` is not a terminal (tests, notebooks).
    refresh : float, default 0.5
        Seconds between redraws while waiting (0: redraw only on updates).
    clock : callable, default time.monotonic
        Time source (tests pass a fake one).

    Notes
    -----
    The estimate of the time left is ``(total - done) / rate``, where ``rate``
    is the number of items finished since the first result divided by the
    time since the first result (see the module docstring for why).
    """

    width = 30

    def __init__(self, total: int, label: str = "", *, stream: IO[str] | None = None, force: bool = False,
                 refresh: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(force or (isatty is not None and isatty()))
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.first: tuple[float, int] | None = None  # (time, items) when the first result arrived
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._width = 0
        self._thread = None
        if self.enabled:
            self._draw()
            if refresh > 0:
                self._thread = threading.Thread(target=self._tick, args=(refresh,), daemon=True)
                self._thread.start()

    # ------------------------------------------------------------ estimate
    def eta(self) -> float | None:
        """Seconds left, or ``None`` while there is not enough to measure a rate."""
        if self.first is None or self.done >= self.total:
            return None if self.done < self.total else 0.0
        t0, n0 = self.first
        dt, dn = self.clock() - t0, self.done - n0
        if dn <= 0 or dt <= 0:
            return None
        return (self.total - self.done) * dt / dn

    def line(self) -> str:
        """The text of the display."""
        frac = self.done / self.total if self.total else 1.0
        fill = round(self.width * min(frac, 1.0))
        bar = "[" + "#" * fill + "-" * (self.width - fill) + "]"
        parts = [p for p in (self.label, bar, f"{self.done}/{self.total}") if p]
        parts.append(f"elapsed {format_duration(self.clock() - self.start)}")
        if self.done < self.total:
            eta = self.eta()
            parts.append("estimating time left" if eta is None else f"about {format_duration(eta)} left")
        return "  ".join(parts)

    # ------------------------------------------------------------ updates
    def __call__(self, n: int = 1) -> None:
        with self._lock:
            self.done = min(self.total, self.done + int(n)) if self.total else self.done + int(n)
            if self.first is None:
                self.first = (self.clock(), self.done)
        if self.enabled:
            self._draw()

    update = __call__

    def _draw(self) -> None:
        with self._lock:
            if self._closed:
                return
            text = self.line()
            pad = " " * max(0, self._width - len(text))
            self._width = len(text)
            self.stream.write("\r" + text + pad)
            self.stream.flush()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self._draw()

    def close(self) -> None:
        """Stop redrawing and end the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.enabled and not self._closed:
            self._draw()
            with self._lock:
                self._closed = True
                self.stream.write("\n")
                self.stream.flush()
        self._closed = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_progress(progress: Any, total: int, label: str = "replicates") -> Callable[[int], None] | None:
    """The progress callback ``simulate(progress=...)`` uses.

    ``True``: a tqdm bar when tqdm is installed (it draws well in notebooks),
    else a :class:`Progress` line on stderr; a callable is used as it is;
    ``None`` / ``False``: no progress.

    Examples
    --------
    >>> make_progress(None, 10) is None
    True
    >>> make_progress(print, 10) is print
    True
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return Progress(total, label, force=True)
        bar = tqdm(total=total, unit="run", desc=label)

        class _Tqdm:
            def __call__(self, k: int) -> None:
                bar.update(k)

            def close(self) -> None:
                bar.close()

        return _Tqdm()
    if not callable(progress):
        from .errors import ParameterError

        raise ParameterError("progress", f"must be a callable or a bool, got {type(progress).__name__}")
    return progress
