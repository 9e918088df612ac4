"""From a cascade's outcome to losses: apply a shock, propagate it, sweep its severity.

:func:`apply_shock` is the shock stage of the pipeline (SMB graph -> cascade ->
shock -> propagation) for every replicate at once; :func:`fragility_curve`
repeats it over shock severities; :func:`criticality` measures, for each firm,
the loss its own failure would cause.
"""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Callable
from typing import Any

import numpy as np

from .._random import SeedLike, replicate_generators
from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..validation import check_numbers
from .base import PlatformState, Shock, _as_state
from .exposure import as_exposure, exposure_matrix
from .metrics import distribution_summary, expected_shortfall, systemic_event_probability
from .propagation import (
    PROPAGATIONS,
    PropagationResult,
    _capacity,
    _compiled,
    _max_rounds,
    _value,
    check_stability,
    propagate,
)

__all__ = ["apply_shock", "criticality", "fragility_curve", "resolve_capacity", "resolve_exposure", "resolve_value"]


def resolve_exposure(network: Network, exposure: Any = None) -> Any:
    """The exposure matrix of ``network``: the default rule, a dict of its options, or a matrix.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import resolve_exposure
    >>> net = diffusion.generators.complete_graph(3)
    >>> resolve_exposure(net, {"loss_given_default": 0.5}).toarray()[0].tolist()
    [0.0, 0.25, 0.25]
    """
    if exposure is None:
        return exposure_matrix(network)
    if isinstance(exposure, dict):
        try:
            return exposure_matrix(network, **exposure)
        except TypeError as exc:
            raise ParameterError("exposure", str(exc)) from None
    return as_exposure(exposure, network.n)


def resolve_value(network: Network, value: Any = "size") -> np.ndarray:
    """Firm values weighting losses: an attribute name (``"size"`` falls back to equal
    values when absent), ``None`` (equal) or an array."""
    if value is None:
        return np.ones(network.n)
    if isinstance(value, str):
        if value not in network.attributes:
            if value == "size":
                return np.ones(network.n)
            raise ParameterError("value", f"node attribute {value!r} not found")
        col = network.attributes[value]
        if not np.issubdtype(col.dtype, np.number):
            raise ParameterError("value", f"node attribute {value!r} is not numeric")
        return _value(col.astype(np.float64), network.n)
    return _value(value, network.n)


def resolve_capacity(network: Network, capacity: Any) -> Any:
    """Failure levels of the threshold rule: a number or array as given, or a numeric node attribute.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import resolve_capacity
    >>> net = diffusion.Network.from_edges(2, [0], [1], attributes={"buffer": [0.5, 2.0]})
    >>> resolve_capacity(net, "buffer").tolist(), resolve_capacity(net, 1.0)
    ([0.5, 2.0], 1.0)
    """
    if isinstance(capacity, str):
        if capacity not in network.attributes:
            have = ", ".join(sorted(network.attributes)) or "none"
            raise ParameterError("capacity", f"node attribute {capacity!r} not found (the network has: {have})")
        col = network.attributes[capacity]
        if not np.issubdtype(col.dtype, np.number):
            raise ParameterError("capacity", f"node attribute {capacity!r} is not numeric")
        return col.astype(np.float64)
    return capacity


def apply_shock(network: Network, shock: Shock, platforms: Any = None, *, exposure: Any = None,
                propagation: str = "threshold", capacity: Any = 1.0, value: Any = "size",
                runs: int | None = None, seed: SeedLike | list[np.random.Generator] = None,
                max_rounds: int | None = None) -> PropagationResult:
    """Hit every replicate with ``shock`` and propagate it.

    Parameters
    ----------
    network : Network
    shock : Shock
        E.g. ``PlatformOutage("dominant", 1.0)``.
    platforms : SimulationResult, PlatformState or array, optional
        Platform state per replicate (needed by :class:`PlatformOutage`; its
        number of rows sets the number of replicates).
    exposure : None, dict or matrix
        ``None``: :func:`exposure_matrix` with its defaults; a dict: its
        keyword arguments; else an ``n × n`` exposure matrix.
    propagation : {"threshold", "debtrank", "linear_debtrank"}, default "threshold"
    capacity : float, array or attribute name, default 1.0
        Failure level of the threshold rule.
    value : str, array or None, default "size"
        Firm values weighting losses (``"size"``: the size attribute if the
        network has one, else equal values).
    runs : int, optional
        Number of replicates when ``platforms`` is not given (default 1).
    seed : int, SeedSequence or list of Generators, optional
        Randomness of random shocks: replicate ``r`` draws from child ``r``.
    max_rounds : int, optional

    Returns
    -------
    PropagationResult

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import apply_shock, RandomFailures
    >>> net = diffusion.generators.erdos_renyi(300, mean_degree=3, seed=1)
    >>> res = apply_shock(net, RandomFailures(count=1), runs=50, seed=2,
    ...                   exposure={"resources": 0.3})
    >>> res.failed_fraction.shape
    (50,)
    """
    if not isinstance(shock, Shock):
        raise ParameterError("shock", f"must be a Shock, got {type(shock).__name__}")
    if propagation not in PROPAGATIONS:
        raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {propagation!r}")
    state: PlatformState | None = None
    if platforms is not None:
        state = _as_state(platforms)
        R = state.platform.shape[0]
        if runs is not None and runs != R:
            raise ParameterError("runs", f"is {runs} but the platform state has {R} replicates")
    else:
        if shock.needs_platforms:
            raise DiffusionError(f"a {shock.kind} shock needs the platform state of a cascade result")
        R = 1 if runs is None else int(runs)
    if isinstance(seed, list):
        rngs = seed
    else:
        rngs = replicate_generators(seed, R) if shock.random else None
    h0 = shock.initial_distress(network, R, state, rngs)
    W = resolve_exposure(network, exposure)
    v = resolve_value(network, value)
    return propagate(W, h0, propagation, capacity=resolve_capacity(network, capacity), value=v,
                     max_rounds=max_rounds)


def fragility_curve(network: Network, shock: Shock, severities: Any, platforms: Any = None, *,
                    level: float = 0.1, alpha: float = 0.95, **kwargs: Any) -> list[dict[str, Any]]:
    """Loss against shock severity: one summary record per severity.

    Every severity reuses the same random draws (common random numbers), so
    the curve is monotone whenever the propagation rule is.

    Parameters
    ----------
    network, shock, platforms
        As in :func:`apply_shock`; ``shock.severity`` is replaced by each value.
    severities : sequence of float in [0, 1]
    level, alpha : float
        Systemic-event level and expected-shortfall level.
    **kwargs
        Passed to :func:`apply_shock` (``exposure``, ``propagation``, ``capacity``,
        ``value``, ``runs``, ``seed``, ``max_rounds``).

    Returns
    -------
    list of dict
        ``severity, initial_loss, systemic_loss_mean, systemic_loss_q05, ..., total_loss_*,
        failed_fraction_*, amplification_*, systemic_event_probability, expected_shortfall``.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.shocks import fragility_curve, TargetedFailures
    >>> net = diffusion.generators.erdos_renyi(200, mean_degree=4, seed=1)
    >>> recs = fragility_curve(net, TargetedFailures("degree", count=5), [0.2, 1.0],
    ...                        exposure={"resources": 0.4})
    >>> recs[0]["total_loss_mean"] <= recs[1]["total_loss_mean"]
    True
    """
    sev = np.asarray(check_numbers("severities", list(np.atleast_1d(np.asarray(severities, dtype=np.float64))),
                                   0.0, 1.0))
    seed = kwargs.pop("seed", None)
    recs = []
    for s in sev:
        sh = dataclasses.replace(shock, severity=float(s))  # type: ignore[type-var]
        rngs = replicate_generators(seed, _runs(platforms, kwargs)) if sh.random else seed
        res = apply_shock(network, sh, platforms, seed=rngs, **kwargs)
        recs.append({"severity": float(s), **loss_record(res, level=level, alpha=alpha)})
    return recs


def _runs(platforms: Any, kwargs: dict[str, Any]) -> int:
    if platforms is not None:
        return int(_as_state(platforms).platform.shape[0])
    return int(kwargs.get("runs") or 1)


def loss_record(res: PropagationResult, *, level: float = 0.1, alpha: float = 0.95) -> dict[str, Any]:
    """Flat summary of a propagation over replicates (for CSV rows)."""
    out: dict[str, Any] = {"initial_loss": float(np.mean(res.initial_loss))}
    for name in ("systemic_loss", "total_loss", "failed_fraction", "amplification"):
        d = distribution_summary(getattr(res, name))
        out.update({f"{name}_{k}": v for k, v in d.items()})
    total = np.atleast_1d(res.total_loss)
    out["systemic_event_probability"] = systemic_event_probability(total, level)
    out["expected_shortfall"] = expected_shortfall(total, alpha)
    return out


def criticality(exposure: Any, value: Any = None, propagation: str = "debtrank", *,
                capacity: Any = 1.0, chunk_size: int = 256, max_rounds: int | None = None,
                firms: Any = None, threads: int = 1, progress: Callable[[int], None] | None = None,
                backend: str = "auto") -> dict[str, np.ndarray]:
    """Loss caused by the failure of each single firm (DebtRank-style centrality).

    Firm ``i`` alone is fully distressed (``h0 = e_i``) and the distress is
    propagated, for every firm (or the firms asked for).

    Parameters
    ----------
    exposure : matrix, shape (n, n)
    value : array, optional
        Firm values (default equal).
    propagation : {"debtrank", "linear_debtrank", "threshold"}, default "debtrank"
    capacity : float or array of shape (n,)
        Threshold rule only.
    chunk_size : int, default 256
        Firms per task (compiled: rounded to whole batches of up to 64 firms)
        or per batch of replicates (numpy). The results do not depend on it.
    max_rounds : int, optional
        Round cap of every propagation (default: that of the rule).
    firms : array of int, optional
        Only these firms (default all, in order).
    threads : int, default 1
        Worker threads of the compiled path (the results do not depend on it).
    progress : callable, optional
        Called with the number of firms just finished, after each chunk.
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"`` (``"auto"`` when numba is installed): compiled
        propagations touching only the exposures their frontiers read, up to
        64 firms' shocks at once, reduced to their losses on the spot;
        ``"numpy"``: ``chunk_size`` firms at a time as the replicates of
        :func:`~diffusion.shocks.propagate` with its numpy rounds (the
        reference).

    Returns
    -------
    dict of ndarray, each of shape (n,) (or that of ``firms``)
        ``systemic_loss`` (loss caused to the others: the firm's DebtRank),
        ``total_loss`` (including its own value) and ``failed_fraction``.

    Notes
    -----
    A propagation costs the exposures its frontiers read. The threshold rule
    stops where the failures stop, so on a sparse network the criticality of
    every firm costs little more than reading the network once per firm's
    cascade. Single-hit DebtRank distresses *every* firm reachable from ``i``
    (each propagates once, however little distress it holds), so each firm
    costs up to the whole network and all firms ``O(n × nnz)`` on a connected
    network; the firms are batched 64 at a time in reverse Cuthill–McKee
    order, so that the shocks of neighbouring firms, which reach the same
    firms in the same rounds, share their reads (single-hit DebtRank: each
    firm pulls what its exposures send, for the 64 shocks at once, in firm
    order; about 3–4.5 ms of CPU per firm on a 100,000-firm ``smb_network``
    of mean degree 8). The linear rule repeats that
    every round until the increments fall below ``1e-12``. There is no
    truncation: the compiled path gives each firm exactly the distress of the
    numpy path; its losses are summed in firm order rather than row by row,
    and agree to about ``1e-15`` relative (the failed fractions exactly).
    Dropping small distress would not be a safe shortcut for single-hit
    DebtRank: a firm whose distress is not propagated at once is reached
    later, with more, so the loss can grow as well as shrink; on the default
    exposure of an ``smb_network`` most of the loss is carried by firms far
    from the failed one, each with a little distress, and no cut-off both
    saves work and keeps the loss within a few per cent.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import criticality
    >>> W = np.array([[0, 0.5, 0], [0, 0, 0.5], [0, 0, 0]])
    >>> criticality(W)["systemic_loss"].round(4).tolist()
    [0.25, 0.1667, 0.0]
    >>> criticality(W, propagation="threshold", capacity=0.5, firms=[0])["failed_fraction"].tolist()
    [1.0]
    """
    W = as_exposure(exposure)
    n = W.shape[0]
    v = _value(value, n)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ParameterError("chunk_size", f"must be a positive integer, got {chunk_size!r}")
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise ParameterError("threads", f"must be a positive integer, got {threads!r}")
    if propagation not in PROPAGATIONS:
        raise ParameterError("propagation", f"must be one of {', '.join(PROPAGATIONS)}, got {propagation!r}")
    src = _firms(firms, n)
    cap = _capacity_row(capacity, n)
    if propagation == "linear_debtrank":
        check_stability(W)
    if _compiled(backend):
        return _criticality_compiled(W, v, propagation, cap, src, int(chunk_size), max_rounds,
                                     int(threads), progress)
    out = {k: np.empty(src.size) for k in ("systemic_loss", "total_loss", "failed_fraction")}
    for a in range(0, src.size, int(chunk_size)):
        b = min(src.size, a + int(chunk_size))
        h0 = np.zeros((b - a, n))
        h0[np.arange(b - a), src[a:b]] = 1.0
        res = propagate(W, h0, propagation, capacity=cap, value=v, max_rounds=max_rounds,
                        check_stability_=False, backend="numpy")
        out["systemic_loss"][a:b] = res.systemic_loss
        out["total_loss"][a:b] = res.total_loss
        out["failed_fraction"][a:b] = res.failed_fraction
        if progress is not None:
            progress(b - a)
    return out


def _firms(firms: Any, n: int) -> np.ndarray:
    if firms is None:
        return np.arange(n, dtype=np.int64)
    f = np.asarray(firms)
    if f.ndim != 1 or (f.size and not np.issubdtype(f.dtype, np.integer)):
        raise ParameterError("firms", "must be a one-dimensional array of firm indices")
    f = f.astype(np.int64)
    if f.size and (f.min() < 0 or f.max() >= n):
        raise ParameterError("firms", f"indices must be in 0 .. {n - 1}")
    return f


def _capacity_row(capacity: Any, n: int) -> np.ndarray:
    cap = _capacity(capacity, n)
    if cap.ndim != 1:
        raise ParameterError("capacity", f"must be a number or have one value per firm ({n})")
    return cap


def _locality_order(W: Any, src: np.ndarray) -> np.ndarray:
    """Permutation of ``src`` putting neighbouring firms side by side (reverse Cuthill–McKee)."""
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    sym = (W + W.T).tocsr()
    rank = np.empty(W.shape[0], dtype=np.int64)
    rank[reverse_cuthill_mckee(sym, symmetric_mode=True)] = np.arange(W.shape[0])
    return np.argsort(rank[src], kind="stable")


#: Single-hit DebtRank criticality by lane groups (``diffusion/shocks/_groups.py``); tests turn it
#: off to compare with the lane-by-lane kernel.
GROUPS = True


def _relabelled(M: Any, perm: np.ndarray, rank: np.ndarray) -> Any:
    """The :class:`~._kernels.Exposure` of ``M`` with firm ``perm[r]`` renamed ``r``.

    Row ``r`` holds row ``perm[r]`` of ``M`` with its columns renamed
    (``rank``), in the row's own order: a sum over the row keeps its order.
    """
    from . import _kernels as K

    n = M.shape[0]
    lens = np.diff(M.indptr)[perm]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    at = np.repeat(np.asarray(M.indptr[:-1], dtype=np.int64)[perm] - indptr[:-1], lens)
    at += np.arange(indptr[-1], dtype=np.int64)
    itype = np.int32 if n < 2**31 - 1 else np.int64
    return K.Exposure(indptr, rank[np.asarray(M.indices)[at]].astype(itype),
                      np.asarray(M.data, dtype=np.float64)[at])


def _criticality_compiled(W: Any, v: np.ndarray, propagation: str, cap: np.ndarray, src: np.ndarray,
                          chunk: int, max_rounds: Any, threads: int,
                          progress: Callable[[int], None] | None) -> dict[str, np.ndarray]:
    """:func:`criticality` by the compiled lanes: neighbouring firms' shocks side by side.

    A firm's results do not depend on which firms share its batch (every lane
    is exact, and its losses are summed in firm order), so the firms are
    grouped for speed: in reverse Cuthill–McKee order, where the
    propagations from neighbouring firms reach the same firms in the same
    rounds and share their reads. Single-hit DebtRank runs on the firms
    renamed in order of their number of exposures (:func:`_relabelled`;
    each firm's sums keep the reference's order, so the distress and the
    failures are the same bit for bit, and a loss can differ only in its
    last digits, from the order its terms are added in); see
    ``benchmarks/README.md`` for what that saves.
    """
    from . import _kernels as K

    n = W.shape[0]
    rule = K.RULES[propagation]
    limit = _max_rounds(max_rounds, {"threshold": n, "debtrank": n + 1, "linear_debtrank": 10_000}[propagation])
    zero = np.flatnonzero(0.0 >= cap - K.EPS) if propagation == "threshold" else np.empty(0, np.int64)
    g = K.exposure_arrays(W)
    hit = propagation == "debtrank"
    rank, v_hit = None, v
    if hit:  # firms first hit pull what their exposures in the frontier send, in the reference's order
        Wt = W.T.tocsr()
        Wt.sort_indices()
        K.exposure_arrays(Wt)  # checked
        cw = np.asarray(W @ v, dtype=np.float64)  # what each firm's full distress costs the others
        # firms renamed in order of their number of exposures: the firms a round pulls for
        # (ascending) then have rows of equal or growing length, which the processor predicts
        by_exposures = np.argsort(np.diff(Wt.indptr), kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[by_exposures] = np.arange(n)
        g, gt = _relabelled(W, by_exposures, rank), _relabelled(Wt, by_exposures, rank)
        v_hit, cw = v[by_exposures], cw[by_exposures]
    lanes = K.hit_lanes_for(n) if hit else K.lanes_for(n)
    # single-hit DebtRank by groups of 8 lanes summed as vectors (_groups), while each thread's
    # rows of 64 lanes fit the kernels' memory budget; else lane by lane
    groups = hit and lanes == K.LANES and GROUPS
    chunk = max(lanes, chunk // lanes * lanes)  # whole batches of lanes per task
    perm = _locality_order(W, src)
    order = src[perm]
    hit_order = order if rank is None else rank[order]
    total = np.empty(src.size)
    failed = np.empty(src.size, dtype=np.int64)
    spare: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def run(a: int) -> int:
        try:
            sc = spare.get_nowait()  # one scratch per worker thread, reused
        except queue.Empty:
            if hit and groups:
                from . import _groups as G

                sc = G.new_group_scratch(n)
            elif hit:
                sc = K.new_hit_scratch(n, lanes)
            else:
                sc = K.new_scratch(n, lanes, linear=propagation == "linear_debtrank")
        b = min(src.size, a + chunk)
        if hit and groups:
            from . import _groups as G

            redo = np.zeros(b - a, dtype=np.bool_)
            G.run_groups(g, gt, sc, hit_order[a:b], v_hit, cw, limit, total[a:b], failed[a:b], redo)
            if redo.any():  # lanes where a sum was not positive: the lane-by-lane kernel
                idx = np.flatnonzero(redo)
                t2, f2 = np.empty(idx.size), np.empty(idx.size, dtype=np.int64)
                K.single_hit_chunk(g, gt, K.new_hit_scratch(n, K.hit_lanes_for(n, idx.size)),
                                   hit_order[a:b][idx], v_hit, cw, limit, t2, f2)
                total[a + idx], failed[a + idx] = t2, f2
        elif hit:
            K.single_hit_chunk(g, gt, sc, hit_order[a:b], v_hit, cw, limit, total[a:b], failed[a:b])
        else:
            K.criticality_chunk(rule, g, sc, order[a:b], zero, cap, v, limit, 1e-12, total[a:b],
                                failed[a:b])
        spare.put(sc)
        return b - a

    starts = range(0, src.size, chunk)
    if threads > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        # the kernel releases the GIL; each task writes its own slice of the outputs
        with ThreadPoolExecutor(min(threads, len(starts))) as pool:
            for k in pool.map(run, starts):
                if progress is not None:
                    progress(k)
    else:
        for a in starts:
            k = run(a)
            if progress is not None:
                progress(k)
    V = v.sum()
    initial = v[order].copy()
    if zero.size:  # firms with no capacity fail with every shock
        initial += v[zero].sum() - np.where(np.isin(order, zero), v[order], 0.0)
    out = {"systemic_loss": total / V - initial / V, "total_loss": total / V, "failed_fraction": failed / n}
    for k, x in out.items():  # back to the order asked for
        out[k] = np.empty_like(x)
        out[k][perm] = x
    return out
