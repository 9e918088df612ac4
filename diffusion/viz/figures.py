"""Publication figures (matplotlib, PNG and SVG).

Each function takes plain arrays or flat records, draws on a fresh
:class:`matplotlib.figure.Figure` (never pyplot, so no global state is touched
and no display is needed), writes ``<path>.png`` and ``<path>.svg`` when a
path is given, and returns the figure so callers (and tests) can inspect it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import ParameterError
from ..outputs import atomic_write

__all__ = ["adoption_curve", "category_bars", "fragility_curve", "frontier", "herfindahl", "platform_shares",
           "policy_tradeoff", "recovery_paths", "save_figure", "sensitivity_indices", "series_paths"]

_BLUE, _ORANGE, _GREY = "#0072b2", "#d55e00", "#7f7f7f"
_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


def _text(s: Any) -> str:
    """User text safe for matplotlib (a ``$`` would start math mode)."""
    return str(s).replace("$", r"\$")


def save_figure(fig: Figure, path: str | os.PathLike[str], formats: Sequence[str] = ("png", "svg"),
                dpi: int = 150) -> list[Path]:
    """Write ``fig`` as ``<path>.png`` and ``<path>.svg`` (atomically); return the files.

    A suffix ``.png``/``.svg``/``.pdf`` on ``path`` is replaced by each format's.

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
        with atomic_write(target, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight")
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
    if runs > 1:
        q = np.quantile(curve, [lo, hi], axis=1)
        ax.fill_between(steps, q[0], q[1], color=_BLUE, alpha=0.2, linewidth=0,
                        label=f"{100 * lo:g}–{100 * hi:g} % of {runs} runs")
    ax.plot(steps, curve.mean(axis=1), color=_BLUE, linewidth=2, label="mean" if runs > 1 else "adoption")
    ax.set_xlabel("Step")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max(1.0, float(curve.max())) * 1.02)
    ax.set_xlim(0, max(1, len(steps) - 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(_text(title) if title else "Adoption over time")
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
) -> Figure:
    """Platform market shares over time (top) and their concentration (bottom).

    Parameters
    ----------
    series : array, shape (T + 1, runs, K) or (T + 1, K)
        Share of firms on each platform after each step (per replicate).
    names : sequence of str, optional
        Platform names, one per column (default ``platform 1 ..``). A column
        named ``none`` / ``no platform`` is drawn in grey and left out of the
        concentration.
    path : path-like, optional
        Write ``<path>.png`` and ``<path>.svg``.
    title : str, optional
    concentration : array, shape (T + 1, runs) or (T + 1,), optional
        HHI per step (default: computed from the shares).
    band : (low, high)
        Quantiles of the bands across replicates.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0.1, 0.1], [0.3, 0.2], [0.6, 0.2]])
    >>> fig = platform_shares(s, ["A", "B"])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['Share of firms', 'Concentration (HHI)']
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
    steps = np.arange(s.shape[0])
    fig, (ax, ax2) = _new_figure(2, height=5.5)
    runs = s.shape[1]
    color_i = 0
    for j in range(K):
        color = _GREY if is_none[j] else _PALETTE[color_i % len(_PALETTE)]
        color_i += 0 if is_none[j] else 1
        if runs > 1:
            q = np.quantile(s[:, :, j], [lo, hi], axis=1)
            ax.fill_between(steps, q[0], q[1], color=color, alpha=0.15, linewidth=0)
        ax.plot(steps, s[:, :, j].mean(axis=1), color=color, linewidth=2,
                linestyle="--" if is_none[j] else "-", label=_text(names[j]))
    ax.set_ylabel("Share of firms")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.legend(loc="best", frameon=False, ncol=min(4, K))
    hhi = herfindahl(s[:, :, ~is_none]) if concentration is None else np.asarray(concentration, dtype=float)
    if hhi.ndim == 1:
        hhi = hhi[:, None]
    if runs > 1 and hhi.shape[1] > 1 and np.isfinite(hhi).any():
        ok = np.isfinite(hhi).all(axis=0)
        if ok.any():
            q = np.quantile(hhi[:, ok], [lo, hi], axis=1)
            ax2.fill_between(steps, q[0], q[1], color=_ORANGE, alpha=0.2, linewidth=0)
    fin = np.isfinite(hhi)  # replicates with no adopter yet have no concentration
    cnt = fin.sum(axis=1)
    mean_hhi = np.where(cnt > 0, np.where(fin, hhi, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)
    ax2.plot(steps, mean_hhi, color=_ORANGE, linewidth=2, label="HHI")
    k_active = max(1, int((~is_none).sum()))
    ax2.axhline(1.0 / k_active, color=_GREY, linewidth=1, linestyle=":", label=f"even split (1/{k_active})")
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("Step")
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylabel("Concentration (HHI)")
    ax2.legend(loc="best", frameon=False)
    ax.set_title(_text(title) if title else "Platform shares and concentration")
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
) -> Figure:
    """Systemic loss against shock severity: mean per severity and a quantile band.

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
    for gi, g in enumerate(np.unique(groups).tolist()):
        m = groups == g
        ux, inv = np.unique(xs[m], return_inverse=True)
        yy = ys[m]
        mean = np.bincount(inv, weights=yy, minlength=len(ux)) / np.bincount(inv, minlength=len(ux))
        color = _PALETTE[gi % len(_PALETTE)]
        order = np.argsort(inv, kind="stable")
        splits = np.split(yy[order], np.cumsum(np.bincount(inv, minlength=len(ux)))[:-1])
        if given is not None:
            gx = np.argsort(xs[m], kind="stable")
            ax.fill_between(xs[m][gx], given[0][m][gx], given[1][m][gx], color=color, alpha=0.18, linewidth=0)
        elif max(len(v) for v in splits) > 1:
            q = np.array([np.quantile(v, [lo, hi]) for v in splits])
            ax.fill_between(ux, q[:, 0], q[:, 1], color=color, alpha=0.18, linewidth=0)
        ax.plot(ux, mean, color=color, linewidth=2, marker="o", markersize=3.5,
                label=_text(g) if by else "mean loss")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max(1.0, float(np.nanmax(ys)) if len(ys) else 1.0) * 1.02)
    ax.legend(loc="best", frameon=False)
    ax.set_title(_text(title) if title else "Fragility curve")
    if path is not None:
        save_figure(fig, path)
    return fig


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
) -> Figure:
    """The homogeneity–fragility frontier: concentration against systemic loss.

    One point per scenario (or sweep value), with error bars when the records
    carry ``<y>_q05``/``<y>_q95`` columns (or ``<name>_q05``/``<name>_q95`` for
    ``y = "<name>_mean"``), joined in order of concentration and labelled by
    the ``label`` column.

    Examples
    --------
    >>> recs = [{"scenario": "diverse", "hhi": 0.2, "loss": 0.1},
    ...         {"scenario": "concentrated", "hhi": 0.9, "loss": 0.6}]
    >>> fig = frontier(recs)
    >>> fig.axes[0].get_xlabel(), [t.get_text() for t in fig.axes[0].texts]
    ('Concentration (HHI)', ['diverse', 'concentrated'])
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
    fig, (ax,) = _new_figure()
    order = np.argsort(xs, kind="stable")
    ax.plot(xs[order], ys[order], color=_GREY, linewidth=1, zorder=1)
    for stem in (y, y[: -len("_mean")] if y.endswith("_mean") else None):
        if stem is None:
            continue
        try:
            q = _columns(rows, [f"{stem}_q05", f"{stem}_q95"])
        except ParameterError:
            continue
        err = np.vstack([ys - q[f"{stem}_q05"].astype(float), q[f"{stem}_q95"].astype(float) - ys])
        ax.errorbar(xs, ys, yerr=np.clip(err, 0, None), fmt="none", ecolor=_BLUE, alpha=0.5, zorder=2)
        break
    ax.scatter(xs, ys, color=_ORANGE, edgecolor="#333333", s=45, zorder=3, label="scenario")
    if names is not None:
        rank = np.empty(len(xs), dtype=np.int64)
        rank[order] = np.arange(len(xs))
        for xi, yi, nm, rk in zip(xs.tolist(), ys.tolist(), names.tolist(), rank.tolist(), strict=True):
            # alternate above / below along the curve so that neighbouring labels do not collide
            ax.annotate(_text(nm), (xi, yi), xytext=(6, 6) if rk % 2 == 0 else (6, -14),
                        textcoords="offset points", fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, max(1.0, float(np.nanmax(ys)) if len(ys) else 1.0) * 1.02)
    ax.set_title(_text(title) if title else "Homogeneity–fragility frontier")
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
) -> Figure:
    """Share of each category (e.g. of replicates ending in each outcome), as labelled bars.

    With ``runs``, each bar carries a 95 % binomial interval (normal approximation).

    Examples
    --------
    >>> fig = category_bars({"wrong": 0.25, "none": 0.0, "correct": 0.75}, runs=100)
    >>> [round(float(p.get_height()), 2) for p in fig.axes[0].patches]
    [0.25, 0.0, 0.75]
    """
    names = [_text(k) for k in fractions]
    p = np.array([float(v) for v in fractions.values()])
    fig, (ax,) = _new_figure()
    x = np.arange(len(p))
    err = None
    if runs:
        err = 1.96 * np.sqrt(p * (1 - p) / max(int(runs), 1))
    ax.bar(x, p, color=[_PALETTE[k % len(_PALETTE)] for k in range(len(p))], yerr=err, capsize=4)
    for xi, pi in zip(x, p, strict=True):
        ax.annotate(f"{100 * pi:.0f} %", (xi, pi), textcoords="offset points", xytext=(0, 4), ha="center")
    ax.set_xticks(x, names)
    ax.set_ylim(0, min(1.0, max(float(p.max(initial=0)), 0.05) * 1.25 + 0.05))
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    ax.set_ylabel(_text(ylabel))
    note = f" (bars: 95 % intervals over {runs} runs)" if runs else ""
    ax.set_title((_text(title) if title else "Outcomes") + note)
    if path is not None:
        save_figure(fig, path)
    return fig

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
    _place_labels(fig, ax, [_text(nm) for nm in names], x, y)
    ax.set_title((f"{_text(title)}: loss averted against cost" if title else "Policies: loss averted against cost")
                 + "\n(bars: paired 95 % intervals, common random numbers)", fontsize=11)
    if path is not None:
        save_figure(fig, path)
    return fig


def _place_labels(fig: Figure, ax: Any, names: Sequence[str], x: np.ndarray, y: np.ndarray) -> None:
    """Label points beside them, moving a label up or down until it overlaps no earlier one."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    placed: list[Any] = []
    for i in np.lexsort((y, x)).tolist():
        ann = ax.annotate(names[i], (x[i], y[i]), xytext=(7, 4), textcoords="offset points", fontsize=9)
        for dy in (4, -12, 16, -24, 28, -36, 40, -48):
            ann.xyann = (7, dy)
            box = ann.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(ann.get_window_extent(renderer))


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
