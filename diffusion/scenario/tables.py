"""The registry of optional scenario tables (``[sweep]``, ``[shock]``, ``[frontier]``, ...).

``[scenario]``, ``[network]`` and ``[cascade]`` are built in
(:mod:`diffusion.scenario.config`); any other top-level table of a scenario
file must be registered here with :func:`register_table`, which names how it is
parsed, written back, checked against the built network, run after the cascade
and described in the printed summary. The package registers its own tables
when :mod:`diffusion` is imported; this module imports nothing from the rest
of the scenario layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..engine import Stage
    from ..network import Network
    from .config import ParseContext, Scenario
    from .runner import ScenarioResult

__all__ = ["CORE_TABLES", "TABLES", "TableHandler", "register_table"]

#: The built-in top-level tables, in the order they are parsed.
CORE_TABLES = ("scenario", "network", "cascade")


@dataclass(frozen=True)
class TableHandler:
    """How an optional top-level table is parsed, written back, checked, run and described.

    Attributes
    ----------
    parse : callable
        ``parse(table, ctx) -> spec``; raise ``ctx.error("<table>.<key>", ...)``
        (or a :class:`~diffusion.errors.ParameterError` inside ``ctx.reraise``).
        A table is best checked by constructing the object it describes.
    dump : callable, optional
        ``dump(spec) -> dict``, the TOML table; default ``spec.to_dict()``.
    check : callable, optional
        ``check(scenario, network)``: what can only be checked once the network is
        built (node attributes, node ids, names the cascade model defines). Run by
        :func:`~diffusion.scenario.check_scenario` (``diffusion validate --build``)
        and by :func:`~diffusion.scenario.run_scenario` before the first simulation.
    chunk_stage : callable, optional
        ``chunk_stage(scenario) -> Stage``: work that runs inside every chunk of
        the cascade ensemble, right after the cascade and before the reductions
        (see :class:`diffusion.Stage`), so it never needs every replicate's
        per-node state at once; its declared outputs become ``runs.csv`` and
        ``nodes.csv`` columns like the model's. Seed it from the table's own
        stream, ``scenario.seed_sequence(name)``.
    stage : callable, optional
        ``stage(scenario, result, seed_sequence)`` run after the whole ensemble
        when the table is present; it may add keys to ``result.summary``, columns
        to ``result.runs`` / ``result.curve`` and entries to ``result.extras``.
        ``seed_sequence`` is the table's own stream, derived from its name (see
        :func:`~diffusion.scenario.stream_key`).
    describe : callable, optional
        ``describe(summary) -> list[str]``: lines ``diffusion run`` prints about the
        table's part of the summary.
    array : bool
        The table is an array of tables (``[[name]]`` in TOML): ``parse`` receives
        the list of tables (report errors at ``name[i].<key>``) and ``dump``
        returns a list.
    """

    parse: Callable[[Mapping[str, Any], ParseContext], Any]
    dump: Callable[[Any], dict[str, Any]] | None = None
    stage: Callable[[Scenario, ScenarioResult, np.random.SeedSequence], None] | None = None
    check: Callable[[Scenario, Network], None] | None = None
    describe: Callable[[Mapping[str, Any]], list[str]] | None = None
    chunk_stage: Callable[[Scenario], Stage] | None = None
    array: bool = False


#: Optional top-level tables by name, in the order their stages run.
TABLES: dict[str, TableHandler] = {}


def register_table(name: str, parse: Callable[[Mapping[str, Any], ParseContext], Any] | TableHandler, *,
                   dump: Callable[[Any], dict[str, Any]] | None = None,
                   stage: Callable[..., None] | None = None,
                   check: Callable[..., None] | None = None,
                   describe: Callable[[Mapping[str, Any]], list[str]] | None = None,
                   chunk_stage: Callable[..., Any] | None = None) -> None:
    """Allow an optional top-level table ``[name]`` in scenario files.

    Parameters
    ----------
    name : str
        Table name, e.g. ``"shock"``.
    parse : callable or TableHandler
        The parser, or a whole :class:`TableHandler` (then give no other argument).
    dump, stage, check, describe, chunk_stage : callable, optional
        See :class:`TableHandler`.

    Examples
    --------
    >>> from diffusion.scenario import TABLES, register_table, parse_scenario
    >>> register_table("note", lambda table, ctx: dict(table))
    >>> sc = parse_scenario({"scenario": {"name": "x", "seed": 0},
    ...                      "network": {"generator": "complete", "n": 3},
    ...                      "cascade": {"model": "linear_threshold", "initial": {"count": 1}},
    ...                      "note": {"text": "hello"}})
    >>> sc.table("note")
    {'text': 'hello'}
    >>> del TABLES["note"]
    """
    if name in CORE_TABLES:
        raise ValueError(f"[{name}] is a built-in table")
    if isinstance(parse, TableHandler):
        if any(f is not None for f in (dump, stage, check, describe, chunk_stage)):
            raise TypeError("give either a TableHandler or its parts, not both")
        TABLES[name] = parse
    else:
        TABLES[name] = TableHandler(parse, dump, stage, check, describe, chunk_stage)
