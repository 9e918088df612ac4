"""Colours, sizes, tooltips and legends: small pure functions over arrays.

Everything here maps numpy arrays to plain Python values (hex colour strings,
pixel sizes, text lines) so that it can be tested without a browser. The HTML
assembler (:func:`diffusion.viz.to_html`) only combines these pieces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CATEGORICAL",
    "EMPTY",
    "VIRIDIS",
    "Coloring",
    "categorical_colors",
    "edge_widths",
    "format_value",
    "is_categorical",
    "lighten",
    "node_sizes",
    "sequential_colors",
    "size_legend",
    "tooltips",
]

#: Colour-blind-friendly categorical palette (Okabe–Ito, then Tableau extras).
CATEGORICAL: tuple[str, ...] = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
    "#000000", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#9467bd", "#ff9896",
)
#: Colour of "nothing": not adopted, no platform, survived, missing value.
EMPTY = "#cfd4da"
#: Anchor colours of the viridis colour map, interpolated by :func:`sequential_colors`.
VIRIDIS: tuple[str, ...] = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)


def _hex_to_rgb(colors: Sequence[str]) -> np.ndarray:
    return np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=np.float64)


def _rgb_to_hex(rgb: np.ndarray) -> np.ndarray:
    rgb = np.clip(np.rint(rgb), 0, 255).astype(np.int64)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    if len(packed) == 0:
        return np.array([], dtype="<U7")
    # Format only the distinct colours, then scatter back.
    uniq, inv = np.unique(packed, return_inverse=True)
    names = np.array([f"#{int(v):06x}" for v in uniq], dtype="<U7")
    return names[inv]


@dataclass
class Coloring:
    """How nodes are coloured, for the page and its timeline.

    Attributes
    ----------
    colors : ndarray of str, shape (k,)
        Final colour of each drawn node.
    legend : list of (label, colour)
        Legend entries (categorical colourings).
    gradient : dict or None
        ``{"low": str, "high": str, "colors": [...]}`` for a continuous scale.
    caption : str
        What the colours mean (shown above the legend).
    times : ndarray of int or None
        Per-node event time (adoption step or failure round, ``-1`` never) that
        the timeline replays; ``None`` when there is nothing to replay.
    pending : ndarray of str or None
        Colour of each node before its event time.
    frames : ndarray or None
        Alternative to ``times``: colour of node ``i`` at time ``t`` in
        ``frames[t, i]`` — a colour string, or an index into ``palette``.
    palette : list of str or None
        Colours that integer ``frames`` index.
    time_label : str
        Name of the timeline unit ("step", "round").
    counted : ndarray of int or None
        Event times that the status line counts (default ``times``), ``-1`` never.
    """

    colors: np.ndarray
    legend: list[tuple[str, str]] = field(default_factory=list)
    gradient: dict[str, Any] | None = None
    caption: str = ""
    times: np.ndarray | None = None
    pending: np.ndarray | None = None
    frames: np.ndarray | None = None
    palette: list[str] | None = None
    time_label: str = "step"
    #: Event times the status line and curve count (default: ``times``); the loss
    #: view replays partial losses from the start but counts only failures.
    counted: np.ndarray | None = None


def is_categorical(values: np.ndarray, max_levels: int = 12) -> bool:
    """Whether an attribute should get a categorical palette.

    Strings, booleans and integers with at most ``max_levels`` distinct values
    are categorical; floats and many-valued integers are continuous.

    Examples
    --------
    >>> import numpy as np
    >>> is_categorical(np.array(["retail", "food"])), is_categorical(np.array([0.1, 0.7]))
    (True, False)
    """
    v = np.asarray(values)
    if v.dtype.kind in "OUSb":
        return True
    if v.dtype.kind in "iu":
        return len(np.unique(v)) <= max_levels
    return False


def categorical_colors(
    values: np.ndarray, *, palette: Sequence[str] = CATEGORICAL, names: Mapping[Any, str] | None = None,
    empty: Any = None, max_levels: int = 12,
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Colour each value by its category.

    Categories are ordered by value; beyond ``max_levels`` the rarest are
    pooled into "other". ``empty`` (e.g. ``0`` = no platform) gets :data:`EMPTY`.

    Parameters
    ----------
    values : array-like, shape (k,)
    palette : sequence of hex colours
    names : mapping, optional
        Display name of each category value (default ``str(value)``).
    empty : scalar, optional
        The value meaning "none".
    max_levels : int
        Most categories given their own colour.

    Returns
    -------
    colors : ndarray of str, shape (k,)
    legend : list of (label, colour)

    Examples
    --------
    >>> import numpy as np
    >>> cols, legend = categorical_colors(np.array([0, 2, 1, 2]), names={1: "A", 2: "B"}, empty=0)
    >>> [label for label, _ in legend]
    ['none', 'A', 'B']
    >>> bool(cols[1] == cols[3]), bool(cols[0] == EMPTY)
    (True, True)
    """
    v = np.asarray(values)
    if v.dtype.kind == "O":  # mixed Python objects (e.g. None among strings) compare as text
        v = v.astype(str)
    uniq, inv, counts = np.unique(v, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    is_empty = np.array([empty is not None and u == empty for u in uniq.tolist()], dtype=bool)
    regular = np.flatnonzero(~is_empty)
    if len(regular) > max_levels:  # keep the most frequent categories, in value order
        top = regular[np.argsort(-counts[regular], kind="stable")[: max_levels - 1]]
        keep = np.sort(top)
    else:
        keep = regular
    table = np.full(len(uniq), "#999999", dtype="<U7")
    legend: list[tuple[str, str]] = []
    if is_empty.any():
        table[is_empty] = EMPTY
        legend.append(((names or {}).get(empty, "none"), EMPTY))
    for j, u in enumerate(keep):
        table[u] = palette[j % len(palette)]
        key = uniq[u].item() if isinstance(uniq[u], np.generic) else uniq[u]
        legend.append(((names or {}).get(key, format_value(key)), str(table[u])))
    if len(regular) > len(keep):
        legend.append(("other", "#999999"))
    return table[inv], legend


def sequential_colors(
    values: np.ndarray, vmin: float | None = None, vmax: float | None = None,
    *, stops: Sequence[str] = VIRIDIS, missing: str = EMPTY,
) -> np.ndarray:
    """Map numbers to a continuous colour scale (viridis by default).

    ``nan`` values get ``missing``. Values are clipped to ``[vmin, vmax]``
    (default: their finite range).

    Examples
    --------
    >>> import numpy as np
    >>> sequential_colors(np.array([0.0, 1.0, np.nan])).tolist()
    ['#440154', '#fde725', '#cfd4da']
    """
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x)
    out = np.full(x.shape, missing, dtype="<U7")
    if not ok.any():
        return out
    lo = float(np.min(x[ok])) if vmin is None else float(vmin)
    hi = float(np.max(x[ok])) if vmax is None else float(vmax)
    u = np.zeros(int(ok.sum())) if hi <= lo else np.clip((x[ok] - lo) / (hi - lo), 0.0, 1.0)
    anchors = _hex_to_rgb(stops)
    grid = np.linspace(0.0, 1.0, len(anchors))
    rgb = np.column_stack([np.interp(u, grid, anchors[:, c]) for c in range(3)])
    out[ok] = _rgb_to_hex(rgb)
    return out


def lighten(colors: np.ndarray, amount: float = 0.75) -> np.ndarray:
    """Blend colours towards white by ``amount`` (0 = unchanged, 1 = white).

    Examples
    --------
    >>> import numpy as np
    >>> lighten(np.array(["#000000"]), 0.5).tolist()
    ['#808080']
    """
    c = np.asarray(colors)
    if c.size == 0:
        return c.astype("<U7")
    uniq, inv = np.unique(c, return_inverse=True)
    rgb = _hex_to_rgb(uniq.tolist())
    out = _rgb_to_hex(rgb + (255.0 - rgb) * float(amount))
    return out[inv.ravel()]


def node_sizes(values: np.ndarray | None, k: int, *, low: float = 8.0, high: float = 36.0) -> np.ndarray:
    """Pixel radius of each node: area proportional to ``values``.

    Sizes scale with the square root of the value between the smallest and
    largest finite value; missing or negative values get ``low``; ``None``
    gives every node the middle size.

    Examples
    --------
    >>> import numpy as np
    >>> node_sizes(np.array([0.0, 25.0, 100.0]), 3, low=10, high=30).tolist()
    [10.0, 20.0, 30.0]
    """
    if values is None:
        return np.full(k, (low + high) / 2)
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x) & (x >= 0)
    out = np.full(x.shape, float(low))
    if ok.any():
        r = np.sqrt(x[ok])
        lo, hi = r.min(), r.max()
        out[ok] = low + (high - low) * ((r - lo) / (hi - lo) if hi > lo else 0.5)
    return out


def size_legend(values: np.ndarray | None, *, low: float, high: float, count: int = 3) -> list[tuple[str, float]]:
    """Reference sizes for a legend: ``count`` values of ``values`` and the radius :func:`node_sizes` gives them.

    Examples
    --------
    >>> import numpy as np
    >>> size_legend(np.array([0.0, 25.0, 100.0]), low=10, high=30)
    [('0', 10.0), ('25', 20.0), ('100', 30.0)]
    """
    if values is None:
        return []
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x) & (x >= 0)]
    if x.size == 0:
        return []
    ref = np.unique(np.quantile(x, np.linspace(0, 1, count), method="nearest"))
    r, lo, hi = np.sqrt(ref), np.sqrt(x.min()), np.sqrt(x.max())
    radius = low + (high - low) * ((r - lo) / (hi - lo) if hi > lo else np.full(len(r), 0.5))
    return [(format_value(float(v)), round(float(s), 2)) for v, s in zip(ref.tolist(), radius, strict=True)]


def edge_widths(weights: np.ndarray | None, m: int, *, low: float = 0.5, high: float = 4.0) -> np.ndarray:
    """Edge width in pixels, linear in the weight (``None``: all ``1``).

    Examples
    --------
    >>> import numpy as np
    >>> edge_widths(np.array([1.0, 3.0]), 2, low=1, high=2).tolist()
    [1.0, 2.0]
    """
    if weights is None:
        return np.ones(m)
    w = np.abs(np.asarray(weights, dtype=np.float64))
    lo, hi = (float(w.min()), float(w.max())) if len(w) else (0.0, 0.0)
    if hi <= lo:
        return np.ones(m)
    return low + (high - low) * (w - lo) / (hi - lo)


def format_value(v: Any) -> str:
    """Short human-readable text for one attribute value.

    Examples
    --------
    >>> format_value(3.14159), format_value(2.0), format_value("retail")
    ('3.142', '2', 'retail')
    """
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def tooltips(
    header: Sequence[str], columns: Mapping[str, Sequence[Any] | np.ndarray], *, max_columns: int = 20,
) -> list[str]:
    """Plain-text tooltip of each node: a header line, then ``name: value`` lines.

    The text is never interpreted as HTML by the page (it is set with
    ``textContent``), so it needs no escaping here.

    Parameters
    ----------
    header : sequence of str, length k
        First line of each tooltip (the firm's id or label).
    columns : mapping of str to sequence, each of length k
        Attributes and outcomes, in display order.
    max_columns : int
        Most columns shown.

    Examples
    --------
    >>> tooltips(["firm a"], {"sector": ["retail"], "size": [12.5]})
    ['firm a\\nsector: retail\\nsize: 12.5']
    """
    cols = [(str(k), [format_value(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)])
            for k, v in list(columns.items())[:max_columns]]
    lines = [[str(h)] for h in header]
    for name, vals in cols:
        for i, text in enumerate(vals):
            lines[i].append(f"{name}: {text}")
    return ["\n".join(parts) for parts in lines]
