"""Running a scenario: build the network, check it, run the cascade and the table stages.

:func:`run_scenario` builds the network (:func:`build_network`), runs the
ensemble with :func:`diffusion.simulate` and then the stages of the optional
tables present in the scenario, and returns a :class:`ScenarioResult` whose
:meth:`~ScenarioResult.write` produces ``summary.json``, ``runs.csv``,
``curve.csv`` and the resolved ``scenario.toml``. :func:`check_scenario` does
everything but the simulation. Every input problem is a
:class:`~diffusion.errors.ScenarioError` naming the file and the dotted key,
raised before the first simulation.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..engine import SimulationResult, Stage, available_memory, simulate
from ..errors import DiffusionError, ScenarioError
from ..generators import GraphSize, check_generator
from ..network import Network
from ..outputs import write_csv, write_json, write_text
from ..reductions import ChunkSummary
from .config import FILE_GENERATOR, Scenario, scenario_errors
from .tables import TABLES

__all__ = [
    "ScenarioResult",
    "build_network",
    "check_resources",
    "check_scenario",
    "chunk_stages",
    "run_scenario",
    "summarize_scenario",
]


def _str(path: Path | None) -> str | None:
    return str(path) if path else None


@dataclass
class ScenarioResult:
    """What :func:`run_scenario` produced.

    Stages registered with :func:`register_table` add keys to :attr:`summary`,
    columns to :attr:`runs` / :attr:`curve`, and objects to :attr:`extras`.

    Attributes
    ----------
    scenario : Scenario
        The scenario that was run (overrides applied).
    network : Network
        The network it ran on.
    simulation : SimulationResult
        The cascade ensemble (per-node adoption steps, curves, outputs).
    summary : dict
        JSON-ready summary; written as ``summary.json``.
    runs : list of dict
        One flat record per replicate; written as ``runs.csv``.
    curve : list of dict
        One flat record per step; written as ``curve.csv``.
    extras : dict
        Further results of later stages, by name.
    """

    scenario: Scenario
    network: Network
    simulation: SimulationResult
    summary: dict[str, Any]
    runs: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    extras: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``summary.json``, ``runs.csv``, ``curve.csv``, ``nodes.csv`` and ``scenario.toml`` atomically.

        ``nodes.csv`` has one row per firm: ``id``, ``adoption_probability``,
        ``mean_adoption_step``, the frequency of every category of every
        categorical per-node output the model declares (``platform_A``, ...,
        ``cause_mimetic``, ...) and the means of its numeric ones (with a
        ``[shock]``: ``failure_probability``, ``mean_distress``,
        ``expected_loss``, ``mean_failed_round``).

        Each file is written to a temporary file and renamed into place
        (:mod:`diffusion.outputs`); ``summary.json`` comes last, so once it is new
        the others are too. The directory is created if needed. Returns the
        written paths by file name.
        """
        out = Path(out_dir)
        files = {
            "scenario.toml": write_text(out / "scenario.toml", self.scenario.to_toml()),
            "runs.csv": write_csv(out / "runs.csv", self.runs),
            "curve.csv": write_csv(out / "curve.csv", self.curve),
            "nodes.csv": write_csv(out / "nodes.csv", self.simulation.node_records()),
            "summary.json": write_json(out / "summary.json", self.summary),
        }
        return {name: files[name] for name in ("summary.json", "runs.csv", "curve.csv", "nodes.csv",
                                               "scenario.toml")}

    def describe(self) -> list[str]:
        """A few human-readable lines summarizing the run (what ``diffusion run`` prints).

        The headline depends on what the model produces: for a model with
        platform shares (an output with the role ``"shares"``) the model's own
        lines (shares, concentration, lock-in, winners) come first and adoption
        is one line (the share of firms on a platform); for any other model the
        final share adopted, how far replicates spread (when they end far
        apart, the shares ending below 10 % and at 50 % or more) and how often
        and how fast 10%, 50% and 90% of firms were reached. Then the lines of
        the model's :meth:`~diffusion.Model.describe` hook and of the
        ``describe`` hook of every table the scenario has (the ``[shock]``
        table describes total and systemic losses). A hook that cannot read its
        part of the summary (say, a summary edited by hand) adds nothing.
        Every number says what it is.
        """
        s = self.summary
        net, casc = s["network"], s["cascade"]
        ff, steps = casc["final_fraction"], casc["steps"]
        runs = s["runs"]
        decl = getattr(self.simulation, "declarations", None)
        platforms = decl is not None and decl.role("shares") is not None
        lines = [
            f"{s['scenario']}: {runs} run{'s' if runs != 1 else ''} of {casc['model']} on "
            f"{net['nodes']:,} nodes, {net['edges']:,} edges (seed {s['seed']})",
        ]
        band = f"[5-95% of runs: {ff['q05']:.1%}, {ff['q95']:.1%}]" if runs > 1 else ""

        def hook_lines(hooks: list[Any]) -> list[str]:
            out: list[str] = []
            for hook in hooks:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    out.extend(hook(s))
            return out

        model_lines = hook_lines([self.scenario.cascade.model_class.describe])
        table_lines = hook_lines([h.describe for name, h in TABLES.items()
                                  if h.describe is not None and name in self.scenario.tables])
        if platforms:
            lines += model_lines
            lines.append(f"firms on a platform at the end: mean {ff['mean']:.1%} {band}".rstrip())
            lines.append(f"steps until no firm changed: mean {steps['mean']:.1f}, max {steps['max']}")
            return lines + table_lines
        lines.append(f"final share adopted: mean {ff['mean']:.1%}, median {ff['q50']:.1%} {band}".rstrip())
        final = np.asarray(getattr(self.simulation, "final_fraction", []), dtype=np.float64)
        if len(final) >= 5:
            q05, q95 = np.quantile(final, [0.05, 0.95])
            if q95 - q05 >= 0.05:
                low, high = float(np.mean(final < 0.1)), float(np.mean(final >= 0.5))
                near = float(np.mean(np.abs(final - final.mean()) <= 0.05))
                lines.append(f"replicates spread: {low:.0%} end below 10%, {high:.0%} at 50% or more; "
                             f"{near:.0%} within 5 points of the mean (figures/final_sizes.png)")
        lines.append(f"steps until nothing changed: mean {steps['mean']:.1f}, max {steps['max']}")
        reach = []
        for lvl, v in casc.get("time_to", {}).items():
            text = f"{lvl} of firms in {v['reached']:.0%} of runs"
            if v["mean"] is not None:
                text += f" (at step {v['mean']:.1f} on average among them)"
            reach.append(text)
        if reach:
            lines.append("reached " + "; ".join(reach))
        return lines + model_lines + table_lines


    def _repr_html_(self) -> str:  # notebooks
        from .._repr import html_block

        return html_block(f"ScenarioResult: {self.scenario.name}", lines=self.describe())


def _size(nbytes: float) -> str:
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{nbytes / 1e9:.2f} GB"


def check_resources(scenario: Scenario) -> GraphSize | None:
    """Check that the scenario's network can be built in the memory available, without building it.

    The size of the graph (nodes, expected edges) and the memory building it takes
    are estimated from the generator and its parameters
    (:func:`diffusion.generators.check_generator`); a graph file or a generator
    added by other code is not estimated (``None``).

    Raises
    ------
    ScenarioError
        At ``network``, with the figures, when the estimate exceeds the memory
        available (:func:`diffusion.engine.available_memory`).
    """
    spec = scenario.network
    if spec.generator == FILE_GENERATOR:
        return None
    with scenario_errors(scenario.path, "network"):
        size = check_generator(spec.generator, **spec.params)
    avail = available_memory()
    if size is not None and avail is not None and size.memory > avail:
        raise ScenarioError(
            f"building this network needs about {_size(size.memory)} of memory ({size.nodes:,} nodes, about "
            f"{size.edges:,.0f} edges) but only {_size(avail)} are available; use a smaller n or mean degree",
            path=_str(scenario.path), key="network")
    return size


def build_network(scenario: Scenario) -> Network:
    """Build (or read) the scenario's network from its ``network`` stream.

    Its memory is estimated first (:func:`check_resources`): a network that
    cannot fit is refused before anything is allocated.

    Raises
    ------
    ScenarioError
        Invalid generator parameters, a network too large for the memory available,
        an unreadable graph file, an empty graph.
    """
    check_resources(scenario)
    spec = scenario.network
    # errors without a parameter name come from reading the graph file (or the generator as a whole)
    key = "network.path" if spec.generator == FILE_GENERATOR else "network"
    try:
        with scenario_errors(scenario.path, "network", key):
            net = spec.build(scenario.seed_sequence("network"))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DiffusionError):
            raise
        raise ScenarioError(f"invalid parameters for generator {spec.generator!r}: {exc}",
                            path=_str(scenario.path), key="network") from exc
    if net.n == 0:
        raise ScenarioError("the network is empty (no nodes)", path=_str(scenario.path), key="network")
    return net


def _check_initial(scenario: Scenario, network: Network) -> None:
    init, where = scenario.cascade.initial, _str(scenario.path)
    if init.kind == "nodes":
        try:
            network.index_of(list(init.value))
        except DiffusionError as exc:
            raise ScenarioError(str(exc), path=where, key="cascade.initial.nodes") from exc
    elif init.kind == "top" and init.by not in ("degree", "in_degree", "out_degree"):
        try:
            col = network.attribute(init.by)
        except DiffusionError as exc:
            raise ScenarioError(str(exc), path=where, key="cascade.initial.by") from exc
        if not np.issubdtype(col.dtype, np.number):
            raise ScenarioError(f"node attribute {init.by!r} is not numeric", path=where,
                                key="cascade.initial.by")
    if init.kind != "nodes" and init.count_for(network.n) > network.n:
        raise ScenarioError(f"asks for {init.count_for(network.n)} initial adopters but the network has "
                            f"{network.n} nodes", path=where, key=f"cascade.initial.{init.kind}")


def _check_tables(scenario: Scenario, network: Network) -> None:
    for name, handler in TABLES.items():
        if handler.check is not None and name in scenario.tables:
            with scenario_errors(scenario.path, name):
                handler.check(scenario, network)


def check_scenario(scenario: Scenario, network: Network | None = None) -> Network:
    """Build the network and check the cascade and the tables against it, without simulating.

    Catches what parsing alone cannot: unreadable graph files, an empty graph,
    initial node ids that are not in the graph, node attributes the model or
    ``initial.by`` refer to, and what each table checks against the network
    (e.g. ``shock.platform``, ``shock.nodes``, the attributes of ``shock.capacity``).
    Returns the network. Given ``network`` (the scenario's, already built by
    :func:`build_network`), checks against it instead of building it again.
    """
    if network is None:
        network = build_network(scenario)
    _check_initial(scenario, network)
    with scenario_errors(scenario.path, "cascade"):
        scenario.cascade.build().prepare(network)
    _check_tables(scenario, network)
    return network


def summarize_scenario(scenario: Scenario, network: Network, sim: SimulationResult) -> dict[str, Any]:
    """The JSON-ready summary of a scenario's cascade ensemble (``summary.json`` before the stages)."""
    cascade = sim.summary()
    cascade["initial"] = {k: list(v) if isinstance(v, tuple) else v
                          for k, v in scenario.cascade.initial.to_dict().items()}
    out: dict[str, Any] = {"scenario": scenario.name}
    if scenario.description:
        out["description"] = scenario.description
    out.update({
        "seed": scenario.seed,
        "runs": scenario.runs,
        "max_steps": scenario.max_steps,
        "version": __version__,
        "network": {
            "generator": scenario.network.generator,
            "nodes": int(network.n),
            "edges": int(network.number_of_edges),
            "directed": bool(network.directed),
            "mean_degree": float(network.mean_degree),
        },
        "cascade": cascade,
    })
    return out


def chunk_stages(scenario: Scenario) -> list[Stage]:
    """The stages the scenario's tables run inside every chunk (e.g. ``[shock]``), in table order."""
    stages = []
    for name, handler in TABLES.items():
        if handler.chunk_stage is not None and name in scenario.tables:
            with scenario_errors(scenario.path, name):
                stages.append(handler.chunk_stage(scenario))
    return stages


def _model_for(scenario: Scenario, keep: str | Sequence[int]) -> Any:
    """The scenario's model; with replicates named in ``keep``, recording per-node histories if it can.

    A model whose constructor takes ``record_history`` (the platform model)
    then declares a per-step node series (role ``"holding_history"``), which
    the engine keeps only for the named replicates: the one an HTML page
    replays, never every replicate of a large run.
    """
    if isinstance(keep, str) or not len(list(keep)) or "record_history" in scenario.cascade.params:
        return scenario.cascade.build()
    cls = scenario.cascade.model_class
    if "record_history" not in inspect.signature(cls.__init__).parameters:
        return scenario.cascade.build()
    return cls(**copy.deepcopy(dict(scenario.cascade.params)), record_history=True)


def run_scenario(
    scenario: Scenario,
    *,
    keep: str | Sequence[int] = "replicates",
    progress: Callable[[int], None] | bool | None = None,
    map_chunks: Callable[..., Iterable[ChunkSummary]] | None = None,
    chunk_size: int | None = None,
) -> ScenarioResult:
    """Build the network, run the cascade ensemble and the registered stages.

    Stages that run inside every chunk (``[shock]``: the shock and its
    propagation) run there, after the cascade and before the reductions; the
    others run once the ensemble is merged.

    Parameters
    ----------
    scenario : Scenario
        From :func:`load_scenario` (apply overrides with :meth:`Scenario.replace`).
    keep : {"replicates", "summary"} or sequence of int, default "replicates"
        What is kept of every replicate's per-node state (see :func:`diffusion.simulate`).
        The command line uses ``"summary"`` (and the one replicate ``--html`` draws):
        ``runs.csv``, ``curve.csv``, ``nodes.csv`` and ``summary.json`` need no more.
    progress : callable or bool, optional
        Called with the number of replicates just finished (see :func:`diffusion.simulate`).
    map_chunks : callable, optional
        Executor hook, passed to :func:`diffusion.simulate`.
    chunk_size : int, optional
        Replicates per batch (results do not depend on it; smaller batches let a
        progress bar move).

    Returns
    -------
    ScenarioResult

    Raises
    ------
    ScenarioError
        For any invalid input, naming the file and key.
    """
    network = build_network(scenario)
    _check_initial(scenario, network)
    _check_tables(scenario, network)
    stages = chunk_stages(scenario)
    with scenario_errors(scenario.path, "cascade"):
        sim = simulate(
            network,
            _model_for(scenario, keep),
            initial=scenario.cascade.initial,
            runs=scenario.runs,
            seed=scenario.seed_sequence("cascade"),
            max_steps=scenario.max_steps,
            keep=keep,
            stages=stages,
            chunk_size=chunk_size,
            map_chunks=map_chunks,
            progress=progress,
        )
    result = ScenarioResult(scenario, network, sim, summarize_scenario(scenario, network, sim),
                            sim.to_records(), sim.curve_records())
    for name, handler in TABLES.items():
        if handler.stage is not None and name in scenario.tables:
            with scenario_errors(scenario.path, name):
                handler.stage(scenario, result, scenario.seed_sequence(name))
    return result

