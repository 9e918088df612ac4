"""Publication figures (matplotlib, PNG and SVG).

Each function takes plain arrays or flat records, draws on a fresh
:class:`matplotlib.figure.Figure` (never pyplot, so no global state is touched
and no display is needed), writes ``<path>.png`` and ``<path>.svg`` when a
path is given, and returns the figure so callers (and tests) can inspect it.
"""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import ParameterError
from ..outputs import atomic_write

__all__ = ["adoption_curve", "caption_of", "category_bars", "cause_areas", "final_sizes", "fragility_curve",
           "frontier", "herfindahl", "outcomes_spread", "platform_shares", "policy_tradeoff", "recovery_paths",
           "robustness_curves", "run_distributions", "save_figure", "sensitivity_indices", "series_paths",
           "sweep_map"]

#: Metadata that keeps the files of a figure the same from run to run (no creation date).
_NO_DATE: dict[str, dict[str, None]] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
_BLUE, _ORANGE, _GREY = "#0072b2", "#d55e00", "#7f7f7f"
_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


def _text(s: Any) -> str:
    """User text safe for matplotlib (a ``$`` would start math mode)."""
    return str(s).replace("$", r"\$")


def _caption(fig: Figure, text: str) -> None:
    """The caption line under a figure: what its lines, bands and bars are."""
    width = int(fig.get_figwidth() * 16)  # characters per line at this font size
    fig.supxlabel(_text(textwrap.fill(text, width)), x=0.01, ha="left", fontsize=8, color="#333333",
                  linespacing=1.3, gid="caption")


def caption_of(fig: Figure) -> str:
    """The caption line of a figure drawn here (``""`` if it has none).

    Examples
    --------
    >>> import numpy as np
    >>> caption_of(adoption_curve(np.array([[0.0, 0.1], [0.5, 0.9]])))
    'Line: mean share of firms adopted over 2 replicates; band: 5–95 % of the replicates at each step.'
    """
    label = getattr(fig, "_supxlabel", None)
    if label is None or label.get_gid() != "caption":
        return ""
    return " ".join(label.get_text().replace(r"\$", "$").split())


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def outcomes_spread(final_fraction: Any, *, width: float = 0.05, min_runs: int = 5) -> bool:
    """Whether replicates end far enough apart that their distribution deserves a figure.

    True when there are at least ``min_runs`` replicates and the 5–95 % range of
    the final sizes is at least ``width`` (five percentage points by default).

    Examples
    --------
    >>> import numpy as np
    >>> outcomes_spread(np.r_[np.zeros(10), np.ones(10)]), outcomes_spread(np.full(20, 0.9))
    (True, False)
    """
    x = np.asarray(final_fraction, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < min_runs:
        return False
    q = np.quantile(x, [0.05, 0.95])
    return bool(q[1] - q[0] >= width)


def save_figure(fig: Figure, path: str | os.PathLike[str], formats: Sequence[str] = ("png", "svg"),
                dpi: int = 150) -> list[Path]:
    """Write ``fig`` as ``<path>.png`` and ``<path>.svg`` (atomically); return the files.

    A suffix ``.png``/``.svg``/``.pdf`` on ``path`` is replaced by each format's.
    The files carry no date and the SVG's element ids are drawn from a fixed
    salt, so the same figure gives the same bytes on every run.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = fig.add_subplot().plot([0, 1])
    >>> [p.suffix for p in save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png")]
    ['.png', '.svg']
    """
    base = Path(path)
    if base.suffix.lower() in (".png", ".svg", ".pdf"):
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        target = base.with_name(f"{base.name}.{fmt}")
        with atomic_write(target, "wb") as fh, rc_context({"svg.hashsalt": "smb-diffusion"}):
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_NO_DATE.get(fmt))
        out.append(target)
    return out


def _new_figure(nrows: int = 1, height: float = 4.0) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(7.0, height), layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False)[:, 0].tolist()
    for ax in axes:
        ax.grid(True, color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, axes


def _check_band(band: tuple[float, float]) -> tuple[float, float]:
    lo, hi = float(band[0]), float(band[1])
    if not 0 <= lo < hi <= 1:
        raise ParameterError("band", f"must be two quantiles 0 <= low < high <= 1, got {band!r}")
    return lo, hi


def adoption_curve(
    data: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    band: tuple[float, float] = (0.05, 0.95),
    ylabel: str = "Share of firms adopted",
    paths: int = 0,
) -> Figure:
    """Mean adoption curve with a pointwise quantile band (5–95 % by default).

    Parameters
    ----------
    data : SimulationResult or array, shape (T + 1, runs) or (T + 1,)
        A result (its ``curve``) or adoption fractions per step and replicate.
    path : path-like, optional
        Write ``<path>.png`` and ``<path>.svg``.
    title : str, optional
        Figure title (e.g. the scenario name).
    band : (low, high)
        Quantiles of the shaded band.
    ylabel : str
        Label of the vertical axis.
    paths : int, default 0
        Also draw up to this many replicates' own curves as thin lines (useful
        when replicates end far apart, so that the mean is taken by none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = adoption_curve(np.array([[0.0, 0.1], [0.4, 0.6], [0.8, 0.9]]), title="demo")
    >>> fig.axes[0].get_xlabel(), len(fig.axes[0].lines)
    ('Step', 1)
    """
    curve = np.asarray(getattr(data, "curve", data), dtype=np.float64)
    if curve.ndim == 1:
        curve = curve[:, None]
    if curve.ndim != 2 or curve.shape[0] == 0:
        raise ParameterError("curve", f"must have shape (steps, runs), got {curve.shape}")
    lo, hi = _check_band(band)
    steps = np.arange(curve.shape[0])
    fig, (ax,) = _new_figure()
    runs = curve.shape[1]
    shown = _sample(runs, paths)
    if len(shown) > 1:
        ax.plot(steps, curve[:, shown], color=_GREY, linewidth=0.6, alpha=_alpha(len(shown)), zorder=1,
                rasterized=len(shown) > 50)
        ax.plot([], [], color=_GREY, linewidth=0.8, label=f"single replicates ({len(shown)})")
    if runs > 1:
        q = np.quantile(curve, [lo, hi], axis=1)
        ax.fill_between(steps, q[0], q[1], color=_BLUE, alpha=0.2, linewidth=0, zorder=2,
                        label=f"{100 * lo:g}–{100 * hi:g} % of {runs} runs")
    ax.plot(steps, curve.mean(axis=1), color=_BLUE, linewidth=2, label="mean" if runs > 1 else "adoption",
            zorder=3)
    ax.set_xlabel("Step")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max(1.0, float(curve.max())) * 1.02)
    ax.set_xlim(0, max(1, len(steps) - 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(_text(title) if title else "Adoption over time")
    if runs > 1:
        text = (f"Line: mean share of firms adopted over {runs} replicates; band: "
                f"{100 * lo:g}–{100 * hi:g} % of the replicates at each step.")
        if len(shown) > 1:
            text += f" Thin lines: {len(shown)} single replicates" + (
                " (every one)." if len(shown) == runs else " (evenly chosen).")
    else:
        text = "Share of firms adopted after each step (one replicate)."
    _caption(fig, text)
    if path is not None:
        save_figure(fig, path)
    return fig


def _sample(runs: int, k: int) -> np.ndarray:
    """Up to ``k`` replicate indices, evenly spread (all of them when ``runs <= k``)."""
    if k <= 0 or runs <= 0:
        return np.empty(0, dtype=np.int64)
    if runs <= k:
        return np.arange(runs)
    return np.unique(np.linspace(0, runs - 1, k).round().astype(np.int64))


def _alpha(k: int) -> float:
    """Opacity of one of ``k`` overlaid thin lines."""
    return float(np.clip(6.0 / max(k, 1), 0.06, 0.6))


def final_sizes(
    final_fraction: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    bins: int = 40,
    xlabel: str = "Final share of firms adopted",
) -> Figure:
    """Distribution of the final size over replicates, with the mean and median marked.

    A mean summarizes a bimodal outcome badly (a Watts cascade, word of mouth
    or mimetic adoption near its tipping point ends near 0 % or near 100 %,
    rarely in between); this histogram shows where the replicates really end.
    The caption line says how many replicates end near the mean.

    Parameters
    ----------
    final_fraction : SimulationResult or array, shape (runs,)
        A result (its ``final_fraction``) or the final share of each replicate.
    bins : int
        Number of equal-width bins over ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> ff = np.r_[np.full(30, 0.01), np.full(70, 0.95)]
    >>> fig = final_sizes(ff, bins=10)
    >>> [int(p.get_height()) for p in fig.axes[0].patches if p.get_height()]
    [30, 70]
    >>> bool(fig.axes[0].lines[0].get_xdata()[0] == ff.mean())
    True
    """
    ff = np.asarray(getattr(final_fraction, "final_fraction", final_fraction), dtype=np.float64).ravel()
    ff = ff[np.isfinite(ff)]
    if ff.size == 0:
        raise ParameterError("final_fraction", "needs at least one replicate")
    if bins < 1:
        raise ParameterError("bins", f"must be a positive integer, got {bins!r}")
    runs = len(ff)
    edges = np.linspace(0.0, max(1.0, float(ff.max())), bins + 1)
    counts, _ = np.histogram(ff, bins=edges)
    fig, (ax,) = _new_figure()
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=_BLUE, edgecolor="white",
           linewidth=0.5, label=f"replicates ({runs})")
    mean, median = float(ff.mean()), float(np.median(ff))
    # the marks stop below the legend band at the top, so that the legend covers nothing
    ax.axvline(mean, ymax=0.86, color=_ORANGE, linewidth=2, label=f"mean {100 * mean:.1f} %")
    ax.axvline(median, ymax=0.86, color="#333333", linewidth=1.5, linestyle="--",
               label=f"median {100 * median:.1f} %")
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Number of replicates")
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper center", frameon=False, ncol=3, bbox_to_anchor=(0.5, 1.0))
    ax.set_ylim(0, max(1, int(counts.max())) * 1.18)
    ax.set_title(_text(title) if title else "Final size of each replicate")
    near = float(np.mean(np.abs(ff - mean) <= 0.05))
    low, high = float(np.mean(ff < 0.1)), float(np.mean(ff >= 0.5))
    text = (f"Bars: number of the {runs} replicates by final share of firms adopted (bins of "
            f"{100 * (edges[1] - edges[0]):.3g} points); solid line: mean, dashed: median. "
            f"{_pct(low)} of replicates end below 10 %, {_pct(high)} at 50 % or more; "
            f"{_pct(near)} end within 5 points of the mean.")
    _caption(fig, text)
    if path is not None:
        save_figure(fig, path)
    return fig


def herfindahl(shares: np.ndarray) -> np.ndarray:
    """Herfindahl–Hirschman index ``Σ s_k²`` of shares along the last axis (renormalized to sum 1).

    Rows with no adopters give ``nan``.

    Examples
    --------
    >>> import numpy as np
    >>> herfindahl(np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 0.0]])).tolist()
    [0.5, 1.0, nan]
    """
    s = np.asarray(shares, dtype=np.float64)
    tot = s.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(tot > 0, s / np.where(tot > 0, tot, 1), np.nan)
    return (p**2).sum(axis=-1)


def platform_shares(
    series: np.ndarray,
    names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    concentration: np.ndarray | None = None,
    band: tuple[float, float] = (0.05, 0.95),
    winner: np.ndarray | None = None,
    paths: int = 200,
) -> Figure:
    """Platform shares of every replicate over time (top) and their concentration (bottom).

    Mean shares hide lock-in: when every replicate locks in to *some*
    platform, each platform's mean share stays near ``1/K``. So every
    replicate's share path is drawn (thin lines in the platform's colour), with
    the median share of each replicate's leading platform at the end (thick
    black line); the legend, outside the axes, says how often each platform
    led and locked in. The bottom panel draws each replicate's Herfindahl
    index (undefined, so not drawn, while no firm is on a platform) and its
    median.

    Parameters
    ----------
    series : array, shape (T + 1, runs, K) or (T + 1, K)
        Share of firms on each platform after each step (per replicate).
    names : sequence of str, optional
        Platform names, one per column (default ``platform 1 ..``). A column
        named ``none`` / ``no platform`` is drawn as its mean in grey and left
        out of the concentration.
    path : path-like, optional
        Write ``<path>.png`` and ``<path>.svg``.
    title : str, optional
    concentration : array, shape (T + 1, runs) or (T + 1,), optional
        HHI per step (default: computed from the shares).
    band : (low, high)
        Quantiles of the HHI band across replicates.
    winner : array of int, shape (runs,), optional
        Index into ``names`` of the platform each replicate locked in to
        (``-1``: none), shown in the legend.
    paths : int, default 200
        Most replicates drawn one by one (evenly chosen beyond that).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0.0, 0.0], [0.3, 0.2], [0.6, 0.2]])
    >>> fig = platform_shares(s, ["A", "B"])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['Share of firms', 'Concentration (HHI)']
    >>> (median,) = [ln for ln in fig.axes[1].lines if ln.get_gid() == "hhi_median"]
    >>> bool(np.isnan(median.get_ydata()[0]))  # nobody on a platform yet: no HHI
    True
    """
    s = np.asarray(series, dtype=np.float64)
    if s.ndim == 2:
        s = s[:, None, :]
    if s.ndim != 3:
        raise ParameterError("shares", f"must have shape (steps, runs, platforms), got {s.shape}")
    K = s.shape[2]
    names = [f"platform {j + 1}" for j in range(K)] if names is None else [str(x) for x in names]
    if len(names) != K:
        raise ParameterError("names", f"needs one name per platform column ({K}), got {len(names)}")
    lo, hi = _check_band(band)
    is_none = np.array([x.strip().lower() in ("none", "no platform", "0") for x in names])
    active = np.flatnonzero(~is_none)
    steps = np.arange(s.shape[0])
    runs = s.shape[1]
    shown = _sample(runs, paths)
    fig, (ax, ax2) = _new_figure(2, height=5.5)
    fig.set_figwidth(8.5)
    colors = {int(j): _PALETTE[i % len(_PALETTE)] for i, j in enumerate(active)}
    alpha = _alpha(len(shown) * max(1, len(active) // 2))
    handles: list[Any] = []
    from matplotlib.lines import Line2D

    win = None if winner is None else np.asarray(winner, dtype=np.int64).ravel()
    if win is not None and len(win) != runs:
        raise ParameterError("winner", f"needs one entry per replicate ({runs}), got {len(win)}")
    final_active = s[-1][:, active] if len(active) else np.zeros((runs, 0))
    leader = active[np.argmax(final_active, axis=1)] if len(active) else np.zeros(runs, dtype=np.int64)
    for j in active.tolist():
        ax.plot(steps, s[:, shown, j], color=colors[j], linewidth=0.7, alpha=alpha, gid=f"path:{names[j]}",
                rasterized=len(shown) > 50)
        label = _text(names[j])
        if win is not None:
            label += f" (locked in: {int(np.count_nonzero(win == j))})"
        else:
            label += f" (leads: {int(np.count_nonzero(leader == j))})"
        handles.append(Line2D([], [], color=colors[j], linewidth=2, label=label))
    for j in np.flatnonzero(is_none).tolist():
        ax.plot(steps, s[:, :, j].mean(axis=1), color=_GREY, linewidth=1.5, linestyle="--", gid="none")
        handles.append(Line2D([], [], color=_GREY, linewidth=1.5, linestyle="--",
                              label=f"{_text(names[j])} (mean)"))
    if len(active):
        lead_path = s[:, np.arange(runs), leader]  # (T + 1, runs): each run's final leader
        ax.plot(steps, np.median(lead_path, axis=1), color="#111111", linewidth=2.2, gid="leader")
        handles.append(Line2D([], [], color="#111111", linewidth=2.2, label="leader (median)"))
    ax.set_ylabel("Share of firms")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    if concentration is None:
        hhi = herfindahl(s[:, :, active])
    else:
        hhi = np.asarray(concentration, dtype=float)
        if hhi.ndim == 1:
            hhi = hhi[:, None]
        hhi = np.array(hhi, dtype=np.float64)
        if hhi.shape == s.shape[:2]:  # undefined while nobody is on a platform
            hhi[s[:, :, active].sum(axis=2) <= 0] = np.nan
    h_shown = hhi[:, shown] if hhi.shape[1] == runs else hhi
    ax2.plot(steps, h_shown, color=_ORANGE, linewidth=0.7, alpha=_alpha(h_shown.shape[1]), gid="hhi_path",
             rasterized=h_shown.shape[1] > 50)
    fin = np.isfinite(hhi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.where(fin.any(axis=1), np.nanmedian(np.where(fin, hhi, np.nan), axis=1), np.nan)
    ax2.plot(steps, med, color=_ORANGE, linewidth=2.2, gid="hhi_median")
    k_active = max(1, len(active))
    ax2.axhline(1.0 / k_active, color=_GREY, linewidth=1, linestyle=":", gid="even")
    handles += [Line2D([], [], color=_ORANGE, linewidth=2.2, label="HHI (median)"),
                Line2D([], [], color=_GREY, linewidth=1, linestyle=":", label=f"even split (1/{k_active})")]
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("Step")
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlim(0, max(1, len(steps) - 1))
    ax2.set_ylabel("Concentration (HHI)")
    fig.legend(handles=handles, loc="outside right upper", frameon=False, fontsize=8,
               title=f"of {runs} runs" if runs > 1 else None, title_fontsize=8)
    ax.set_title(_text(title) if title else "Platform shares and concentration")
    locked = (" Legend: the runs that ended with each platform in the lead." if win is None else
              f" Legend: the runs that locked in to each platform (the model's lock-in rule; "
              f"{_pct(float(np.mean(win >= 0)))} of the runs locked in).")
    _caption(fig, f"Thin lines: each of {len(shown)} replicate{'s' if len(shown) != 1 else ''}"
             f"{'' if len(shown) == runs else f' (of {runs}, evenly chosen)'} — top: the share of each "
             f"platform, in its colour; bottom: the Herfindahl index of the shares, undefined (not drawn) "
             f"while no firm is on a platform. Thick lines: medians over the replicates (leader: the share of the "
             f"platform each run ends with in the lead).{locked}")
    del lo, hi  # the band argument is kept for compatibility; medians and paths replace bands
    if path is not None:
        save_figure(fig, path)
    return fig


def cause_areas(
    series: np.ndarray,
    labels: Sequence[str],
    path: str | os.PathLike[str] | None = None,
    *,
    n: int | None = None,
    title: str | None = None,
    ylabel: str = "Share of firms",
) -> Figure:
    """Cumulative adoptions by cause (e.g. by pressure) over time, stacked.

    Parameters
    ----------
    series : array, shape (T + 1, runs, K)
        Cumulative adoptions attributed to each of the ``K`` causes.
    labels : sequence of str
        The causes.
    n : int, optional
        Number of firms: counts are drawn as shares of the firms.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.cumsum(np.ones((4, 2, 2)), axis=0)
    >>> fig = cause_areas(s, ["coercive", "mimetic"], n=10)
    >>> top = fig.axes[0].collections[-1].get_paths()[0].vertices[:, 1].max()
    >>> round(float(top), 2)
    0.8
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[2] != len(labels):
        raise ParameterError("series", f"must have shape (steps, runs, {len(labels)}), got {x.shape}")
    runs = x.shape[1]
    scale = 1.0 / n if n else 1.0
    mean = x.mean(axis=1) * scale  # (T + 1, K)
    steps = np.arange(x.shape[0])
    fig, (ax,) = _new_figure()
    colors = [_PALETTE[k % len(_PALETTE)] for k in range(len(labels))]
    final = mean[-1]
    names = [f"{_text(lab)} ({100 * f:.1f} %)" if n else f"{_text(lab)} ({f:,.0f})"
             for lab, f in zip(labels, final.tolist(), strict=True)]
    ax.stackplot(steps, mean.T, labels=names, colors=colors, alpha=0.85, linewidth=0)
    ax.set_xlabel("Step")
    ax.set_ylabel(_text(ylabel if n else "Firms"))
    ax.set_xlim(0, max(1, len(steps) - 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    top = float(mean.sum(axis=1).max(initial=0))
    ax.set_ylim(0, max(top * 1.05, 1e-9))
    if n:
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    handles, labs = ax.get_legend_handles_labels()
    fig.legend(handles[::-1], labs[::-1], loc="outside right upper", frameon=False, fontsize=8,
               title="at the last step")
    ax.set_title(_text(title) if title else "Adoptions by cause")
    _caption(fig, f"Areas: cumulative adoptions attributed to each cause, mean over {runs} replicates, "
             "stacked (the top edge is every attributed adoption"
             f"{', as a share of the firms' if n else ''}; initial adopters are not attributed).")
    if path is not None:
        save_figure(fig, path)
    return fig


def _columns(records: Any, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Columns ``keys`` of flat records (a list of dicts or a mapping of sequences)."""
    if isinstance(records, Mapping):
        table = {k: np.asarray(records[k]) for k in keys if k in records}
    else:
        rows = list(records)
        table = {k: np.asarray([r[k] for r in rows]) for k in keys if rows and all(k in r for r in rows)}
    missing = [k for k in keys if k not in table]
    if missing:
        raise ParameterError("records", f"missing column(s) {', '.join(map(repr, missing))}")
    return table


def fragility_curve(
    records: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    x: str = "severity",
    y: str = "loss",
    by: str | None = None,
    title: str | None = None,
    xlabel: str = "Shock severity",
    ylabel: str = "Systemic loss (share of value)",
    band: tuple[float, float] = (0.05, 0.95),
    initial: str | None = None,
) -> Figure:
    """Loss against shock severity: mean per severity and a quantile band.

    Parameters
    ----------
    records : list of dict or mapping of str to sequence
        Flat records with columns ``x`` and ``y`` (several records per
        severity, e.g. one per replicate, give the band) and optionally ``by``.
        Summary records (one per severity, as from
        :func:`diffusion.shocks.fragility_curve`) with ``y = "<name>_mean"``
        draw their band from the ``<name>_q05`` and ``<name>_q95`` columns.
    path : path-like, optional
        Write ``<path>.png`` and ``<path>.svg``.
    x, y : str
        Column names of severity and loss.
    by : str, optional
        Column splitting the records into several curves (e.g. ``scenario``).
    title, xlabel, ylabel : str
    band : (low, high)
        Quantiles across the records at each severity.
    initial : str, optional
        Column with the initial hit (the loss before any propagation): drawn
        dashed, so that the gap up to the total loss is the systemic loss.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> recs = [{"severity": s, "loss": s * s} for s in (0.0, 0.5, 1.0)]
    >>> fig = fragility_curve(recs)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].lines[0].get_ydata().tolist()
    ('Shock severity', [0.0, 0.25, 1.0])
    """
    rows = records if isinstance(records, Mapping) else list(records)
    cols = _columns(rows, [x, y] + ([by] if by else []))
    lo, hi = _check_band(band)
    given = None
    if y.endswith("_mean"):
        stem = y[: -len("_mean")]
        try:
            q = _columns(rows, [f"{stem}_q05", f"{stem}_q95"])
            given = (q[f"{stem}_q05"].astype(np.float64), q[f"{stem}_q95"].astype(np.float64))
        except ParameterError:
            given = None
    xs, ys = cols[x].astype(np.float64), cols[y].astype(np.float64)
    groups = cols[by] if by else np.zeros(len(xs), dtype=np.int64)
    fig, (ax,) = _new_figure()
    band_text = ""
    for gi, g in enumerate(np.unique(groups).tolist()):
        m = groups == g
        ux, inv = np.unique(xs[m], return_inverse=True)
        yy = ys[m]
        mean = np.bincount(inv, weights=yy, minlength=len(ux)) / np.bincount(inv, minlength=len(ux))
        color = _PALETTE[gi % len(_PALETTE)]
        order = np.argsort(inv, kind="stable")
        splits = np.split(yy[order], np.cumsum(np.bincount(inv, minlength=len(ux)))[:-1])
        what = f" ({_text(g)})" if by else ""
        if given is not None:
            gx = np.argsort(xs[m], kind="stable")
            ax.fill_between(xs[m][gx], given[0][m][gx], given[1][m][gx], color=color, alpha=0.18, linewidth=0,
                            label=f"5–95 % of replicates{what}")
            band_text = "band: 5–95 % of the replicates at each severity"
        elif max(len(v) for v in splits) > 1:
            q = np.array([np.quantile(v, [lo, hi]) for v in splits])
            ax.fill_between(ux, q[:, 0], q[:, 1], color=color, alpha=0.18, linewidth=0,
                            label=f"{100 * lo:g}–{100 * hi:g} % of records{what}")
            band_text = f"band: {100 * lo:g}–{100 * hi:g} % of the records at each severity"
        ax.plot(ux, mean, color=color, linewidth=2, marker="o", markersize=3.5,
                label=_text(g) if by else ("mean total loss" if initial else "mean loss"))
    if initial is not None:
        ini = _columns(rows, [initial])[initial].astype(np.float64)
        order = np.argsort(xs, kind="stable")
        ax.plot(xs[order], ini[order], color="#333333", linewidth=1.5, linestyle="--",
                label="initial hit (before propagation)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max(1.0, float(np.nanmax(ys)) if len(ys) else 1.0) * 1.02)
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(_text(title) if title else "Fragility curve")
    text = "Line: mean loss at each severity" + (f"; {band_text}" if band_text else "") + "."
    if initial is not None:
        text += (" Dashed: the initial hit, the loss before any propagation; the gap up to the line is the "
                 "systemic loss (beyond the initial hit).")
    _caption(fig, text)
    if path is not None:
        save_figure(fig, path)
    return fig


def _boxes_overlap(a: Any, b: Any, pad: float = 1.0) -> bool:
    return not (a.x1 + pad <= b.x0 or b.x1 + pad <= a.x0 or a.y1 + pad <= b.y0 or b.y1 + pad <= a.y0)


def _place_labels(fig: Figure, ax: Any, xs: np.ndarray, ys: np.ndarray, names: Sequence[str],
                  avoid: Sequence[Any] = (), points: np.ndarray | None = None) -> list[Any]:
    """Annotate points so that labels overlap neither each other, the points nor the title.

    Each label tries offsets around its point, nearest first, and keeps the
    first whose box (measured by the renderer) stays inside the axes and
    clear of what is already placed; failing that, the least crowded one.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # settle the constrained layout before measuring
    renderer = canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    taken: list[Any] = [t.get_window_extent(renderer) for t in avoid if t.get_text()]
    pts = np.column_stack([xs, ys]) if points is None else np.vstack([np.column_stack([xs, ys]), points])
    px = ax.transData.transform(pts[np.isfinite(pts).all(axis=1)])
    r = 5.0 * fig.dpi / 72.0
    taken += [Bbox([[u - r, v - r], [u + r, v + r]]) for u, v in px]
    cands = [(6, 6, "left", "bottom"), (6, -6, "left", "top"), (-6, 6, "right", "bottom"),
             (-6, -6, "right", "top"), (0, 9, "center", "bottom"), (0, -9, "center", "top"),
             (9, 0, "left", "center"), (-9, 0, "right", "center")]
    cands += [(dx * k, dy * k, ha, va) for k in (2.5, 4.0) for dx, dy, ha, va in cands[:6]]
    placed = []
    for i in np.argsort(xs, kind="stable").tolist():
        best, best_score = None, None
        for dx, dy, ha, va in cands:
            far = abs(dx) + abs(dy) > 20
            t = ax.annotate(_text(names[i]), (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                            fontsize=8.5, ha=ha, va=va, color="#222222",
                            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.6,
                                        "shrinkA": 0, "shrinkB": 4} if far else None)
            t.set_in_layout(False)  # kept inside the axes here; the layout measured stays the layout drawn
            t.update_positions(renderer)
            bb = Text.get_window_extent(t, renderer)  # the text alone, without its leader line
            clash = sum(_boxes_overlap(bb, o) for o in taken)
            out = not (bb.x0 >= inside.x0 - 0.5 and bb.x1 <= inside.x1 + 0.5 and bb.y0 >= inside.y0 - 0.5
                       and bb.y1 <= inside.y1 + 0.5)
            score = clash + (10 if out else 0)
            if best_score is None or score < best_score:
                if best is not None:
                    best.remove()
                best, best_score, best_bb = t, score, bb
            else:
                t.remove()
            if score == 0:
                break
        if best is not None:
            taken.append(best_bb)
            placed.append(best)
    return placed


def frontier(
    records: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    x: str = "hhi",
    y: str = "loss",
    label: str | None = "scenario",
    title: str | None = None,
    xlabel: str = "Concentration (HHI)",
    ylabel: str = "Systemic loss from a dominant-platform outage",
    also: Mapping[str, str] | None = None,
    risk: Mapping[str, str] | None = None,
    runs: int | None = None,
    point_name: str = "scenario",
    label_name: str | None = None,
) -> Figure:
    """The homogeneity–fragility frontier: concentration against the system's loss and each firm's risk.

    One point per scenario (or swept value), with error bars when the records
    carry ``<y>_q05``/``<y>_q95`` columns (or ``<name>_q05``/``<name>_q95`` for
    ``y = "<name>_mean"``), joined in order of concentration and labelled by
    the ``label`` column, labels placed so that they do not overlap. With
    ``risk`` a second panel, on the same concentration axis, draws the
    individual risk (e.g. each firm's direct exposure and failure probability):
    the frontier's claim is that the system grows fragile while each firm
    looks no riskier.

    Parameters
    ----------
    also : mapping of column to legend label, optional
        Further system-level columns drawn in the top panel (e.g. the systemic
        loss beyond the initial hit).
    risk : mapping of column to legend label, optional
        Individual-risk columns for the bottom panel.
    runs : int, optional
        Replicates behind each point (said in the caption).
    point_name : str
        What a point is (the caption says "one point per <point_name>").
    label_name : str, optional
        What the labels are (said in the caption).

    Examples
    --------
    >>> recs = [{"scenario": "diverse", "hhi": 0.2, "loss": 0.1},
    ...         {"scenario": "concentrated", "hhi": 0.9, "loss": 0.6}]
    >>> fig = frontier(recs)
    >>> fig.axes[0].get_xlabel(), sorted(t.get_text() for t in fig.axes[0].texts)
    ('Concentration (HHI)', ['concentrated', 'diverse'])
    """
    rows = records if isinstance(records, Mapping) else list(records)
    cols = _columns(rows, [x, y])
    xs, ys = cols[x].astype(np.float64), cols[y].astype(np.float64)
    names = None
    if label:
        try:
            names = _columns(rows, [label])[label]
        except ParameterError:
            names = None
    fig, axes = _new_figure(2 if risk else 1, height=6.5 if risk else 4.2)
    ax = axes[0]
    order = np.argsort(xs, kind="stable")

    def bars(axis: Any, col: str, yv: np.ndarray, color: str) -> bool:
        for stem in (col, col[: -len("_mean")] if col.endswith("_mean") else None):
            if stem is None:
                continue
            try:
                q = _columns(rows, [f"{stem}_q05", f"{stem}_q95"])
            except ParameterError:
                continue
            err = np.vstack([yv - q[f"{stem}_q05"].astype(float), q[f"{stem}_q95"].astype(float) - yv])
            axis.errorbar(xs, yv, yerr=np.clip(err, 0, None), fmt="none", ecolor=color, alpha=0.55, zorder=2,
                          capsize=2)
            return True
        return False

    ax.plot(xs[order], ys[order], color=_ORANGE, linewidth=1.2, zorder=1)
    has_bars = bars(ax, y, ys, _ORANGE)
    ax.scatter(xs, ys, color=_ORANGE, edgecolor="#333333", s=40, zorder=3, label=_text(ylabel))
    series = [(y, ys, _ORANGE)]
    for k, (col, lab) in enumerate((also or {}).items()):
        v = _columns(rows, [col])[col].astype(np.float64)
        c = _PALETTE[(k + 2) % len(_PALETTE)]
        ax.plot(xs[order], v[order], color=c, linewidth=1.0, zorder=1)
        has_bars = bars(ax, col, v, c) or has_bars
        ax.scatter(xs, v, color="white", edgecolor=c, s=30, zorder=3, linewidth=1.5, label=_text(lab))
        series.append((col, v, c))
    ax.set_ylabel("Share of value lost" if also else _text(ylabel))
    top = max(float(np.nanmax(v)) for _, v, _ in series) if len(xs) else 1.0
    ax.set_ylim(0, max(1.0, top) * 1.08)
    ax.set_xlim(0, 1.02)
    ax.set_title(_text(title) if title else "Homogeneity–fragility frontier")
    if also or risk:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8, title="the system",
                  title_fontsize=8, alignment="left")
    if risk:
        ax2 = axes[1]
        for k, (col, lab) in enumerate(risk.items()):
            v = _columns(rows, [col])[col].astype(np.float64)
            c = (_BLUE, "#009e73", "#cc79a7")[k % 3]
            ax2.plot(xs[order], v[order], color=c, linewidth=1.2, zorder=1)
            has_bars = bars(ax2, col, v, c) or has_bars
            ax2.scatter(xs, v, color=c, edgecolor="#333333", s=32, zorder=3, marker="s", label=_text(lab))
        ax2.set_ylabel("Risk of each firm")
        ax2.set_ylim(0, 1.02)
        ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8, title="each firm",
                   title_fontsize=8, alignment="left")
    axes[-1].set_xlabel(xlabel)
    if names is not None:
        others = np.vstack([np.column_stack([xs, v]) for _, v, _ in series[1:]]) if len(series) > 1 else None
        _place_labels(fig, ax, xs, ys, [str(v) for v in names.tolist()], avoid=[ax.title], points=others)
    text = f"One point per {point_name}" + (f", the mean over its {runs} replicates" if runs else "") + \
        (f", labelled by {label_name}" if label_name and names is not None else "") + "."
    if has_bars:
        text += " Error bars: 5–95 % of the replicates."
    _caption(fig, text)
    if path is not None:
        save_figure(fig, path)
    return fig


def series_paths(
    series: np.ndarray,
    labels: Sequence[str] = (),
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    ylabel: str = "Value",
    band: tuple[float, float] = (0.05, 0.95),
) -> Figure:
    """A declared series over time: the mean of each component with its pointwise band.

    Parameters
    ----------
    series : array, shape (T + 1, runs) or (T + 1, runs, K)
        Values per step and replicate (and component).
    labels : sequence of str
        Names of the ``K`` components.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.cumsum(np.ones((5, 3, 2)), axis=0)
    >>> fig = series_paths(s, ["a", "b"], title="demo")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
    ['a (mean)', 'b (mean)']
    """
    s = np.asarray(series, dtype=np.float64)
    if s.ndim == 2:
        s = s[:, :, None]
    if s.ndim != 3 or s.shape[0] == 0:
        raise ParameterError("series", f"must have shape (steps, runs[, K]), got {s.shape}")
    lo, hi = _check_band(band)
    K, runs = s.shape[2], s.shape[1]
    names = list(labels) if labels else ([""] if K == 1 else [str(k) for k in range(K)])
    steps = np.arange(s.shape[0])
    fig, (ax,) = _new_figure()
    for k in range(K):
        color = _PALETTE[k % len(_PALETTE)]
        if runs > 1:
            q = np.quantile(s[:, :, k], [lo, hi], axis=1)
            ax.fill_between(steps, q[0], q[1], color=color, alpha=0.15, linewidth=0)
        ax.plot(steps, s[:, :, k].mean(axis=1), color=color, linewidth=2,
                label=f"{_text(names[k])} (mean)".strip() if names[k] else "mean")
    ax.set_xlabel("Step")
    ax.set_ylabel(_text(ylabel))
    ax.set_xlim(0, max(1, len(steps) - 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", frameon=False, title=f"bands: {100 * lo:g}–{100 * hi:g} % of {runs} runs"
              if runs > 1 else None)
    ax.set_title(_text(title) if title else "Over time")
    _caption(fig, f"Lines: mean over {runs} replicates" + (
        f"; bands: {100 * lo:g}–{100 * hi:g} % of the replicates at each step." if runs > 1 else "."))
    if path is not None:
        save_figure(fig, path)
    return fig


def category_bars(
    fractions: Mapping[str, float],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    ylabel: str = "Share of replicates",
    runs: int | None = None,
    colors: Mapping[str, str] | None = None,
    caption: str | None = None,
) -> Figure:
    """Share of each category (e.g. of replicates ending in each outcome), as labelled bars.

    With ``runs``, each bar carries a 95 % binomial interval (normal approximation).

    Parameters
    ----------
    fractions : mapping of label to share
    colors : mapping of label to colour, optional
        Default: the categorical palette in order.
    caption : str, optional
        What the bars are (default: shares of the replicates).

    Examples
    --------
    >>> fig = category_bars({"wrong": 0.25, "none": 0.0, "correct": 0.75}, runs=100)
    >>> [round(float(p.get_height()), 2) for p in fig.axes[0].patches]
    [0.25, 0.0, 0.75]
    """
    keys = list(fractions)
    names = [_text(k) for k in keys]
    p = np.array([float(v) for v in fractions.values()])
    fig, (ax,) = _new_figure()
    x = np.arange(len(p))
    err = None
    if runs:
        err = 1.96 * np.sqrt(p * (1 - p) / max(int(runs), 1))
    col = [(colors or {}).get(k, _PALETTE[i % len(_PALETTE)]) for i, k in enumerate(keys)]
    ax.bar(x, p, color=col, yerr=err, capsize=4, error_kw={"ecolor": "#333333", "linewidth": 1})
    tops = p + (err if err is not None else 0.0)
    for xi, pi, ti in zip(x, p, tops, strict=True):
        ax.annotate(f"{100 * pi:.0f} %", (xi, ti), textcoords="offset points", xytext=(0, 4), ha="center",
                    fontsize=9)
    ax.set_xticks(x, names)
    ax.set_ylim(0, min(1.0, max(float(tops.max(initial=0)), 0.05) * 1.2 + 0.05))
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.set_ylabel(_text(ylabel))
    ax.set_title(_text(title) if title else "Outcomes")
    text = caption or (f"Bars: share of the {runs} replicates in each category" if runs
                       else "Bars: share in each category")
    if runs:
        text += "; whiskers: 95 % binomial intervals of each share."
    _caption(fig, text)
    if path is not None:
        save_figure(fig, path)
    return fig


def run_distributions(
    values: Mapping[str, Any],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    bins: int = 30,
) -> Figure:
    """One histogram per numeric per-replicate output (small multiples), mean marked.

    Parameters
    ----------
    values : mapping of name to array or (array, description)
        The per-replicate values of each output; the description becomes the
        panel's axis label.

    Examples
    --------
    >>> import numpy as np
    >>> fig = run_distributions({"loss": (np.array([0.1, 0.2, 0.2, 0.9]), "share of value lost")}, bins=4)
    >>> int(sum(p.get_height() for p in fig.axes[0].patches))
    4
    """
    items = [(k, *(v if isinstance(v, tuple) else (v, ""))) for k, v in values.items()]
    if not items:
        raise ParameterError("values", "nothing to draw")
    ncol = 2 if len(items) > 1 else 1
    nrow = -(-len(items) // ncol)
    fig = Figure(figsize=(7.0, 2.3 * nrow + 0.8), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    runs = 0
    for ax, (name, v, desc) in zip(axes, items, strict=False):
        x = np.asarray(v, dtype=np.float64).ravel()
        x = x[np.isfinite(x)]
        runs = max(runs, len(x))
        ax.hist(x, bins=bins, color=_BLUE, edgecolor="white", linewidth=0.4)
        if len(x):
            ax.axvline(float(x.mean()), color=_ORANGE, linewidth=1.8)
        ax.set_title(_text(name), fontsize=9, loc="left")
        ax.set_xlabel(_text(textwrap.fill(desc, 50)) if desc else _text(name), fontsize=8)
        ax.set_ylabel("Replicates", fontsize=8)
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[len(items):]:
        ax.set_visible(False)
    fig.suptitle(_text(title) if title else "Per-replicate outputs")
    _caption(fig, f"Bars: number of the {runs} replicates by value of each output; orange line: the mean.")
    if path is not None:
        save_figure(fig, path)
    return fig


def robustness_curves(
    records: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Giant component against the fraction of firms removed, at random and targeted.

    ``records`` are the rows of ``robustness.csv``: ``strategy``, ``fraction``,
    ``giant_mean`` and optionally ``giant_q05`` / ``giant_q95`` (the band).

    Examples
    --------
    >>> recs = [{"strategy": s, "fraction": f, "giant_mean": (1 - f) ** (1 if s == "random" else 3)}
    ...         for s in ("random", "degree") for f in (0.0, 0.25, 0.5)]
    >>> fig = robustness_curves(recs)
    >>> [ln.get_label() for ln in fig.axes[0].lines]
    ['random removal', 'targeted: by degree']
    """
    rows = list(records.values()) if isinstance(records, Mapping) else list(records)
    if not rows:
        raise ParameterError("records", "no robustness records to draw")
    cols = _columns(rows, ["strategy", "fraction", "giant_mean"])
    try:
        q = _columns(rows, ["giant_q05", "giant_q95"])
    except ParameterError:
        q = None
    fig, (ax,) = _new_figure()
    strategies = list(dict.fromkeys(cols["strategy"].tolist()))
    for k, strat in enumerate(strategies):
        m = cols["strategy"] == strat
        f = cols["fraction"][m].astype(np.float64)
        o = np.argsort(f, kind="stable")
        color = (_GREY if strat == "random" else _PALETTE[k % len(_PALETTE)])
        label = "random removal" if strat == "random" else f"targeted: by {_text(strat)}"
        if q is not None:
            ax.fill_between(f[o], q["giant_q05"][m].astype(float)[o], q["giant_q95"][m].astype(float)[o],
                            color=color, alpha=0.18, linewidth=0)
        ax.plot(f[o], cols["giant_mean"][m].astype(np.float64)[o], color=color, linewidth=2, marker="o",
                markersize=3.5, label=label, linestyle="--" if strat == "random" else "-")
    ax.set_xlabel("Share of firms removed")
    ax.set_ylabel("Largest connected group (share of all firms)")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, float(cols["fraction"].astype(float).max()) * 1.02 or 1.0)
    for a in (ax.xaxis, ax.yaxis):
        a.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.legend(loc="upper right", frameon=False)
    ax.set_title(_text(title) if title else "Robustness of the firm network")
    _caption(fig, "Lines: mean size of the largest connected group of firms after removing a share of "
             "them at random or in order of degree or size (largest first)"
             + ("; bands: 5–95 % of the removal replicates." if q is not None else "."))
    if path is not None:
        save_figure(fig, path)
    return fig


def sweep_map(
    records: Any,
    keys: Sequence[str],
    path: str | os.PathLike[str] | None = None,
    *,
    metrics: Mapping[str, str] | None = None,
    title: str | None = None,
    runs: int | None = None,
) -> Figure:
    """A sweep's result: a heat map per metric over two swept keys, or lines over one.

    Parameters
    ----------
    records : list of dict
        One record per sweep point with the swept ``keys`` and the ``metrics``
        columns.
    keys : sequence of str
        One or two swept keys (the axes).
    metrics : mapping of column to label, optional
        What to draw (default: ``mean_final`` and ``global_share``, as written
        by :func:`diffusion.viz.report.sweep_points`).
    runs : int, optional
        Replicates per point (said in the caption).

    Examples
    --------
    >>> recs = [{"a": a, "b": b, "m": a * b} for a in (1, 2) for b in (0.1, 0.2, 0.3)]
    >>> fig = sweep_map(recs, ["a", "b"], metrics={"m": "product"})
    >>> fig.axes[0].images[0].get_array().tolist()
    [[0.1, 0.2, 0.3], [0.2, 0.4, 0.6]]
    """
    rows = list(records)
    keys = list(keys)
    if not rows:
        raise ParameterError("records", "no sweep points to draw")
    if not 1 <= len(keys) <= 2:
        raise ParameterError("keys", f"a sweep figure draws one or two swept keys, got {len(keys)}")
    metrics = dict(metrics or {"mean_final": "Mean final share adopted",
                               "global_share": "Share of runs reaching 50 %"})
    _columns(rows, [*keys, *metrics])
    per = f" over its {runs} replicates" if runs else ""
    if len(keys) == 1:
        fig, (ax,) = _new_figure()
        k = keys[0]
        xv = np.array([float(r[k]) for r in rows])
        o = np.argsort(xv, kind="stable")
        for i, (col, lab) in enumerate(metrics.items()):
            ax.plot(xv[o], np.array([float(r[col]) for r in rows])[o], color=_PALETTE[i % len(_PALETTE)],
                    marker="o", linewidth=2, label=_text(lab))
        ax.set_xlabel(_text(k))
        ax.set_ylabel("Share")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
        ax.legend(loc="best", frameon=False)
        ax.set_title(_text(title) if title else "Sweep")
        _caption(fig, f"One point per swept value of {k}: each metric{per}.")
    else:
        kx, ky = keys[1], keys[0]  # columns: second key, rows: first key
        xs = sorted({r[kx] for r in rows}, key=_sort_key)
        ys = sorted({r[ky] for r in rows}, key=_sort_key)
        fig = Figure(figsize=(4.2 * len(metrics) + 0.6, 0.55 * len(ys) + 2.4), layout="constrained")
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
        for ax, (col, lab) in zip(axes, metrics.items(), strict=True):
            grid = np.full((len(ys), len(xs)), np.nan)
            for r in rows:
                grid[ys.index(r[ky]), xs.index(r[kx])] = float(r[col])
            im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0.0,
                           vmax=max(1.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 1.0))
            for (i, j), v in np.ndenumerate(grid):
                if np.isfinite(v):
                    ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=8,
                            color="white" if v < 0.6 else "black")
            ax.set_xticks(range(len(xs)), [_text(v) for v in xs])
            ax.set_yticks(range(len(ys)), [_text(v) for v in ys])
            ax.set_xlabel(_text(kx))
            ax.set_ylabel(_text(ky))
            ax.set_title(_text(lab), fontsize=10)
            fig.colorbar(im, ax=ax, shrink=0.85, format=lambda v, _: f"{100 * v:.0f} %")
        fig.suptitle(_text(title) if title else "Sweep")
        _caption(fig, f"One cell per sweep point: each metric{per}, in percent; empty cells: points not "
                 "run yet.")
    if path is not None:
        save_figure(fig, path)
    return fig


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, float(v)) if isinstance(v, int | float) and not isinstance(v, bool) else (1, str(v))


def sensitivity_indices(
    records: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Global sensitivity indices, one panel per output, parameters ranked by their effect.

    ``records`` are the rows of ``sensitivity.csv``: ``parameter``, ``output`` and either
    the Sobol' indices ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (bars: first-order and
    total, with their confidence intervals) or the Morris measures ``mu_star``,
    ``mu_star_conf``, ``sigma`` (bars: μ* with its interval; dots: σ).

    Examples
    --------
    >>> recs = [{"parameter": "a", "output": "y", "S1": 0.7, "S1_conf": 0.1, "ST": 0.8,
    ...          "ST_conf": 0.1},
    ...         {"parameter": "b", "output": "y", "S1": 0.0, "S1_conf": 0.05, "ST": 0.01,
    ...          "ST_conf": 0.02}]
    >>> fig = sensitivity_indices(recs)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['b', 'a']
    """
    rows = list(records.values()) if isinstance(records, Mapping) else list(records)
    if not rows:
        raise ParameterError("records", "no sensitivity indices to draw")
    sobol = "ST" in rows[0]
    outputs = list(dict.fromkeys(str(r["output"]) for r in rows))
    n_par = len({r["parameter"] for r in rows})
    fig = Figure(figsize=(7.0, 0.9 + (0.35 * n_par + 0.9) * len(outputs)), layout="constrained")
    axes = fig.subplots(len(outputs), 1, squeeze=False)[:, 0]
    for ax, out in zip(axes, outputs, strict=True):
        sub = [r for r in rows if str(r["output"]) == out]
        key = "ST" if sobol else "mu_star"
        vals = np.array([float(r[key]) if r[key] not in ("", None) else np.nan for r in sub])
        order = np.argsort(np.nan_to_num(vals, nan=-np.inf), kind="stable")
        names = [_text(sub[i]["parameter"]) for i in order]
        y = np.arange(len(sub))

        def col(name: str, order: np.ndarray = order, sub: list[Any] = sub) -> np.ndarray:
            return np.array([float(sub[i][name]) if sub[i].get(name) not in ("", None) else np.nan
                             for i in order])

        ax.grid(True, axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if sobol:
            ax.barh(y + 0.2, col("ST"), height=0.38, xerr=col("ST_conf"), color=_BLUE,
                    ecolor="#333333", capsize=2, label="total (ST)")
            ax.barh(y - 0.2, col("S1"), height=0.38, xerr=col("S1_conf"), color=_ORANGE,
                    ecolor="#333333", capsize=2, label="first order (S1)")
            ax.axvline(0, color=_GREY, linewidth=0.8)
            ax.set_xlabel("Sobol' index (share of the output's variance)")
        else:
            ax.barh(y, col("mu_star"), height=0.5, xerr=col("mu_star_conf"), color=_BLUE,
                    ecolor="#333333", capsize=2, label="μ* (mean |elementary effect|)")
            ax.scatter(col("sigma"), y, color=_ORANGE, zorder=3, label="σ (interactions, non-linearity)")
            ax.set_xlabel("Morris elementary effects")
        ax.set_yticks(y, names)
        ax.set_title(_text(out), fontsize=10, loc="left")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    fig.suptitle(_text(title) if title else "Global sensitivity")
    if path is not None:
        save_figure(fig, path)
    return fig


def policy_tradeoff(
    records: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    xlabel: str = "Cost of the policy",
    ylabel: str = "Change in total loss vs the baseline (paired)",
) -> Figure:
    """Loss change against cost, one point per policy, with paired 95 % intervals.

    ``records`` are the rows of ``policies.csv``: ``policy``, ``cost``,
    ``loss_change_mean`` and ``loss_change_se`` (paired); the bars are
    ``mean ± 1.96 SE``. Points below the zero line avert loss; the further
    left, the cheaper.

    Examples
    --------
    >>> recs = [{"policy": "baseline", "cost": 0.0, "loss_change_mean": 0.0, "loss_change_se": 0.0},
    ...         {"policy": "buffers", "cost": 0.4, "loss_change_mean": -0.3, "loss_change_se": 0.01}]
    >>> fig = policy_tradeoff(recs)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['baseline', 'buffers']
    """
    rows = list(records.values()) if isinstance(records, Mapping) else list(records)
    if not rows:
        raise ParameterError("records", "no policies to draw")
    cols = _columns(rows, ["policy", "cost", "loss_change_mean", "loss_change_se"])
    x = cols["cost"].astype(np.float64)
    y = cols["loss_change_mean"].astype(np.float64)
    err = 1.959963984540054 * cols["loss_change_se"].astype(np.float64)
    names = cols["policy"]
    fig, (ax,) = _new_figure(height=4.5)
    ax.axhline(0.0, color=_GREY, linewidth=1, zorder=1)
    colors = [_GREY if str(nm) == "baseline" else _PALETTE[k % len(_PALETTE)] for k, nm in enumerate(names)]
    ax.errorbar(x, y, yerr=err, fmt="none", ecolor="#333333", elinewidth=1.2, capsize=4, zorder=2)
    ax.scatter(x, y, c=colors, edgecolor="#333333", s=55, zorder=3)
    ax.set_xlabel(_text(xlabel))
    ax.set_ylabel(_text(ylabel))
    span = float(np.nanmax(x)) if len(x) else 1.0
    ax.set_xlim(-0.03 * max(span, 1e-9), max(span, 1e-9) * 1.25)
    ax.set_title((f"{_text(title)}: loss averted against cost" if title else "Policies: loss averted against cost")
                 + "\n(bars: paired 95 % intervals, common random numbers)", fontsize=11)
    _place_labels(fig, ax, np.asarray(x, float), np.asarray(y, float), [str(nm) for nm in names], avoid=[ax.title])
    if path is not None:
        save_figure(fig, path)
    return fig


def recovery_paths(
    records: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    level: float | None = None,
) -> Figure:
    """Value operating after the shock, per policy: the mean path with its 5–95 % band.

    ``records`` are the rows of ``recovery_paths.csv``: ``policy``, ``step``,
    ``value_mean``, ``value_q05``, ``value_q95``. ``level`` draws the recovery
    threshold.

    Examples
    --------
    >>> recs = [{"policy": p, "step": t, "value_mean": v, "value_q05": v - 0.1, "value_q95": v}
    ...         for p, a in (("baseline", 0.2), ("interop", 0.6)) for t, v in enumerate([a, 0.8, 1.0])]
    >>> fig = recovery_paths(recs, level=0.95)
    >>> [ln.get_label() for ln in fig.axes[0].get_lines()][:2]
    ['baseline', 'interop']
    """
    rows = list(records)
    if not rows:
        raise ParameterError("records", "no recovery paths to draw")
    cols = _columns(rows, ["policy", "step", "value_mean", "value_q05", "value_q95"])
    names = list(dict.fromkeys(str(p) for p in cols["policy"]))
    fig, (ax,) = _new_figure(height=4.5)
    for k, name in enumerate(names):
        sel = np.array([str(p) == name for p in cols["policy"]])
        t = cols["step"][sel].astype(np.float64)
        color = _GREY if name == "baseline" else _PALETTE[k % len(_PALETTE)]
        ax.fill_between(t, cols["value_q05"][sel].astype(float), cols["value_q95"][sel].astype(float),
                        color=color, alpha=0.12, linewidth=0)
        ax.plot(t, cols["value_mean"][sel].astype(float), color=color, linewidth=2.5 if name == "baseline" else 1.6,
                label=_text(name))
    if level is not None:
        ax.axhline(level, color="#333333", linestyle=":", linewidth=1)
    ax.set_xlabel("Steps after the shock")
    ax.set_ylabel("Share of the pre-shock value operating")
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", frameon=False, fontsize=8, ncol=2)
    ax.set_title(_text(title) if title else "Recovery after the outage (mean, 5–95 % band)")
    if path is not None:
        save_figure(fig, path)
    return fig
