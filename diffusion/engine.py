"""The runner: replicates, seeding, stopping and history for every model.

A model (a subclass of :class:`Model`) supplies only its vectorized step over
a *batch* of replicates; :func:`simulate` owns everything else. Replicates are
split into chunks (the unit a process pool or a Dask cluster receives);
replicate ``r`` always draws from the ``r``-th child of the run's
:class:`~numpy.random.SeedSequence`, so results are identical for any chunking.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._random import SeedLike, as_seed_sequence, replicate_generators
from .errors import DiffusionError, ParameterError
from .initial import Initial, parse_initial
from .network import Network

__all__ = ["Model", "SimulationResult", "State", "chunk_bounds", "run_chunk", "simulate"]


@dataclass
class State:
    """The state of a batch of ``R`` replicates, shared by all models.

    Models subclass it to add their own arrays. The runner reads only the
    fields below.

    Attributes
    ----------
    adopted_at : ndarray of int, shape (R, n)
        Step at which each node adopted in each replicate, ``-1`` if not (yet).
    count : ndarray of int64, shape (R,)
        Number of adopters in each replicate.
    active : ndarray of bool, shape (R,)
        Whether each replicate can still change. A model must leave inactive
        replicates untouched.
    rngs : list of numpy.random.Generator
        One generator per replicate of the batch.
    """

    adopted_at: np.ndarray
    count: np.ndarray
    active: np.ndarray
    rngs: list[np.random.Generator]

    @property
    def runs(self) -> int:
        return len(self.rngs)


def step_dtype(max_steps: int | None) -> type:
    """Compact dtype for adoption steps: int16 when steps cannot overflow it."""
    return np.int16 if max_steps is not None and max_steps < np.iinfo(np.int16).max else np.int32


class Model(ABC):
    """Base class of the cascade models.

    Subclasses set :attr:`name` (the scenario-file ``model`` key) and implement
    :meth:`start` and :meth:`step`; they may override :meth:`prepare`,
    :meth:`observe` and :meth:`outputs`. Parameters are validated in
    ``__init__`` (raising :class:`~diffusion.errors.ParameterError` that names the
    parameter); anything that needs the network is checked in :meth:`prepare`.
    """

    #: Registry key, as written in scenario files (``[cascade] model = ...``).
    name: ClassVar[str] = ""
    #: Whether the model needs initial adopters to do anything.
    requires_initial: ClassVar[bool] = True
    #: Step cap used when ``simulate(max_steps=None)``; ``None`` means "until quiescent".
    default_max_steps: ClassVar[int | None] = None

    def prepare(self, network: Network) -> Any:
        """Validate against ``network`` and precompute what every chunk shares.

        Called once per :func:`simulate` call; the return value (a picklable
        object) is passed to :meth:`start`, :meth:`step`, :meth:`observe` and
        :meth:`outputs` as ``ctx``.
        """
        return None

    @abstractmethod
    def start(
        self, ctx: Any, network: Network, seeds: Sequence[np.ndarray], rngs: list[np.random.Generator],
        max_steps: int | None,
    ) -> State:
        """Initial state of a batch; ``seeds[r]`` are replicate ``r``'s initial adopters (step 0)."""

    @abstractmethod
    def step(self, ctx: Any, network: Network, state: State, t: int) -> np.ndarray:
        """Advance every active replicate from step ``t - 1`` to ``t``.

        Returns a boolean array of shape ``(R,)``: which replicates changed.
        Must update ``state.adopted_at``, ``state.count`` and ``state.active``.
        """

    def observe(self, ctx: Any, network: Network, state: State) -> dict[str, np.ndarray]:
        """Per-replicate quantities recorded after every step (arrays of leading shape ``(R,)``)."""
        return {}

    def outputs(self, ctx: Any, network: Network, state: State) -> dict[str, np.ndarray]:
        """Per-replicate results at the end (arrays of leading shape ``(R,)``)."""
        return {}

    def run_to_end(
        self, ctx: Any, network: Network, state: State, max_steps: int | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Optionally run every replicate of the batch to its end in one call.

        A model that can finish whole cascades at once (e.g. in a compiled
        kernel) returns ``(counts, steps)`` exactly as the step loop would have
        recorded them: ``counts`` of shape ``(T + 1, R)``, the number of
        adopters after steps ``0 .. T`` (``T`` the number of steps the loop
        would have run), and ``steps`` of shape ``(R,)``, the last step at which
        each replicate changed. It must leave ``state.adopted_at`` final.
        The default, ``None``, lets the runner call :meth:`step` step by step.
        The runner uses this hook only for models whose :meth:`observe`
        records nothing.
        """
        return None

    def params(self) -> dict[str, Any]:
        """The model's parameters, as written in a scenario file."""
        return {}

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        """Estimated bytes one replicate needs: ``(kept in the result, working state)``.

        The default counts the adoption step of every node (kept) and about
        16 bytes per node of working state. Models with larger per-node outputs
        or state override it; :func:`simulate` uses it to refuse a run that
        would not fit in memory before it starts.
        """
        n = network.n
        return n * np.dtype(step_dtype(max_steps)).itemsize, 16 * n

    def summarize(self, result: SimulationResult) -> dict[str, Any]:
        """Model-specific entries merged into :meth:`SimulationResult.summary` (JSON-ready)."""
        return {}

    @classmethod
    def describe(cls, summary: Mapping[str, Any]) -> list[str]:
        """Lines ``diffusion run`` prints about this model's part of a run's summary.

        ``summary`` is the whole ``summary.json`` mapping; the model's entries
        (from :meth:`summarize`) are under ``summary["cascade"]``. Default: none.
        """
        return []

    def record_columns(self, result: SimulationResult) -> dict[str, np.ndarray]:
        """Extra per-replicate columns of :meth:`SimulationResult.to_records` (arrays ``(runs,)``)."""
        return {}

    def curve_columns(self, result: SimulationResult) -> dict[str, np.ndarray]:
        """Extra per-step columns of :meth:`SimulationResult.curve_records` (arrays ``(T + 1,)``)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


# ----------------------------------------------------------------- result
def _quantiles(x: np.ndarray, qs: Iterable[float] = (0.05, 0.5, 0.95), axis: int = -1) -> np.ndarray:
    return np.quantile(x, list(qs), axis=axis)


@dataclass(frozen=True)
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
    seed : int
        Entropy of the root :class:`~numpy.random.SeedSequence` (pass it back as
        ``seed`` to reproduce the run).
    adoption_step : ndarray of int, shape (runs, n)
        Step at which each node adopted in each replicate; ``-1`` never.
        Initial adopters have step 0.
    steps : ndarray of int, shape (runs,)
        Last step at which each replicate changed.
    counts : ndarray of int64, shape (T + 1, runs)
        Number of adopters after each step ``0 .. T``.
    series : dict of str to ndarray
        Model observables after each step, each of shape ``(T + 1, runs, ...)``.
    outputs : dict of str to ndarray
        Model results per replicate, each of leading shape ``(runs,)``.
    node_ids : ndarray
        Node ids, in the order of the columns of ``adoption_step``.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.erdos_renyi(200, mean_degree=6, seed=1)
    >>> res = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=5, runs=20, seed=7)
    >>> res.final_fraction.shape, res.curve.shape[1]
    ((20,), 20)
    >>> bool((res.adoption_step >= -1).all())
    True
    """

    model: str
    params: dict[str, Any]
    runs: int
    n: int
    seed: int
    adoption_step: np.ndarray
    steps: np.ndarray
    counts: np.ndarray
    series: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    node_ids: np.ndarray | None = None
    #: The model instance that produced the result (supplies model-specific summary columns).
    model_ref: Model | None = field(default=None, repr=False, compare=False)

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

    def adopted(self, replicate: int = 0) -> np.ndarray:
        """Boolean mask of the final adopters in ``replicate``."""
        return self.adoption_step[replicate] >= 0

    def summary(self) -> dict[str, Any]:
        """Plain-dict summary (JSON-ready) of the ensemble."""
        ff = self.final_fraction
        q = _quantiles(ff)
        out: dict[str, Any] = {
            "model": self.model,
            "params": _jsonable(self.params),
            "final_fraction": {
                "mean": float(ff.mean()),
                "std": float(ff.std(ddof=1)) if self.runs > 1 else 0.0,
                "min": float(ff.min()),
                "q05": float(q[0]),
                "q50": float(q[1]),
                "q95": float(q[2]),
                "max": float(ff.max()),
            },
            "steps": {"mean": float(self.steps.mean()), "max": int(self.steps.max())},
            "time_to": {},
        }
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

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record per replicate: run, final_fraction, final_count, steps, outputs."""
        scalar_outputs = {k: v for k, v in self.outputs.items() if v.ndim == 1}
        if self.model_ref is not None:
            scalar_outputs.update(self.model_ref.record_columns(self))
        recs = []
        for r in range(self.runs):
            rec: dict[str, Any] = {
                "run": r,
                "final_fraction": float(self.final_fraction[r]),
                "final_count": int(self.final_count[r]),
                "steps": int(self.steps[r]),
            }
            for k, v in scalar_outputs.items():
                rec[k] = v[r].item()
            recs.append(rec)
        return recs

    def curve_records(self) -> list[dict[str, Any]]:
        """One flat record per step: step, mean_fraction, q05, q95 (and series means)."""
        mean = self.mean_curve()
        lo, hi = self.band()
        recs = []
        scal = {k: v for k, v in self.series.items() if v.ndim == 2}
        extra = self.model_ref.curve_columns(self) if self.model_ref is not None else {}
        for t in range(len(mean)):
            rec: dict[str, Any] = {"step": t, "mean_fraction": float(mean[t]), "q05": float(lo[t]), "q95": float(hi[t])}
            for k, v in scal.items():
                rec[k] = float(v[t].mean())
            for k, v in extra.items():
                rec[k] = float(v[t])
            recs.append(rec)
        return recs

    def to_pandas(self) -> Any:
        """Per-replicate records as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.to_records())


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


# ----------------------------------------------------------------- runner
@dataclass
class ChunkResult:
    """What :func:`run_chunk` returns for replicates ``start .. start + runs - 1``."""

    start: int
    adoption_step: np.ndarray
    steps: np.ndarray
    counts: np.ndarray  # (T + 1, R)
    series: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]


def chunk_bounds(runs: int, chunk_size: int) -> list[tuple[int, int]]:
    """``(start, count)`` of consecutive chunks covering ``runs`` replicates."""
    return [(a, min(chunk_size, runs - a)) for a in range(0, runs, chunk_size)]


def run_chunk(
    network: Network,
    model: Model,
    ctx: Any,
    initial: Initial,
    seed: np.random.SeedSequence,
    start: int,
    runs: int,
    max_steps: int | None,
) -> ChunkResult:
    """Run replicates ``start .. start + runs - 1`` of an ensemble.

    This is the unit of work that executors distribute; it depends only on its
    arguments (replicate ``r`` draws from child ``r`` of ``seed``).
    """
    rngs = replicate_generators(seed, runs, start)
    seeds = initial.resolve(network, rngs)
    state = model.start(ctx, network, seeds, rngs, max_steps)
    counts = [state.count.copy()]
    obs = model.observe(ctx, network, state)
    series: dict[str, list[np.ndarray]] = {k: [np.array(v, copy=True)] for k, v in obs.items()}
    done = None if obs else model.run_to_end(ctx, network, state, max_steps)
    if done is not None:
        return ChunkResult(
            start=start,
            adoption_step=state.adopted_at,
            steps=np.asarray(done[1], dtype=np.int64),
            counts=np.asarray(done[0], dtype=np.int64),
            series={},
            outputs=model.outputs(ctx, network, state),
        )
    steps = np.zeros(runs, dtype=np.int64)
    t = 0
    while state.active.any() and (max_steps is None or t < max_steps):
        t += 1
        changed = model.step(ctx, network, state, t)
        steps[changed] = t
        counts.append(state.count.copy())
        for k, v in model.observe(ctx, network, state).items():
            series[k].append(np.array(v, copy=True))
    return ChunkResult(
        start=start,
        adoption_step=state.adopted_at,
        steps=steps,
        counts=np.stack(counts),
        series={k: np.stack(v) for k, v in series.items()},
        outputs=model.outputs(ctx, network, state),
    )


def _pad_rows(a: np.ndarray, rows: int) -> np.ndarray:
    """Extend ``a`` along axis 0 to ``rows`` by repeating its last row."""
    if len(a) == rows:
        return a
    pad = np.repeat(a[-1:], rows - len(a), axis=0)
    return np.concatenate([a, pad])


def merge_chunks(
    chunks: Sequence[ChunkResult], model: Model, network: Network, seed: np.random.SeedSequence
) -> SimulationResult:
    """Assemble chunk results (in any order) into one :class:`SimulationResult`."""
    chunks = sorted(chunks, key=lambda c: c.start)
    T = max(len(c.counts) for c in chunks)
    counts = np.concatenate([_pad_rows(c.counts, T) for c in chunks], axis=1)
    series = {
        k: np.concatenate([_pad_rows(c.series[k], T) for c in chunks], axis=1) for k in chunks[0].series
    }
    outputs = {k: np.concatenate([c.outputs[k] for c in chunks], axis=0) for k in chunks[0].outputs}
    dtype = np.result_type(*[c.adoption_step.dtype for c in chunks])
    if len(chunks) == 1:  # one chunk: hand over its array (no copy of R x n steps)
        adoption = chunks[0].adoption_step
    else:
        adoption = np.concatenate([c.adoption_step.astype(dtype, copy=False) for c in chunks], axis=0)
    return SimulationResult(
        model=model.name,
        params=model.params(),
        runs=adoption.shape[0],
        n=network.n,
        seed=int(seed.entropy) if isinstance(seed.entropy, int) else 0,  # type: ignore[arg-type]
        adoption_step=adoption,
        steps=np.concatenate([c.steps for c in chunks]),
        counts=counts,
        series=series,
        outputs=outputs,
        node_ids=network.node_ids,
        model_ref=model,
    )


def default_chunk_size(network: Network, runs: int, budget_bytes: float = 512e6, workers: int = 1) -> int:
    """Replicates per chunk so that one chunk's per-node state stays within ``budget_bytes``.

    With ``workers`` > 1 (chunks running at the same time) there is at least one
    chunk per worker.
    """
    per_rep = max(network.n, 1) * 16
    size = min(runs, budget_bytes // per_rep)
    if workers > 1:
        size = min(size, -(-runs // int(workers)))
    return int(max(1, size))


def simulate(
    network: Network,
    model: Model,
    initial: Any = None,
    *,
    runs: int = 100,
    seed: SeedLike = None,
    max_steps: int | None = None,
    chunk_size: int | None = None,
    map_chunks: Callable[..., Iterable[ChunkResult]] | None = None,
    progress: Callable[[int], None] | None = None,
    check_memory: bool = True,
) -> SimulationResult:
    """Run ``runs`` replicates of ``model`` on ``network``.

    Parameters
    ----------
    network : Network
        The graph (convert a networkx graph with :meth:`Network.from_networkx`).
    model : Model
        A cascade model, e.g. :class:`~diffusion.LinearThreshold`.
    initial : int, float, sequence of node ids, dict or None
        Initial adopters (adopted at step 0): a count, a fraction of the nodes,
        explicit node ids, ``{"top": k, "by": "degree" | attribute}``, or
        ``None`` for none. Random choices are drawn anew per replicate.
        See :mod:`diffusion.initial`.
    runs : int, default 100
        Number of Monte-Carlo replicates.
    seed : int, SeedSequence or None
        Root seed; replicate ``r`` draws from its ``r``-th spawned child.
    max_steps : int, optional
        Stop after this many steps (default: the model's own cap, or until no
        replicate can change).
    chunk_size : int, optional
        Replicates simulated together in one batch (default: as many as fit a
        memory budget). Results do not depend on it.
    map_chunks : callable, optional
        ``map_chunks(run_chunk, tasks)`` runs the chunk tasks (each a tuple of
        :func:`run_chunk` arguments) and yields their results, in any order;
        this is how process pools and Dask clusters plug in (see
        :mod:`diffusion.parallel`; an executor's ``workers`` attribute, if any,
        sets the default ``chunk_size``). Default: in this process, in order.
    progress : callable, optional
        Called with the number of replicates just finished.
    check_memory : bool, default True
        Before starting, estimate the memory the run needs (per-node results of
        every replicate, see :meth:`Model.memory_per_replicate`) and raise
        :class:`~diffusion.errors.DiffusionError` if it exceeds what is available.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.watts_strogatz(100, 4, 0.1, seed=3)
    >>> res = diffusion.simulate(net, diffusion.LinearThreshold(0.25), initial=5, runs=10, seed=1)
    >>> res.adoption_step.shape
    (10, 100)
    >>> same = diffusion.simulate(net, diffusion.LinearThreshold(0.25), initial=5, runs=10, seed=1, chunk_size=3)
    >>> bool((res.adoption_step == same.adoption_step).all())
    True
    """
    if not isinstance(network, Network):
        raise DiffusionError(
            f"network must be a diffusion.Network (got {type(network).__name__}); "
            "convert a networkx graph with diffusion.Network.from_networkx(G)"
        )
    if not isinstance(model, Model):
        raise DiffusionError(f"model must be a diffusion model, got {type(model).__name__}")
    if network.n == 0:
        raise DiffusionError("the network has no nodes")
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise ParameterError("runs", f"must be a positive integer, got {runs!r}")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer)
                                  or max_steps < 0):
        raise ParameterError("max_steps", f"must be a non-negative integer, got {max_steps!r}")
    init = parse_initial(initial)
    if init.count_for(network.n) > network.n:
        raise ParameterError(f"initial.{init.kind}", f"more initial adopters than the {network.n} nodes")
    if init.kind == "nodes":
        network.index_of(init.value)  # fail early on unknown ids
    root = as_seed_sequence(seed)
    if max_steps is None:
        max_steps = model.default_max_steps
    ctx = model.prepare(network)
    workers = getattr(map_chunks, "workers", 1) if map_chunks is not None else 1
    size = int(chunk_size) if chunk_size else default_chunk_size(network, int(runs), workers=workers)
    if size < 1:
        raise ParameterError("chunk_size", "must be a positive integer")
    if check_memory:
        _check_memory(expected_memory(network, model, int(runs), size, workers, max_steps), int(runs), network.n)
    tasks = [(network, model, ctx, init, root, a, k, max_steps) for a, k in chunk_bounds(int(runs), size)]
    results = []
    iterator = map_chunks(run_chunk, tasks) if map_chunks is not None else (run_chunk(*t) for t in tasks)
    for res in iterator:
        results.append(res)
        if progress is not None:
            progress(res.counts.shape[1])
    return merge_chunks(results, model, network, root)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (``MemAvailable``), if the OS says."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def expected_memory(
    network: Network, model: Model, runs: int, chunk_size: int, workers: int = 1,
    max_steps: int | None = None,
) -> int:
    """Estimated peak bytes of a :func:`simulate` call.

    Per-node results of every replicate are held twice at the end (in the chunks
    and in the merged arrays); the working state of ``workers`` chunks exists at
    the same time.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.engine import expected_memory
    >>> net = diffusion.generators.complete_graph(100)
    >>> expected_memory(net, diffusion.LinearThreshold(0.5), runs=10, chunk_size=10)
    24000
    """
    kept, working = model.memory_per_replicate(network, max_steps)
    active = min(chunk_size, runs) * max(int(workers), 1)
    return int(2 * runs * kept + active * working)


def _check_memory(need: int, runs: int, n: int) -> None:
    avail = available_memory()
    if avail is not None and need > avail:
        raise DiffusionError(
            f"this run needs about {need / 1e9:.1f} GB ({runs} replicates of {n} nodes) but only "
            f"{avail / 1e9:.1f} GB of memory are available; use fewer runs, or split them "
            "(e.g. a [sweep] over scenario.runs-sized batches, or a Dask cluster)"
        )
