"""Scenario files: a TOML file parsed once into typed objects, and run.

A scenario names a network, a cascade model and how many replicates to run::

    [scenario]
    name = "watts_window"
    seed = 2002
    runs = 200

    [network]
    generator = "erdos_renyi"
    n = 10000
    mean_degree = 4.0

    [cascade]
    model = "linear_threshold"
    threshold = 0.18

    [cascade.initial]
    count = 1

Three layers, each importing only the ones below it:

- :mod:`~diffusion.scenario.tables` — the registry of optional top-level tables
  (:func:`register_table`, :data:`TABLES`): how each is parsed, written back,
  checked against the network, run after the cascade and described;
- :mod:`~diffusion.scenario.config` — :func:`load_scenario` and
  :func:`parse_scenario` validate a file into a :class:`Scenario` (a frozen tree
  of dataclasses) with the shared checks of :mod:`diffusion.validation`; every
  problem is a :class:`~diffusion.errors.ScenarioError` naming the file and the
  dotted key;
- :mod:`~diffusion.scenario.runner` — :func:`run_scenario` builds the network,
  runs the ensemble with :func:`diffusion.simulate` and the registered stages,
  and returns a :class:`ScenarioResult`; :func:`check_scenario` does everything
  but the simulation.

The package's own optional tables (``[sweep]`` from :mod:`diffusion.sweep`,
``[shock]`` and ``[frontier]`` from :mod:`diffusion.shocks.tables`) are
registered by :mod:`diffusion` when it is imported.

Examples
--------
>>> import diffusion
>>> sc = diffusion.parse_scenario({
...     "scenario": {"name": "demo", "seed": 1, "runs": 20},
...     "network": {"generator": "erdos_renyi", "n": 500, "mean_degree": 4.0},
...     "cascade": {"model": "linear_threshold", "threshold": 0.18, "initial": {"count": 1}},
... })
>>> res = diffusion.run_scenario(sc)
>>> sorted(res.summary["cascade"]["final_fraction"])
['max', 'mean', 'min', 'q05', 'q50', 'q95', 'std']
>>> len(res.runs), sc.replace(runs=5).runs
(20, 5)
"""

from __future__ import annotations

from .config import (
    FILE_GENERATOR,
    STREAMS,
    CascadeSpec,
    NetworkSpec,
    ParseContext,
    Scenario,
    as_scenario_error,
    load_scenario,
    parse_scenario,
    scenario_errors,
    stream_key,
)
from .runner import (
    ScenarioResult,
    build_network,
    check_resources,
    check_scenario,
    run_scenario,
    summarize_scenario,
)
from .tables import CORE_TABLES, TABLES, TableHandler, register_table

__all__ = [
    "CORE_TABLES",
    "FILE_GENERATOR",
    "STREAMS",
    "TABLES",
    "CascadeSpec",
    "NetworkSpec",
    "ParseContext",
    "Scenario",
    "ScenarioResult",
    "TableHandler",
    "as_scenario_error",
    "build_network",
    "check_resources",
    "check_scenario",
    "load_scenario",
    "parse_scenario",
    "register_table",
    "run_scenario",
    "scenario_errors",
    "stream_key",
    "summarize_scenario",
]
