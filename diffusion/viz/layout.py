"""A fast force-directed layout for drawing a few thousand nodes.

Fruchterman–Reingold forces (edge attraction ``d²/k``, pairwise repulsion
``k²/d``) with the repulsion computed on a grid by the particle-mesh method:
node masses are spread onto a square grid (cloud-in-cell), convolved with the
repulsion kernel by FFT and read back at the nodes. One iteration costs
``O(n + m + G² log G)`` instead of ``O(n²)``, so 5,000 nodes lay out in about a
second with numpy alone.
"""

from __future__ import annotations

import numpy as np

from .._random import default_rng

__all__ = ["block_layout", "force_layout"]


def _kernels(G: int) -> tuple[np.ndarray, np.ndarray]:
    """FFTs of the unit repulsion kernel ``d / |d|²`` on a ``2G x 2G`` periodic grid."""
    P = 2 * G
    off = np.fft.fftfreq(P, d=1.0 / P)  # 0, 1, .., G-1, -G, .., -1
    ax, ay = np.meshgrid(off, off, indexing="ij")
    r2 = ax**2 + ay**2
    r2[0, 0] = 1.0
    kx, ky = ax / r2, ay / r2
    kx[0, 0] = ky[0, 0] = 0.0
    kx[G, :] = 0.0  # the wrap-around row/column is not a real offset
    ky[:, G] = 0.0
    return np.fft.rfft2(kx), np.fft.rfft2(ky)


def _cic(g: np.ndarray, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Cloud-in-cell corner indices (4, n) and weights (4, n) of grid coordinates ``g``."""
    i0 = np.clip(np.floor(g).astype(np.int64), 0, G - 2)
    f = np.clip(g - i0, 0.0, 1.0)
    idx = np.stack([
        i0[:, 0] * G + i0[:, 1],
        (i0[:, 0] + 1) * G + i0[:, 1],
        i0[:, 0] * G + i0[:, 1] + 1,
        (i0[:, 0] + 1) * G + i0[:, 1] + 1,
    ])
    w = np.stack([
        (1 - f[:, 0]) * (1 - f[:, 1]),
        f[:, 0] * (1 - f[:, 1]),
        (1 - f[:, 0]) * f[:, 1],
        f[:, 0] * f[:, 1],
    ])
    return idx, w


def force_layout(
    n: int,
    sources: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    iterations: int = 80,
    seed: int | None = 0,
    scale: float = 1000.0,
) -> np.ndarray:
    """Positions of ``n`` nodes for edges ``sources[e] -- targets[e]``.

    Parameters
    ----------
    n : int
        Number of nodes.
    sources, targets : array of int
        Edge end points (each undirected edge once; direction is ignored).
    weights : array of float, optional
        Edge weights; heavier ties pull harder.
    iterations : int
        Number of force iterations (the step size cools linearly to zero).
    seed : int, optional
        Seed of the random initial positions (the layout is deterministic).
    scale : float
        Half-width of the returned square drawing area.

    Returns
    -------
    ndarray of float, shape (n, 2)
        Coordinates in ``[-scale, scale]``.

    Examples
    --------
    >>> import numpy as np
    >>> pos = force_layout(4, np.array([0, 1, 2]), np.array([1, 2, 3]), iterations=20)
    >>> pos.shape, bool(np.abs(pos).max() <= 1000.0 + 1e-9)
    ((4, 2), True)
    """
    rng = default_rng(seed)
    if n == 0:
        return np.zeros((0, 2))
    src = np.asarray(sources, dtype=np.int64)
    dst = np.asarray(targets, dtype=np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    w = np.ones(len(src)) if weights is None else np.abs(np.asarray(weights, dtype=np.float64))[keep]
    linked = np.zeros(n, dtype=bool)
    linked[src] = True
    linked[dst] = True
    pos = np.zeros((n, 2))
    core = np.flatnonzero(linked)
    if len(core) >= 2:
        remap = np.full(n, -1, dtype=np.int64)
        remap[core] = np.arange(len(core))
        pos[core] = _fruchterman_reingold(len(core), remap[src], remap[dst], w, iterations, rng)
    # Firms without ties go on a tidy grid below the drawing instead of flying off.
    iso = np.flatnonzero(~linked)
    if len(iso):
        if len(core) >= 2:
            lo, hi = pos[core].min(axis=0), pos[core].max(axis=0)
        else:
            lo = hi = np.zeros(2)
        width = max(float(hi[0] - lo[0]), np.sqrt(len(iso)))
        step = 1.0
        per_row = max(1, int(width / step) + 1)
        r, c = np.divmod(np.arange(len(iso)), per_row)
        pos[iso, 0] = lo[0] + c * step
        pos[iso, 1] = hi[1] + 2.0 + r * step
    pos -= (pos.min(axis=0) + pos.max(axis=0)) / 2
    extent = float(np.abs(pos).max())
    return pos * (scale / extent) if extent > 0 else pos


def _fruchterman_reingold(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, iterations: int,
                          rng: np.random.Generator) -> np.ndarray:
    """Raw force-directed positions (ideal edge length 1) of a graph whose nodes all have ties."""
    side = np.sqrt(n)  # unit density: ideal edge length k = 1
    pos = rng.uniform(-side / 2, side / 2, size=(n, 2))
    if len(w) and w.max() > 0:
        w = w / w.mean()
    G = int(min(256, max(16, 2 ** np.ceil(np.log2(2 * side)))))
    kx_hat, ky_hat = _kernels(G)
    P = 2 * G
    gravity = 0.6 / side
    t0 = side / 8
    for it in range(iterations):
        temp = t0 * (1 - it / iterations) + 0.01
        lo = pos.min(axis=0)
        span = float((pos.max(axis=0) - lo).max()) * 1.0001 + 1e-9
        h = span / (G - 1)
        idx, cw = _cic((pos - lo) / h, G)
        rho = np.bincount(idx.ravel(), weights=cw.ravel(), minlength=G * G).reshape(G, G)
        rho_hat = np.fft.rfft2(rho, s=(P, P))
        fx = np.fft.irfft2(rho_hat * kx_hat, s=(P, P))[:G, :G].ravel() / h
        fy = np.fft.irfft2(rho_hat * ky_hat, s=(P, P))[:G, :G].ravel() / h
        disp = np.column_stack([(fx[idx] * cw).sum(axis=0), (fy[idx] * cw).sum(axis=0)])
        delta = pos[dst] - pos[src]
        dist = np.sqrt((delta**2).sum(axis=1)) + 1e-9
        pull = delta * (dist * w)[:, None]  # |F| = d² / k with k = 1
        for c in range(2):
            disp[:, c] += np.bincount(src, pull[:, c], minlength=n)
            disp[:, c] -= np.bincount(dst, pull[:, c], minlength=n)
        disp -= gravity * pos * np.sqrt((pos**2).sum(axis=1))[:, None]
        length = np.sqrt((disp**2).sum(axis=1)) + 1e-12
        pos += disp * (np.minimum(length, temp) / length)[:, None]
    # Small components drift far out; pull them to the rim of the main drawing.
    pos -= np.median(pos, axis=0)
    r = np.sqrt((pos**2).sum(axis=1))
    rim = 1.1 * float(np.quantile(r, 0.98)) if n > 20 else float(r.max())
    far = r > rim
    if far.any() and rim > 0:
        pos[far] *= (rim / r[far])[:, None]
    return pos


def block_layout(
    rows: np.ndarray,
    cols: np.ndarray,
    sources: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    cell: float | None = None,
) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Positions that show the block structure: one cell per (row, column) group, laid out inside.

    Nodes of group ``(rows[i], cols[i])`` (say, sector × region) are drawn
    inside that cell of a grid, on a disc whose area is proportional to the
    group's number of nodes (a sunflower arrangement: evenly spread, the
    firms with the most ties inside the group at the centre); the ties
    between groups run between the cells.

    Parameters
    ----------
    rows, cols : array of int, shape (n,)
        Row and column codes ``0 .. R-1`` and ``0 .. C-1`` of every node.
    sources, targets : array of int
        Edges.
    weights : array of float, optional
        Tie weights (a firm's weighted ties inside its group place it nearer the centre).
    row_labels, col_labels : list of str, optional
        Names of the rows and columns (returned as anchored labels).
    cell : float, optional
        Width of a grid cell (default: grows with the largest group).

    Returns
    -------
    positions : ndarray, shape (n, 2)
    labels : list of dict
        ``{"text", "x", "y", "align", "size"}`` (font size) for each row (left of the grid) and
        column (above it).

    Examples
    --------
    >>> import numpy as np
    >>> rows, cols = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    >>> pos, labels = block_layout(rows, cols, np.array([0]), np.array([1]), row_labels=["a", "b"],
    ...                            col_labels=["x", "y"], cell=100.0)
    >>> pos.round().tolist(), [lab["text"] for lab in labels]
    ([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]], ['a', 'b', 'x', 'y'])
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n = len(rows)
    R = int(rows.max(initial=-1)) + 1
    C = int(cols.max(initial=-1)) + 1
    group = rows * max(C, 1) + cols
    sizes = np.bincount(group, minlength=R * C)
    big = int(sizes.max(initial=1))
    if cell is None:
        cell = float(max(120.0, 26.0 * np.sqrt(big)))
    src, dst = np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    same = group[src] == group[dst] if len(src) else np.zeros(0, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    # inside each group: a sunflower (Vogel) disc, best-connected firms at the centre
    deg = np.zeros(n)
    if len(src):
        w = np.ones(int(same.sum())) if weights is None else np.abs(np.asarray(weights, dtype=np.float64))[same]
        deg = np.bincount(src[same], weights=w, minlength=n) + np.bincount(dst[same], weights=w, minlength=n)
    rank_order = np.lexsort((np.arange(n), -deg, group))  # by group, then inner degree (desc)
    rank = np.empty(n, dtype=np.int64)
    rank[rank_order] = np.arange(n) - starts[group[rank_order]]
    k = sizes[group]
    radius = 0.42 * cell * np.sqrt(k / big)
    golden = np.pi * (3.0 - np.sqrt(5.0))
    r = radius * np.sqrt(rank / np.maximum(k, 1))
    theta = rank * golden
    centre = np.column_stack([(group % max(C, 1)) * cell, (group // max(C, 1)) * cell]).astype(np.float64)
    pos = centre + np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    labels: list[dict[str, object]] = []
    for i, text in enumerate(row_labels or []):
        labels.append({"text": str(text), "x": -0.62 * cell, "y": i * cell, "align": "right",
                       "size": round(0.11 * cell, 1)})
    for j, text in enumerate(col_labels or []):
        labels.append({"text": str(text), "x": j * cell, "y": -0.62 * cell, "align": "center",
                       "size": round(0.11 * cell, 1)})
    return pos, labels
