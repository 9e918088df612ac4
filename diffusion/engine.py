"""The runner: replicates, seeding, stopping, stages and reductions for every model.

A model (a subclass of :class:`Model`) supplies only its vectorized step over
a *batch* of replicates and declares its outputs (:meth:`Model.declare`);
:func:`simulate` owns everything else. Replicates are split into chunks (the
unit a process pool or a Dask cluster receives). A chunk runs the cascade,
then the stages that follow it (e.g. a shock, :class:`Stage`), then reduces
what it produced where it ran (:mod:`diffusion.reductions`): only the
reductions — and the per-node arrays of the replicates asked for — travel
back and are merged. Replicate ``r`` always draws from the ``r``-th child of
the run's :class:`~numpy.random.SeedSequence`, so results are identical for
any chunking and executor.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._random import SeedLike, as_seed_sequence, replicate_generators, replicate_keys
from .declarations import Declarations
from .errors import DiffusionError, ParameterError
from .initial import Initial, parse_initial
from .network import Network
from .reductions import Adoptions, ChunkData, ChunkSummary, merge_summaries, reduce_chunk
from .result import KEEP_MODES, SimulationResult

__all__ = [
    "Batch",
    "ChunkPlan",
    "Model",
    "SimulationResult",
    "Stage",
    "State",
    "chunk_bounds",
    "expected_memory",
    "run_chunk",
    "simulate",
]


# ----------------------------------------------------------------- batches and state
@dataclass
class Batch:
    """Replicates ``start .. start + runs - 1`` of a run, as a model's :meth:`Model.start` sees them.

    Everything random is derived lazily from the run's seed, so a model pays
    only for what it uses: :attr:`rngs` (one :class:`numpy.random.Generator`
    per replicate, replicate ``r`` from child ``r`` of the seed), :attr:`keys`
    (one 64-bit key per replicate for counter-based draws inside compiled
    kernels) and :attr:`seeds` (each replicate's initial adopters, drawn from
    its generator).

    Attributes
    ----------
    seed : numpy.random.SeedSequence
        The run's root seed.
    start, runs : int
    max_steps : int or None
    initial : Initial
        The initial-adopter specification (a kernel may draw random ones itself).
    network : Network
    dense : bool
        Whether per-node rows of every replicate are needed after the run (kept
        replicates, a stage after the cascade). A model that can keep its state
        sparse may do so when this is ``False``; it must then provide
        :meth:`Model.adoptions`.
    explicit : bool
        Whether the initial adopters were given replicate by replicate
        (:meth:`of`) rather than by :attr:`initial`; a model that draws random
        initial adopters itself (from :attr:`keys`) must then use :attr:`seeds`.
    """

    seed: np.random.SeedSequence
    start: int
    runs: int
    max_steps: int | None
    initial: Initial
    network: Network
    dense: bool = True
    explicit: bool = False
    _rngs: list[np.random.Generator] | None = field(default=None, repr=False)
    _seeds: list[np.ndarray] | None = field(default=None, repr=False)
    _keys: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of(cls, network: Network, seeds: Sequence[np.ndarray], rngs: Sequence[np.random.Generator],
           max_steps: int | None = None) -> Batch:
        """A batch with given initial adopters and generators (to drive a model by hand).

        Examples
        --------
        >>> import numpy as np, diffusion
        >>> from diffusion.engine import Batch
        >>> net = diffusion.generators.complete_graph(3)
        >>> b = Batch.of(net, [np.array([0])], [np.random.default_rng(0)])
        >>> b.runs, b.seeds[0].tolist()
        (1, [0])
        """
        seeds = [np.asarray(s, dtype=np.int64) for s in seeds]
        if len(seeds) != len(rngs):
            raise ParameterError("seeds", "give one array of initial adopters per generator")
        init = Initial("nodes", tuple(np.unique(np.concatenate(seeds)).tolist())) if any(len(s) for s in seeds) \
            else Initial("none")
        return cls(np.random.SeedSequence(0), 0, len(seeds), max_steps, init, network, explicit=True,
                   _rngs=list(rngs), _seeds=seeds)

    @property
    def rngs(self) -> list[np.random.Generator]:
        """One generator per replicate (replicate ``r`` draws from child ``r`` of :attr:`seed`)."""
        if self._rngs is None:
            self._rngs = replicate_generators(self.seed, self.runs, self.start)
        return self._rngs

    @property
    def seeds(self) -> list[np.ndarray]:
        """Initial adopters of each replicate (node indices), drawn from :attr:`rngs`."""
        if self._seeds is None:
            self._seeds = self.initial.resolve(self.network, self.rngs)
        return self._seeds

    @property
    def keys(self) -> np.ndarray:
        """One uint64 key per replicate for counter-based random numbers (see :mod:`diffusion._random`)."""
        if self._keys is None:
            self._keys = replicate_keys(self.seed, self.runs, self.start)
        return self._keys


@dataclass
class State:
    """The state of a batch of ``R`` replicates, shared by all models.

    Models subclass it to add their own arrays. The runner reads only the
    fields below.

    Attributes
    ----------
    adopted_at : ndarray of int, shape (R, n)
        Step at which each node adopted in each replicate, ``-1`` if not (yet).
        A model with sparse state may leave it ``None`` and provide
        :meth:`Model.adoptions`.
    count : ndarray of int, shape (R,)
        Number of adopters in each replicate.
    active : ndarray of bool, shape (R,)
        Whether each replicate can still change. A model must leave inactive
        replicates untouched.
    rngs : list of numpy.random.Generator
        One generator per replicate of the batch (:attr:`Batch.rngs`).
    """

    adopted_at: np.ndarray | None
    count: np.ndarray
    active: np.ndarray
    rngs: list[np.random.Generator]

    @property
    def runs(self) -> int:
        return len(self.count)


def step_dtype(max_steps: int | None) -> type:
    """Compact dtype for adoption steps: int16 when steps cannot overflow it."""
    return np.int16 if max_steps is not None and max_steps < np.iinfo(np.int16).max else np.int32


# ----------------------------------------------------------------- models
class Model(ABC):
    """Base class of the cascade models.

    Subclasses set :attr:`name` (the scenario-file ``model`` key), implement
    :meth:`start` and :meth:`step`, and declare what they produce in
    :meth:`declare`; they may override :meth:`prepare`, :meth:`observe`,
    :meth:`outputs`, :meth:`run_to_end`, :meth:`adoptions`, :meth:`summarize`
    and :meth:`describe`. Parameters are validated in ``__init__`` (raising
    :class:`~diffusion.errors.ParameterError` that names the parameter);
    anything that needs the network is checked in :meth:`prepare`.

    Every model has one built-in output, the step at which each node adopted
    (reduced to each node's adoption probability and mean adoption step);
    everything else it produces is declared (:mod:`diffusion.declarations`):
    :meth:`outputs` returns the node and run outputs, :meth:`observe` the
    series, each under its declared name.
    """

    #: Registry key, as written in scenario files (``[cascade] model = ...``).
    name: ClassVar[str] = ""
    #: Whether the model needs initial adopters to do anything.
    requires_initial: ClassVar[bool] = True
    #: Step cap used when ``simulate(max_steps=None)``; ``None`` means "until quiescent".
    default_max_steps: ClassVar[int | None] = None
    #: Whether every step but the last adds an adopter (so a run has at most ``n + 1`` steps,
    #: whatever ``max_steps``): bounds the memory estimate of the curves.
    progressive: ClassVar[bool] = False

    def declare(self) -> Declarations:
        """The outputs the model produces besides adoption steps (see :mod:`diffusion.declarations`)."""
        return Declarations()

    def starts_without_initial(self, ctx: Any) -> bool:
        """Whether a run without initial adopters can do anything (default: ``not requires_initial``).

        :func:`simulate` refuses a run without initial adopters when this is false.
        """
        return not self.requires_initial

    def prepare(self, network: Network) -> Any:
        """Validate against ``network`` and precompute what every chunk shares.

        Called once per :func:`simulate` call; the return value (a picklable
        object) is passed to :meth:`start`, :meth:`step`, :meth:`observe` and
        :meth:`outputs` as ``ctx``.
        """
        return None

    @abstractmethod
    def start(self, ctx: Any, network: Network, batch: Batch) -> State:
        """Initial state of a batch; ``batch.seeds[r]`` are replicate ``r``'s initial adopters (step 0)."""

    @abstractmethod
    def step(self, ctx: Any, network: Network, state: State, t: int) -> np.ndarray:
        """Advance every active replicate from step ``t - 1`` to ``t``.

        Returns a boolean array of shape ``(R,)``: which replicates changed.
        Must update ``state.adopted_at``, ``state.count`` and ``state.active``.
        """

    def observe(self, ctx: Any, network: Network, state: State) -> dict[str, np.ndarray]:
        """Declared series (and node series) after every step, arrays of leading shape ``(R,)``."""
        return {}

    def outputs(self, ctx: Any, network: Network, state: State) -> dict[str, np.ndarray]:
        """Declared node and run outputs at the end, arrays of leading shape ``(R,)``."""
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
        each replicate changed. It must leave :meth:`adoptions` final.
        The default, ``None``, lets the runner call :meth:`step` step by step.
        The runner uses this hook only for models that declare no series.
        """
        return None

    def adoptions(self, ctx: Any, state: State) -> Adoptions:
        """Who adopted when in the batch (default: the dense ``state.adopted_at``)."""
        if state.adopted_at is None:
            raise DiffusionError(f"model {self.name!r} keeps sparse state but does not define adoptions()")
        return Adoptions.from_dense(state.adopted_at)

    def params(self) -> dict[str, Any]:
        """The model's parameters, as written in a scenario file."""
        return {}

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        """Estimated bytes one replicate needs: ``(its per-node results, working state)``.

        The default counts the adoption step of every node and about 16 bytes
        per node of working state. Models with larger per-node outputs or state
        override it; :func:`simulate` uses it to size chunks and to refuse a run
        that would not fit in memory before it starts.
        """
        n = network.n
        return n * np.dtype(step_dtype(max_steps)).itemsize, 16 * n

    def replicate_batch(self, network: Network) -> int:
        """Replicates the model advances together (chunks are not made smaller than this).

        A kernel that runs, say, 64 replicates in one pass over the arcs would
        waste most of that pass on chunks of a few replicates; the memory check
        still refuses what does not fit.
        """
        return 1

    def sparse_memory(self, network: Network, max_steps: int | None) -> tuple[int, int] | None:
        """``(bytes per chunk, bytes per replicate)`` when the model keeps its state sparse, else ``None``.

        A model that keeps no per-node row when :attr:`Batch.dense` is false
        (e.g. frontier kernels that tally adoptions where they happen) returns
        what a chunk of its replicates holds in that mode: scratch arrays
        shared by the chunk's replicates, and per replicate its curve and
        scalars. :func:`simulate` then sizes summary-mode chunks by it (large
        chunks, so that per-chunk costs of order ``n`` are shared by many
        replicates) and the memory guard counts it. Default: ``None`` (the
        dense :meth:`memory_per_replicate` applies in every mode).
        """
        return None

    def summarize(self, result: SimulationResult) -> dict[str, Any]:
        """Model-specific entries merged into :meth:`SimulationResult.summary` (JSON-ready).

        Everything declared is summarized generically; this hook adds what
        only the model knows how to compute (e.g. a Bass fit of its curve).
        """
        return {}

    @classmethod
    def describe(cls, summary: Mapping[str, Any]) -> list[str]:
        """Lines ``diffusion run`` prints about this model's part of a run's summary.

        ``summary`` is the whole ``summary.json`` mapping; the model's entries
        are under ``summary["cascade"]``. The default prints one line per
        declared run output (categories as shares of replicates, numbers as
        mean and 5-95 % range).
        """
        from .result import describe_outputs

        return describe_outputs(summary.get("cascade", summary))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


# ----------------------------------------------------------------- stages
class Stage(ABC):
    """Work that runs inside every chunk after the cascade (e.g. a shock), before the reductions.

    A stage reads the chunk's adoptions and declared outputs (by role, see
    :meth:`ChunkData.holdings <diffusion.reductions.ChunkData.holdings>`),
    and adds its own declared outputs to the chunk, which are then reduced like
    the model's. Replicate ``r`` of a stage draws from child ``r`` of
    :attr:`seed`.
    """

    #: Short name used in messages and summaries.
    name: ClassVar[str] = "stage"
    #: Whether the stage reads per-node rows of every replicate (e.g. who holds what).
    needs_nodes: ClassVar[bool] = True
    seed: np.random.SeedSequence | None = None

    @abstractmethod
    def declare(self, network: Network, model: Declarations) -> Declarations:
        """The stage's own outputs, given the network and the model's outputs."""

    def prepare(self, network: Network, model: Model, declarations: Declarations) -> Any:
        """Validate and precompute once per run (picklable); passed to :meth:`apply`."""
        return None

    @abstractmethod
    def apply(self, ctx: Any, network: Network, data: ChunkData, declarations: Declarations) -> None:
        """Add the stage's outputs (arrays of leading shape ``(R,)``) to ``data.values``."""

    def memory_per_replicate(self, network: Network) -> int:
        """Working bytes per replicate (default: four float arrays over the nodes)."""
        return 32 * network.n

    def rngs(self, data: ChunkData) -> list[np.random.Generator]:
        """One generator per replicate of the chunk, from :attr:`seed`."""
        return replicate_generators(self.seed, data.runs, data.start)


# ----------------------------------------------------------------- chunks
@dataclass
class ChunkPlan:
    """What every chunk of one :func:`simulate` call shares (sent to workers once)."""

    seed: np.random.SeedSequence
    initial: Initial
    max_steps: int | None
    runs: int
    declarations: Declarations
    stages: tuple[tuple[Stage, Any], ...] = ()
    keep: np.ndarray | None = None  # global replicate ids kept (None: all)

    def kept_in(self, start: int, runs: int) -> np.ndarray:
        """Positions, within chunk ``start .. start + runs - 1``, of the kept replicates."""
        if self.keep is None:
            return np.arange(runs, dtype=np.int64)
        k = self.keep
        sel = k[(k >= start) & (k < start + runs)]
        return (sel - start).astype(np.int64)


def chunk_bounds(runs: int, chunk_size: int, kept: np.ndarray | None = None,
                 kept_size: int | None = None) -> list[tuple[int, int]]:
    """``(start, count)`` of consecutive chunks covering ``runs`` replicates.

    With ``kept`` (ascending replicate ids whose per-node rows are kept), the
    kept replicates get chunks of their own, of at most ``kept_size``: the
    chunks without them can then keep their state sparse.

    Examples
    --------
    >>> import numpy as np
    >>> chunk_bounds(10, 4)
    [(0, 4), (4, 4), (8, 2)]
    >>> chunk_bounds(10, 8, kept=np.array([3]), kept_size=2)
    [(0, 3), (3, 1), (4, 6)]
    """
    if kept is None or not len(kept):
        return [(a, min(chunk_size, runs - a)) for a in range(0, runs, chunk_size)]
    flag = np.zeros(runs, dtype=bool)
    flag[kept] = True
    cuts = np.flatnonzero(np.diff(flag.astype(np.int8))) + 1
    out: list[tuple[int, int]] = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, runs], strict=True):
        size = (kept_size or chunk_size) if flag[a] else chunk_size
        out.extend((int(x), int(min(size, b - x))) for x in range(a, b, size))
    return out


def _check_names(model: Model, got: dict[str, np.ndarray], declarations: Declarations, kinds: tuple[str, ...],
                 hook: str) -> None:
    want = {o.name for o in declarations.of_kind(*kinds)}
    extra = sorted(set(got) - want)
    if extra:
        raise DiffusionError(f"model {model.name!r}: {hook}() returned {extra[0]!r}, which it does not declare "
                             f"(add it to {type(model).__name__}.declare())")
    missing = sorted(want - set(got))
    if missing:
        raise DiffusionError(f"model {model.name!r} declares {missing[0]!r} but {hook}() does not return it")


def run_chunk(network: Network, model: Model, ctx: Any, plan: ChunkPlan, start: int, runs: int) -> ChunkSummary:
    """Run replicates ``start .. start + runs - 1`` of an ensemble and reduce them.

    This is the unit of work that executors distribute; it depends only on its
    arguments (replicate ``r`` draws from child ``r`` of ``plan.seed``).
    """
    kept = plan.kept_in(start, runs)
    dense = bool(len(kept)) or any(st.needs_nodes for st, _ in plan.stages)
    batch = Batch(plan.seed, start, runs, plan.max_steps, plan.initial, network, dense=dense)
    declared = model.declare()
    series_kinds = ("series", "node_series")
    state = model.start(ctx, network, batch)
    obs = model.observe(ctx, network, state)
    _check_names(model, obs, declared, series_kinds, "observe")
    node_series = {o.name for o in declared.of_kind("node_series")}

    def record(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: (np.array(v[kept], copy=True) if k in node_series else np.array(v, copy=True))
                for k, v in values.items() if k not in node_series or len(kept)}

    done = None if obs else model.run_to_end(ctx, network, state, plan.max_steps)
    if done is not None:
        counts, steps = np.asarray(done[0], dtype=np.int64), np.asarray(done[1], dtype=np.int64)
        series: dict[str, np.ndarray] = {}
    else:
        hist = [state.count.copy()]
        rec: dict[str, list[np.ndarray]] = {k: [v] for k, v in record(obs).items()}
        steps = np.zeros(runs, dtype=np.int64)
        t = 0
        while state.active.any() and (plan.max_steps is None or t < plan.max_steps):
            t += 1
            changed = model.step(ctx, network, state, t)
            steps[changed] = t
            hist.append(state.count.copy())
            for k, v in record(model.observe(ctx, network, state)).items():
                rec[k].append(v)
        counts = np.stack(hist).astype(np.int64, copy=False)
        series = {k: np.stack(v) for k, v in rec.items()}
    outs = model.outputs(ctx, network, state)
    _check_names(model, outs, declared, ("node_category", "node_value", "run_category", "run_value"), "outputs")
    data = ChunkData(start, runs, model.adoptions(ctx, state), counts, steps, {**series, **outs}, kept,
                     plan.seed)
    for stage, sctx in plan.stages:
        stage.apply(sctx, network, data, plan.declarations)
    return reduce_chunk(data, plan.declarations, network.n, plan.runs)


# ----------------------------------------------------------------- simulate
def _as_network(network: Any) -> Network:
    if isinstance(network, Network):
        return network
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is a dependency
        nx = None
    if nx is not None and isinstance(network, nx.Graph):
        return Network.from_networkx(network)
    raise DiffusionError(
        f"network must be a diffusion.Network or a networkx graph (got {type(network).__name__})"
    )


def _resolve_keep(keep: Any, runs: int) -> tuple[str, np.ndarray | None]:
    """``(mode, kept replicate ids)``: ``None`` ids means every replicate."""
    if isinstance(keep, str):
        if keep not in KEEP_MODES:
            raise ParameterError("keep", f"must be 'replicates', 'summary' or a list of replicate indices, got {keep!r}")
        return keep, (None if keep == "replicates" else np.empty(0, dtype=np.int64))
    try:
        ids = np.unique(np.asarray(list(keep), dtype=np.int64))
    except (TypeError, ValueError):
        raise ParameterError("keep", f"must be 'replicates', 'summary' or a list of replicate indices, got {keep!r}") from None
    if len(ids) and (ids[0] < 0 or ids[-1] >= runs):
        raise ParameterError("keep", f"replicate indices must lie in 0..{runs - 1}, got {ids.tolist()}")
    return "summary", ids


def simulate(
    network: Network | Any,
    model: Model,
    initial: Any = None,
    *,
    runs: int = 100,
    seed: SeedLike = None,
    max_steps: int | None = None,
    keep: str | Sequence[int] = "replicates",
    stages: Sequence[Stage] = (),
    chunk_size: int | None = None,
    map_chunks: Callable[..., Iterable[ChunkSummary]] | None = None,
    progress: Callable[[int], None] | bool | None = None,
    check_memory: bool = True,
) -> SimulationResult:
    """Run ``runs`` replicates of ``model`` on ``network``.

    Parameters
    ----------
    network : Network or networkx graph
        The graph (a networkx graph is converted once; its node ids are kept).
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
        :attr:`SimulationResult.seed` gives back what reproduces the run.
    max_steps : int, optional
        Stop after this many steps (default: the model's own cap, or until no
        replicate can change).
    keep : {"replicates", "summary"} or sequence of int, default "replicates"
        What is kept of the per-node state of each replicate. ``"replicates"``:
        everything (``adoption_step`` and the node outputs of shape
        ``(runs, n)``). ``"summary"``: each chunk is reduced where it ran and
        only reductions are kept — per replicate the curves, steps, run
        outputs and series; per node, across replicates, the adoption
        probability, the mean adoption step and the frequency of every
        category of every categorical node output — so memory grows with
        ``n`` plus ``runs``, not ``n × runs``. A sequence of replicate indices:
        the summary plus the per-node arrays of those replicates
        (:meth:`SimulationResult.replicate`).
    stages : sequence of Stage
        Work run inside every chunk after the cascade, before the reductions
        (e.g. :class:`diffusion.shocks.ShockStage`); their outputs are reduced
        like the model's.
    chunk_size : int, optional
        Replicates simulated together in one batch (default: as many as fit a
        memory budget). Results do not depend on it.
    map_chunks : callable, optional
        ``map_chunks(run_chunk, tasks)`` runs the chunk tasks and yields their
        results, in any order; this is how process pools and Dask clusters plug
        in (see :mod:`diffusion.parallel`; an executor's ``workers`` attribute,
        if any, sets the default ``chunk_size``). Default: in this process.
    progress : callable or bool, optional
        A callable is called with the number of replicates just finished;
        ``True`` shows a progress bar: tqdm's when it is installed (in a
        notebook or a terminal), else a line on stderr
        (:class:`diffusion.progress.Progress`).
    check_memory : bool, default True
        Before starting, estimate the memory the run needs and raise
        :class:`~diffusion.errors.DiffusionError` if it exceeds what is
        available (the message says whether ``keep="summary"`` would fit).

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
    >>> lean = diffusion.simulate(net, diffusion.LinearThreshold(0.25), initial=5, runs=10, seed=1,
    ...                           keep="summary", chunk_size=3)
    >>> bool((lean.adoption_probability == res.adoption_probability).all())
    True
    >>> same = diffusion.simulate(net, diffusion.LinearThreshold(0.25), initial=5, runs=10, seed=res.seed)
    >>> bool((same.adoption_step == res.adoption_step).all())
    True
    """
    network = _as_network(network)
    if not isinstance(model, Model):
        raise DiffusionError(f"model must be a diffusion model, got {type(model).__name__}")
    if network.n == 0:
        raise DiffusionError("the network has no nodes")
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise ParameterError("runs", f"must be a positive integer, got {runs!r}")
    runs = int(runs)
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer)
                                  or max_steps < 0):
        raise ParameterError("max_steps", f"must be a non-negative integer, got {max_steps!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer)
                                   or chunk_size < 1):
        raise ParameterError("chunk_size", f"must be a positive integer, got {chunk_size!r}")
    init = parse_initial(initial)
    if init.count_for(network.n) > network.n:
        raise ParameterError(f"initial.{init.kind}", f"more initial adopters than the {network.n} nodes")
    if init.kind == "nodes":
        network.index_of(init.value)  # fail early on unknown ids
    mode, kept_ids = _resolve_keep(keep, runs)
    root = as_seed_sequence(seed)
    if max_steps is None:
        max_steps = model.default_max_steps
    ctx = model.prepare(network)
    if init.count_for(network.n) == 0 and not model.starts_without_initial(ctx):
        raise ParameterError("initial", f"model {model.name!r} spreads only from initial adopters and none were "
                             "given: pass initial= (a count, a fraction, node ids or {'top': k})")
    declared = model.declare()
    prepared: list[tuple[Stage, Any]] = []
    for stage in stages:
        if not isinstance(stage, Stage):
            raise DiffusionError(f"stages must be Stage objects, got {type(stage).__name__}")
        extra = stage.declare(network, declared)
        prepared.append((stage, stage.prepare(network, model, declared + extra)))
        declared = declared + extra
    workers = getattr(map_chunks, "workers", 1) if map_chunks is not None else 1
    per_rep = _working_bytes(network, model, max_steps, stages)
    # summary mode with a model that keeps sparse state: large chunks (their scratch is shared by the
    # chunk's replicates), the kept replicates (if any) in dense chunks of their own
    sparse = _sparse_footprint(network, model, max_steps, stages) if mode == "summary" else None
    if chunk_size:
        size = dense_size = int(chunk_size)
    else:
        dense_size = default_chunk_size(per_rep, runs, workers=workers)
        dense_size = max(dense_size, min(runs, model.replicate_batch(network)))
        size = dense_size if sparse is None else \
            default_chunk_size(sparse[1], runs, workers=workers, cap=max(4096, network.n // 16))
    if check_memory:
        _check_memory(network, model, runs, size, workers, max_steps, kept_ids, stages, declared)
    plan = ChunkPlan(root, init, max_steps, runs, declared, tuple(prepared), kept_ids)
    bounds = chunk_bounds(runs, size, kept_ids if sparse is not None and not chunk_size else None, dense_size)
    tasks = [(network, model, ctx, plan, a, k) for a, k in bounds]
    results: list[ChunkSummary] = []
    iterator = map_chunks(run_chunk, tasks) if map_chunks is not None else (run_chunk(*t) for t in tasks)
    bar = _progress(progress, runs)
    try:
        for res in iterator:
            results.append(res)
            if bar is not None:
                bar(res.runs)
    finally:
        close = getattr(bar, "close", None)
        if close is not None:
            close()
    merged = merge_summaries(results, declared)
    return SimulationResult.from_merged(merged, model=model, network=network, seed=root, keep=mode,
                                        declarations=declared)


def _progress(progress: Any, runs: int) -> Callable[[int], None] | None:
    from .progress import make_progress

    return make_progress(progress, runs)


# ----------------------------------------------------------------- memory
def _working_bytes(network: Network, model: Model, max_steps: int | None, stages: Sequence[Stage]) -> int:
    kept, working = model.memory_per_replicate(network, max_steps)
    return int(kept + working + sum(st.memory_per_replicate(network) for st in stages))


def _sparse_footprint(network: Network, model: Model, max_steps: int | None,
                      stages: Sequence[Stage]) -> tuple[int, int] | None:
    """``(per chunk, per replicate)`` bytes of a summary-mode chunk of a sparse model, else ``None``."""
    if any(st.needs_nodes for st in stages):
        return None
    sparse = model.sparse_memory(network, max_steps)
    if sparse is None:
        return None
    per_chunk, per_rep = sparse
    return int(per_chunk + sum(st.memory_per_replicate(network) for st in stages)), int(per_rep)


def default_chunk_size(per_replicate: int, runs: int, budget_bytes: float = 256e6, workers: int = 1,
                       cap: int | None = None) -> int:
    """Replicates per chunk so that one chunk's working state stays within ``budget_bytes``.

    With ``workers`` > 1 (chunks running at the same time) there is at least one
    chunk per worker; ``cap`` bounds the size (sparse models: large enough that
    a chunk's scratch of size ``n`` is shared by many replicates, small enough
    that progress is reported along the way).
    """
    size = min(runs, int(budget_bytes // max(per_replicate, 1)))
    if cap is not None:
        size = min(size, int(cap))
    if workers > 1:
        size = min(size, -(-runs // int(workers)))
    return int(max(1, size))


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


def _reduction_bytes(network: Network, runs: int, declared: Declarations, max_steps: int | None,
                     progressive: bool = False) -> int:
    """Per-node totals and per-replicate results of a merged run."""
    n = network.n
    per_node = 16 + sum(8 * o.K for o in declared.of_kind("node_category")) + \
        16 * len(declared.of_kind("node_value"))
    steps = (max_steps if max_steps is not None else 64) + 1
    if progressive:
        steps = min(steps, n + 2)
    per_run = 8 * steps * (1 + sum(max(o.K, 1) for o in declared.of_kind("series"))) + \
        8 * sum(max(o.K, 1) for o in declared.of_kind("run_value", "run_category")) + 16
    return per_node * n + per_run * runs


def expected_memory(
    network: Network, model: Model, runs: int, chunk_size: int, workers: int = 1,
    max_steps: int | None = None, kept: int | None = None, stages: Sequence[Stage] = (),
) -> int:
    """Estimated peak bytes of a :func:`simulate` call.

    The working state of ``workers`` chunks at once, the per-node results of
    the ``kept`` replicates (all, by default) held twice at the end (in the
    chunks and in the merged arrays), and the reductions (per-node totals,
    per-replicate curves and outputs). With ``kept`` given (summary mode) and
    a model that keeps sparse state (:meth:`Model.sparse_memory`), a chunk
    holds its scratch once plus per-replicate scalars, and the kept replicates
    run in dense chunks of their own.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.engine import expected_memory
    >>> net = diffusion.generators.complete_graph(100)
    >>> full = expected_memory(net, diffusion.LinearThreshold(0.5), runs=1000, chunk_size=10)
    >>> lean = expected_memory(net, diffusion.LinearThreshold(0.5), runs=1000, chunk_size=10, kept=0)
    >>> full > lean
    True
    """
    result_bytes, _ = model.memory_per_replicate(network, max_steps)
    per_rep = _working_bytes(network, model, max_steps, stages)
    w = max(int(workers), 1)
    active = min(chunk_size, runs) * w
    k = runs if kept is None else int(kept)
    sparse = None if kept is None else _sparse_footprint(network, model, max_steps, stages)
    if sparse is None:
        working = active * per_rep
    else:
        dense = min(k, default_chunk_size(per_rep, runs, workers=w))
        working = w * sparse[0] + active * sparse[1] + dense * per_rep
    declared = model.declare()
    reductions = _reduction_bytes(network, runs, declared, max_steps, model.progressive)
    return int(2 * k * result_bytes + working + reductions * (1 + w))


def _check_memory(network: Network, model: Model, runs: int, size: int, workers: int, max_steps: int | None,
                  kept_ids: np.ndarray | None, stages: Sequence[Stage], declared: Declarations) -> None:
    avail = available_memory()
    if avail is None:
        return
    kept = runs if kept_ids is None else len(kept_ids)
    need = expected_memory(network, model, runs, size, workers, max_steps, kept, stages)
    if need <= avail:
        return
    lean = expected_memory(network, model, runs, 1, workers, max_steps, 0 if kept_ids is None else kept, stages)
    what = f"{runs} replicates of {network.n:,} nodes"
    if kept_ids is None and lean <= avail:
        raise DiffusionError(
            f"keeping every replicate's per-node results needs about {need / 1e9:.1f} GB ({what}) but only "
            f"{avail / 1e9:.1f} GB of memory are available; pass keep='summary' to simulate (per-node "
            f"probabilities and per-replicate curves, about {lean / 1e9:.2f} GB), or keep=[...] for a few replicates"
        )
    raise DiffusionError(
        f"this run needs about {need / 1e9:.1f} GB ({what}) but only {avail / 1e9:.1f} GB of memory are "
        "available; use fewer runs or a smaller chunk_size, or split the runs (e.g. a [sweep] over "
        "scenario.runs-sized batches, or a Dask cluster)"
    )

