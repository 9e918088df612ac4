"""The result of an ensemble: per-replicate results, per-node reductions, and kept replicates.

:func:`diffusion.simulate` returns a :class:`SimulationResult`. What it holds
depends on ``keep``:

* always — per replicate: adoption counts after every step (:attr:`counts`,
  the curves), the last step that changed (:attr:`steps`), the run outputs and
  series the model declares; per node, across replicates: the adoption
  probability, the mean adoption step, the frequency of every category of
  every categorical node output and the mean of every numeric one;
* with ``keep="replicates"`` — also every replicate's per-node arrays
  (:attr:`adoption_step`, node outputs in :attr:`outputs`);
* with ``keep=[r, ...]`` — the per-node arrays of those replicates only
  (:meth:`replicate`).

Asking for per-replicate node arrays that were not kept raises
:class:`NotKeptError`, which says how to keep them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .declarations import Declarations
from .errors import DiffusionError, ParameterError
from .reductions import FixedPoint, Merged, NodeTotals

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Model
    from .network import Network

__all__ = ["KEEP_MODES", "NotKeptError", "ReplicateView", "SimulationResult", "describe_outputs",
           "distribution_stats"]

#: Values of ``simulate(keep=...)`` besides a list of replicate indices.
KEEP_MODES = ("replicates", "summary")


class NotKeptError(DiffusionError):
    """A per-replicate node array was asked for but not kept (see ``simulate(keep=...)``)."""


def distribution_stats(x: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation, standard error, min, 5/50/95 % quantiles and max of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.result import distribution_stats
    >>> float(distribution_stats(np.array([0.0, 1.0]))["se"])
    0.5
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return {k: None for k in ("mean", "std", "se", "min", "q05", "q50", "q95", "max")}  # type: ignore[misc]
    q = np.quantile(x, [0.05, 0.5, 0.95])
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {"mean": float(x.mean()), "std": sd, "se": float(sd / np.sqrt(x.size)), "min": float(x.min()),
            "q05": float(q[0]), "q50": float(q[1]), "q95": float(q[2]), "max": float(x.max())}


class _Arrays(Mapping[str, np.ndarray]):
    """A mapping of result arrays that explains, for a name not kept, how to keep it."""

    def __init__(self, available: dict[str, np.ndarray], missing: dict[str, str]) -> None:
        self._available = available
        self._missing = missing

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self._available:
            return self._available[key]
        if key in self._missing:
            raise NotKeptError(self._missing[key])
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._available

    def __iter__(self) -> Iterator[str]:
        return iter(self._available)

    def __len__(self) -> int:
        return len(self._available)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: array{tuple(np.shape(v))}" for k, v in self._available.items()) + "}"


@dataclass(frozen=True)
class ReplicateView:
    """The per-node arrays of one kept replicate.

    Attributes
    ----------
    replicate : int
    adoption_step : ndarray, shape (n,)
        Step at which each node adopted, ``-1`` never.
    outputs : dict
        Node outputs, shape ``(n,)``, and run outputs (scalars / vectors).
    series : dict
        Series ``(T + 1,)`` / ``(T + 1, K)`` and node series ``(T + 1, n)``.
    counts : ndarray, shape (T + 1,)
        Adopters after each step.
    """

    replicate: int
    adoption_step: np.ndarray
    outputs: dict[str, Any]
    series: dict[str, np.ndarray]
    counts: np.ndarray


@dataclass(frozen=True, repr=False)
class SimulationResult:
    """Everything one ensemble of replicates produced.

    Attributes
    ----------
    model : str
        Model name.
    params : dict
        Model parameters.
    runs, n : int
        Number of replicates and of nodes.
    seed : numpy.random.SeedSequence
        The seed sequence the replicates were spawned from: pass it back as
        ``simulate(..., seed=result.seed)`` to reproduce the run byte for byte
        (its ``entropy`` and ``spawn_key`` are printed by ``repr``).
    steps : ndarray of int, shape (runs,)
        Last step at which each replicate changed.
    counts : ndarray of int64, shape (T + 1, runs)
        Number of adopters after each step ``0 .. T``.
    declarations : Declarations
        What the model (and the stages after it) produced.
    keep : str
        ``"replicates"`` (every replicate's node arrays kept) or ``"summary"``.
    kept : ndarray of int
        Replicates whose node arrays are kept.
    node_ids : ndarray
        Node ids, in the order of the per-node arrays.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.erdos_renyi(200, mean_degree=6, seed=1)
    >>> res = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=5, runs=20, seed=7)
    >>> res.final_fraction.shape, res.curve.shape[1], res.adoption_probability.shape
    ((20,), 20, (200,))
    >>> lean = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=5, runs=20, seed=7,
    ...                           keep="summary")
    >>> bool((lean.mean_adoption_step[lean.adoption_probability > 0] >= 0).all())
    True
    >>> lean.adoption_step
    Traceback (most recent call last):
    ...
    diffusion.result.NotKeptError: per-replicate adoption steps were not kept (simulate(..., keep='summary')); ...
    """

    model: str
    params: dict[str, Any]
    runs: int
    n: int
    seed: np.random.SeedSequence
    steps: np.ndarray
    counts: np.ndarray
    declarations: Declarations
    keep: str
    totals: NodeTotals
    run_values: dict[str, np.ndarray] = field(default_factory=dict)
    step_series: dict[str, np.ndarray] = field(default_factory=dict)
    kept: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    kept_adoption: np.ndarray | None = None
    kept_values: dict[str, np.ndarray] = field(default_factory=dict)
    node_ids: np.ndarray | None = None
    #: The model instance that produced the result (supplies model-specific summary entries).
    model_ref: Model | None = field(default=None, compare=False)

    @classmethod
    def from_merged(cls, merged: Merged, *, model: Model, network: Network, seed: np.random.SeedSequence,
                    keep: str, declarations: Declarations) -> SimulationResult:
        return cls(model=model.name, params=model.params(), runs=int(merged.counts.shape[1]), n=network.n,
                   seed=seed, steps=merged.steps, counts=merged.counts, declarations=declarations, keep=keep,
                   totals=merged.totals, run_values=merged.run_values, step_series=merged.series,
                   kept=merged.kept, kept_adoption=merged.kept_adoption, kept_values=merged.kept_values,
                   node_ids=network.node_ids, model_ref=model)

    @classmethod
    def from_arrays(cls, adoption_step: np.ndarray, *, model: str = "external", params: Mapping[str, Any] | None = None,
                    counts: np.ndarray | None = None, steps: np.ndarray | None = None,
                    outputs: Mapping[str, np.ndarray] | None = None, declarations: Declarations | None = None,
                    node_ids: np.ndarray | None = None, seed: Any = 0) -> SimulationResult:
        """A result built from per-replicate arrays (e.g. observed adoptions, or a test fixture).

        Parameters
        ----------
        adoption_step : array of int, shape (runs, n)
            Adoption steps, ``-1`` never.
        counts, steps : arrays, optional
            Default: computed from ``adoption_step``.
        outputs : dict, optional
            Arrays of the ``declarations`` (node and run outputs ``(runs, ...)``,
            series ``(T + 1, runs, ...)``).
        declarations : Declarations, optional

        Examples
        --------
        >>> import numpy as np
        >>> from diffusion import SimulationResult
        >>> res = SimulationResult.from_arrays(np.array([[0, 1, -1], [0, -1, -1]]))
        >>> res.counts.tolist(), res.adoption_probability.tolist()
        ([[1, 1], [2, 1]], [1.0, 0.5, 0.0])
        """
        from ._random import as_seed_sequence
        from .reductions import Adoptions, ChunkData, merge_summaries, reduce_chunk

        A = np.asarray(adoption_step)
        if A.ndim != 2:
            raise ParameterError("adoption_step", f"must have shape (runs, n), got {A.shape}")
        R, n = A.shape
        if counts is None:
            T = max(int(A.max(initial=0)), 0)
            counts = np.stack([((A >= 0) & (A <= t)).sum(axis=1) for t in range(T + 1)]).astype(np.int64)
        if steps is None:
            steps = np.where((A >= 0).any(axis=1), A.max(axis=1), 0).astype(np.int64)
        decl = declarations if declarations is not None else Declarations()
        data = ChunkData(0, R, Adoptions.from_dense(A), np.asarray(counts, np.int64), np.asarray(steps, np.int64),
                         dict(outputs or {}), np.arange(R))
        merged = merge_summaries([reduce_chunk(data, decl, n, R)], decl)
        return cls(model=model, params=dict(params or {}), runs=R, n=n, seed=as_seed_sequence(seed),
                   steps=merged.steps, counts=merged.counts, declarations=decl, keep="replicates",
                   totals=merged.totals, run_values=merged.run_values, step_series=merged.series,
                   kept=merged.kept, kept_adoption=merged.kept_adoption, kept_values=merged.kept_values,
                   node_ids=node_ids)

    # ------------------------------------------------------------ what was kept
    @property
    def all_kept(self) -> bool:
        return len(self.kept) == self.runs

    def _not_kept(self, what: str) -> str:
        how = ("pass keep='replicates' to simulate to keep every replicate (memory: runs × n), or "
               "keep=[r, ...] for a few and read them with result.replicate(r)")
        if len(self.kept):
            return (f"per-replicate {what} were kept only for replicates {self.kept.tolist()[:10]}"
                    f"{' ...' if len(self.kept) > 10 else ''}: read them with result.replicate(r); {how}")
        return f"per-replicate {what} were not kept (simulate(..., keep={self.keep!r})); {how}"

    @property
    def adoption_step(self) -> np.ndarray:
        """Step at which each node adopted in each replicate, shape ``(runs, n)``; ``-1`` never.

        Only when every replicate was kept (``keep="replicates"``).
        """
        if not self.all_kept or self.kept_adoption is None:
            raise NotKeptError(self._not_kept("adoption steps"))
        return self.kept_adoption

    @property
    def outputs(self) -> Mapping[str, np.ndarray]:
        """Run outputs ``(runs, ...)`` and, when every replicate was kept, node outputs ``(runs, n)``."""
        avail: dict[str, np.ndarray] = dict(self.run_values)
        missing: dict[str, str] = {}
        for out in self.declarations.of_kind("node_category", "node_value"):
            if self.all_kept and out.name in self.kept_values:
                avail[out.name] = self.kept_values[out.name]
            else:
                missing[out.name] = self._not_kept(f"values of {out.name!r}")
        return _Arrays(avail, missing)

    @property
    def series(self) -> Mapping[str, np.ndarray]:
        """Series ``(T + 1, runs, ...)`` and, when every replicate was kept, node series ``(T + 1, runs, n)``."""
        avail: dict[str, np.ndarray] = dict(self.step_series)
        missing: dict[str, str] = {}
        for out in self.declarations.of_kind("node_series"):
            if self.all_kept and out.name in self.kept_values:
                avail[out.name] = self.kept_values[out.name]
            else:
                missing[out.name] = self._not_kept(f"histories of {out.name!r}")
        return _Arrays(avail, missing)

    def replicate(self, r: int) -> ReplicateView:
        """The per-node arrays of kept replicate ``r`` (see ``simulate(keep=...)``)."""
        hits = np.flatnonzero(self.kept == r)
        if not len(hits):
            if not 0 <= int(r) < self.runs:
                raise ParameterError("replicate", f"must lie in 0..{self.runs - 1}, got {r!r}")
            raise NotKeptError(self._not_kept(f"node arrays of replicate {r}"))
        j = int(hits[0])
        outs: dict[str, Any] = {k: v[r] for k, v in self.run_values.items()}
        series: dict[str, np.ndarray] = {k: v[:, r] for k, v in self.step_series.items()}
        for out in self.declarations:
            if out.name in self.kept_values:
                v = self.kept_values[out.name]
                if out.kind == "node_series":
                    series[out.name] = v[:, j]
                else:
                    outs[out.name] = v[j]
        assert self.kept_adoption is not None
        return ReplicateView(int(r), self.kept_adoption[j], outs, series, self.counts[:, r])

    # ------------------------------------------------------------ per replicate
    @property
    def final_count(self) -> np.ndarray:
        """Number of adopters at the end of each replicate, shape ``(runs,)``."""
        return self.counts[-1]

    @property
    def final_fraction(self) -> np.ndarray:
        """Fraction of nodes adopted at the end of each replicate, shape ``(runs,)``."""
        return self.counts[-1] / max(self.n, 1)

    @property
    def curve(self) -> np.ndarray:
        """Adoption curve: fraction adopted after each step, shape ``(T + 1, runs)``."""
        return self.counts / max(self.n, 1)

    def mean_curve(self) -> np.ndarray:
        """Mean adoption fraction per step, shape ``(T + 1,)``."""
        return self.curve.mean(axis=1)

    def band(self, low: float = 0.05, high: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise quantile band of the adoption curve (``low``, ``high``)."""
        q = np.quantile(self.curve, [low, high], axis=1)
        return q[0], q[1]

    def time_to(self, level: float) -> np.ndarray:
        """First step at which each replicate reached adoption fraction ``level``.

        Returns an array of shape ``(runs,)``, ``nan`` where never reached.
        """
        if not 0 <= level <= 1:
            raise ParameterError("level", "must be in [0, 1]")
        reached = self.curve >= level - 1e-12
        first = np.argmax(reached, axis=0).astype(np.float64)
        first[~reached.any(axis=0)] = np.nan
        return first

    def final(self, name: str) -> np.ndarray:
        """Final value of series ``name`` in each replicate, shape ``(runs, ...)``."""
        return self.step_series[name][-1]

    def adopted(self, replicate: int = 0) -> np.ndarray:
        """Boolean mask of the final adopters in ``replicate`` (a kept one)."""
        return self.replicate(replicate).adoption_step >= 0

    # ------------------------------------------------------------ per node
    @property
    def adoption_probability(self) -> np.ndarray:
        """Share of replicates in which each node adopted, shape ``(n,)``."""
        return self.totals.adopted / max(self.runs, 1)

    @property
    def mean_adoption_step(self) -> np.ndarray:
        """Mean adoption step of each node over the replicates where it adopted (``nan``: never)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            m = self.totals.step_sum / self.totals.adopted
        return np.where(self.totals.adopted > 0, m, np.nan)

    def frequencies(self, name: str) -> np.ndarray:
        """Per node, the share of replicates in each category of node output ``name``, shape ``(n, K)``."""
        out = self.declarations[name]
        if out.kind != "node_category":
            raise ParameterError("name", f"{name!r} is a {out.kind}, not a node category")
        return self.totals.categories[name] / max(self.runs, 1)

    def node_mean(self, name: str) -> np.ndarray:
        """Per node, the mean of numeric node output ``name`` over the replicates where it is defined."""
        out = self.declarations[name]
        if out.kind != "node_value":
            raise ParameterError("name", f"{name!r} is a {out.kind}, not a node value")
        count, total = self.totals.values[name]
        if out.integer:
            with np.errstate(invalid="ignore", divide="ignore"):
                m = total / count
            return np.where(count > 0, m, np.nan)
        return FixedPoint(*out.bounds, runs=self.runs).mean(total, count)

    # ------------------------------------------------------------ summaries
    def output_summary(self) -> dict[str, Any]:
        """Generic summary of every declared run output and series (JSON-ready)."""
        out: dict[str, Any] = {}
        for o in self.declarations:
            if o.kind == "run_category":
                v = np.asarray(self.run_values[o.name])
                counts = {lab: int(np.count_nonzero(v == c)) for lab, c in zip(o.labels, o.codes, strict=True)}
                out[o.name] = {"kind": o.kind, "description": o.description, "counts": counts,
                               "fractions": {k: c / max(self.runs, 1) for k, c in counts.items()}}
            elif o.kind in ("run_value", "series"):
                v = np.asarray(self.run_values[o.name] if o.kind == "run_value" else self.final(o.name))
                entry: dict[str, Any] = {"kind": o.kind, "description": o.description}
                if o.kind == "series":
                    entry["at"] = "final step"
                if o.vector:
                    entry["stats"] = {lab: distribution_stats(v[:, k]) for k, lab in enumerate(o.labels)}
                else:
                    entry["stats"] = distribution_stats(v)
                out[o.name] = entry
        return out

    def summary(self) -> dict[str, Any]:
        """Plain-dict summary (JSON-ready) of the ensemble."""
        ff = self.final_fraction
        out: dict[str, Any] = {
            "model": self.model,
            "params": _jsonable(self.params),
            "final_fraction": {k: v for k, v in distribution_stats(ff).items() if k != "se"},
            "steps": {"mean": float(self.steps.mean()), "max": int(self.steps.max())},
            "time_to": {},
            "outputs": self.output_summary(),
        }
        if self.runs <= 1:
            out["final_fraction"]["std"] = 0.0
        for level in (0.1, 0.5, 0.9):
            t = self.time_to(level)
            ok = ~np.isnan(t)
            out["time_to"][f"{round(level * 100)}%"] = {
                "reached": float(ok.mean()),
                "mean": float(t[ok].mean()) if ok.any() else None,
            }
        if self.model_ref is not None:
            out.update(_jsonable(self.model_ref.summarize(self)))
        return out

    def _run_columns(self) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        for o in self.declarations:
            if o.kind == "run_category":
                cols[o.name] = np.asarray(self.run_values[o.name])
            elif o.kind in ("run_value", "series"):
                v = np.asarray(self.run_values[o.name] if o.kind == "run_value" else self.final(o.name))
                if o.vector:
                    for k, c in enumerate(o.columns()):
                        cols[c] = v[:, k]
                elif v.ndim == 1:
                    cols[o.name] = v
        return cols

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record per replicate: run, final_fraction, final_count, steps, run outputs.

        Categorical run outputs are written as their labels; series contribute
        their final value.
        """
        cols = self._run_columns()
        labels = {o.name: o for o in self.declarations.of_kind("run_category")}
        recs = []
        ff, fc = self.final_fraction, self.final_count
        for r in range(self.runs):
            rec: dict[str, Any] = {"run": r, "final_fraction": float(ff[r]), "final_count": int(fc[r]),
                                   "steps": int(self.steps[r])}
            for k, v in cols.items():
                x = v[r].item()
                if k in labels:
                    lab = labels[k].label_of(int(x))
                    x = lab if lab is not None else x
                rec[k] = x
            recs.append(rec)
        return recs

    def curve_records(self) -> list[dict[str, Any]]:
        """One flat record per step: step, mean_fraction, q05, q95, and the mean of every series."""
        mean = self.mean_curve()
        lo, hi = self.band()
        cols: dict[str, np.ndarray] = {}
        for o in self.declarations.of_kind("series"):
            m = np.asarray(self.step_series[o.name], dtype=np.float64).mean(axis=1)
            if o.vector:
                for k, c in enumerate(o.columns()):
                    cols[c] = m[:, k]
            elif m.ndim == 1:
                cols[o.name] = m
        recs = []
        for t in range(len(mean)):
            rec: dict[str, Any] = {"step": t, "mean_fraction": float(mean[t]), "q05": float(lo[t]),
                                   "q95": float(hi[t])}
            for k, v in cols.items():
                rec[k] = float(v[t])
            recs.append(rec)
        return recs

    def node_columns(self) -> dict[str, np.ndarray]:
        """Per-node reductions as named columns of length ``n`` (the ``nodes.csv`` table)."""
        cols: dict[str, np.ndarray] = {
            "adoption_probability": self.adoption_probability,
            "mean_adoption_step": self.mean_adoption_step,
        }
        for o in self.declarations:
            if o.kind == "node_category":
                f = self.frequencies(o.name)
                for k, c in enumerate(o.columns()):
                    cols[c] = f[:, k]
            elif o.kind == "node_value":
                cols[o.columns()[0]] = self.node_mean(o.name)
        return cols

    def node_records(self) -> list[dict[str, Any]]:
        """One flat record per node: id, adoption probability, mean adoption step, category frequencies."""
        cols = self.node_columns()
        ids = self.node_ids if self.node_ids is not None else np.arange(self.n)
        ids_list = ids.tolist()
        lists = {k: [None if (isinstance(x, float) and np.isnan(x)) else x for x in v.tolist()]
                 for k, v in cols.items()}
        return [{"id": ids_list[i], **{k: v[i] for k, v in lists.items()}} for i in range(self.n)]

    def to_pandas(self, table: str = "runs") -> Any:
        """A :class:`pandas.DataFrame` of ``"runs"`` (one row per replicate), ``"curve"`` (per step)
        or ``"nodes"`` (per node) records (needs pandas)."""
        import pandas as pd

        if table == "runs":
            return pd.DataFrame.from_records(self.to_records())
        if table == "curve":
            return pd.DataFrame.from_records(self.curve_records())
        if table == "nodes":
            ids = self.node_ids if self.node_ids is not None else np.arange(self.n)
            return pd.DataFrame({"id": ids, **self.node_columns()})
        raise ParameterError("table", f"must be 'runs', 'curve' or 'nodes', got {table!r}")

    def __repr__(self) -> str:
        ff = self.final_fraction
        q = np.quantile(ff, [0.05, 0.95])
        seed = f"SeedSequence(entropy={self.seed.entropy}, spawn_key={tuple(self.seed.spawn_key)})"
        kept = "all replicates kept" if self.all_kept else (
            f"{len(self.kept)} replicate(s) kept" if len(self.kept) else "summary only")
        return (f"<SimulationResult {self.model}: {self.runs} runs on {self.n:,} nodes, final fraction "
                f"mean {ff.mean():.3f} [5-95%: {q[0]:.3f}, {q[1]:.3f}], {kept}; seed {seed}>")

    def _repr_html_(self) -> str:  # notebooks
        from ._repr import html_block

        ff = self.final_fraction
        q = np.quantile(ff, [0.05, 0.5, 0.95])
        kept = "all replicates" if self.all_kept else (
            ", ".join(map(str, self.kept.tolist()[:10])) if len(self.kept) else "none (summary only)")
        rows = [("model", self.model), ("replicates", self.runs), ("nodes", f"{self.n:,}"),
                ("final share adopted", f"mean {ff.mean():.1%}, median {q[1]:.1%} "
                                        f"[5-95% of runs: {q[0]:.1%}, {q[2]:.1%}]"),
                ("steps until nothing changed", f"mean {self.steps.mean():.1f}, max {int(self.steps.max())}"),
                ("per-firm arrays kept", kept),
                ("seed", f"SeedSequence(entropy={self.seed.entropy}, spawn_key={tuple(self.seed.spawn_key)})")]
        lines = describe_outputs({"outputs": self.output_summary()})
        return html_block(f"SimulationResult: {self.model}", rows, lines=lines)


def describe_outputs(summary: Mapping[str, Any]) -> list[str]:
    """Printed lines for the declared run outputs in a model's summary section."""
    lines = []
    for name, entry in (summary.get("outputs") or {}).items():
        if not isinstance(entry, Mapping):
            continue
        if "fractions" in entry:
            parts = ", ".join(f"{lab} {f:.0%}" for lab, f in entry["fractions"].items())
            lines.append(f"{name}: {parts} of runs")
        elif "stats" in entry and isinstance(entry["stats"], Mapping):
            st = entry["stats"]
            if "mean" in st:
                if st["mean"] is not None:
                    lines.append(f"{name}: mean {st['mean']:.4g} [5-95%: {st['q05']:.4g}, {st['q95']:.4g}]")
            else:
                parts = ", ".join(f"{lab} {s['mean']:.3g}" for lab, s in st.items() if s.get("mean") is not None)
                lines.append(f"{name} (mean): {parts}")
    return lines


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else f"<array of {obj.size}>"
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj
