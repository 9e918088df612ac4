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

:func:`load_scenario` reads and validates a file into a :class:`Scenario` (a
frozen tree of dataclasses); :func:`run_scenario` builds the network, runs the
ensemble with :func:`diffusion.simulate` and returns a :class:`ScenarioResult`
whose :meth:`~ScenarioResult.write` produces ``summary.json``, ``runs.csv``,
``curve.csv`` and the resolved ``scenario.toml``. Every problem with a file is
a :class:`~diffusion.errors.ScenarioError` naming the file and the dotted key.

Seeding
-------
The scenario ``seed`` is the root of a :class:`numpy.random.SeedSequence`
whose spawned children are independent streams, one per stage (see
:data:`STREAMS`): child 0 builds the graph, child 1 drives the cascade
replicates (replicate ``r`` draws from *its* child ``r``, see
:mod:`diffusion._random`), child 2 is reserved for the shock stage. Changing
``runs`` therefore leaves the graph and the first replicates unchanged.

Extending
---------
Each top-level table has one small parser. ``[scenario]``, ``[network]`` and
``[cascade]`` are built in; further tables (``[shock]``, ``[sweep]``,
``[output]``) plug in with :func:`register_table`, which names the parser, how
to write the table back to TOML and, optionally, a *stage* that runs after the
cascade and adds keys to the summary and columns to the records. Any other
top-level table is an error.

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

import contextlib
import copy
import dataclasses
import inspect
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .engine import ChunkResult, Model, SimulationResult, simulate
from .errors import DiffusionError, ParameterError, ScenarioError
from .initial import Initial, parse_initial
from .network import Network
from .outputs import write_csv, write_json, write_text

__all__ = [
    "STREAMS",
    "CascadeSpec",
    "NetworkSpec",
    "ParseContext",
    "Scenario",
    "ScenarioResult",
    "TableHandler",
    "check_scenario",
    "load_scenario",
    "parse_scenario",
    "register_table",
    "run_scenario",
]

#: Independent random streams spawned from ``SeedSequence(scenario.seed)``:
#: stream name -> child index. Append new stages; never renumber (that would
#: change the results of existing scenario files).
STREAMS: dict[str, int] = {"network": 0, "cascade": 1, "shock": 2}

_NAME_RE = re.compile(r"^[\w][\w.-]*$")
_FILE_GENERATOR = "file"


# ----------------------------------------------------------------- parsing context
@dataclass(frozen=True)
class ParseContext:
    """What a table parser needs to know besides its table.

    Attributes
    ----------
    path : Path or None
        The scenario file (``None`` for a mapping built in code).
    base_dir : Path
        Directory that relative paths in the file are resolved against.
    tables : Mapping
        The tables parsed so far (``"scenario"``, ``"network"``, ``"cascade"``, ...),
        so a later table can check itself against earlier ones.
    """

    path: Path | None
    base_dir: Path
    tables: Mapping[str, Any] = field(default_factory=dict)

    def error(self, key: str | None, message: str) -> ScenarioError:
        """A :class:`ScenarioError` for dotted ``key`` of this file."""
        return ScenarioError(message, path=str(self.path) if self.path else None, key=key)

    def reraise(self, table: str) -> contextlib.AbstractContextManager[None]:
        """Turn library errors raised inside the block into errors naming ``table.<parameter>``."""
        return _reraise(self.path, table)


@contextlib.contextmanager
def _reraise(path: Path | None, table: str, key: str | None = None) -> Iterator[None]:
    try:
        yield
    except ScenarioError:
        raise
    except DiffusionError as exc:
        raise _convert(exc, path, table, key) from exc


def _convert(exc: DiffusionError, path: Path | str | None, table: str, key: str | None = None
             ) -> ScenarioError:
    """A :class:`ScenarioError` for ``exc`` raised while handling ``[table]``.

    A :class:`ParameterError` is reported at ``table.<its name>``; any other error
    at ``key`` (default: the table).
    """
    where = str(path) if path else None
    if isinstance(exc, ParameterError):
        name = exc.name
        if name in ("runs", "max_steps", "seed"):
            key = f"scenario.{name}"
        elif table == "cascade" and name.startswith("initial"):
            key = f"cascade.{name}"
        else:
            key = f"{table}.{name}"
        return ScenarioError(exc.reason, path=where, key=key)
    return ScenarioError(str(exc), path=where, key=key or table)


# ----------------------------------------------------------------- value checks
def _type_name(ann: Any) -> str:
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace("typing.", "").replace("collections.abc.", "")


def _accepts(value: Any, ann: Any) -> bool:
    """Whether a TOML ``value`` fits the annotation ``ann`` (unknown annotations accept)."""
    if ann is inspect.Parameter.empty or ann is Any:
        return True
    origin = typing.get_origin(ann)
    if origin is typing.Union or origin is types.UnionType:
        return any(_accepts(value, a) for a in typing.get_args(ann))
    if origin is typing.Literal:
        return value in typing.get_args(ann)
    if ann is None or ann is type(None):
        return value is None
    if ann is bool:
        return isinstance(value, bool)
    if ann is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if ann is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if ann is str:
        return isinstance(value, str)
    base = origin or ann
    if base in (list, tuple, Sequence):
        return isinstance(value, list)
    if base in (dict, Mapping):
        return isinstance(value, dict)
    return True


@dataclass(frozen=True)
class _Signature:
    names: tuple[str, ...]
    required: tuple[str, ...]
    annotations: Mapping[str, Any]
    var_keyword: bool


def _signature(fn: Callable[..., Any], skip: Iterable[str] = ()) -> _Signature:
    try:
        sig = inspect.signature(fn, eval_str=True)
    except Exception:  # unresolvable annotations: check names only
        sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.name not in set(skip) | {"self"}]
    kw_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = [p for p in params if p.kind in kw_kinds]
    return _Signature(
        names=tuple(p.name for p in named),
        required=tuple(p.name for p in named if p.default is inspect.Parameter.empty),
        annotations={p.name: p.annotation for p in named
                     if not isinstance(p.annotation, str)},
        var_keyword=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params),
    )


def _check_kwargs(ctx: ParseContext, table: str, what: str, params: Mapping[str, Any],
                  sig: _Signature) -> None:
    """Unknown, missing and ill-typed keyword arguments, reported as ``table.key``."""
    if not sig.var_keyword:
        for key in params:
            if key not in sig.names:
                known = ", ".join(sig.names) or "none"
                raise ctx.error(f"{table}.{key}", f"unknown key for {what} (it takes: {known})")
    for key in sig.required:
        if key not in params:
            raise ctx.error(f"{table}.{key}", f"missing; required by {what}")
    for key, value in params.items():
        ann = sig.annotations.get(key, inspect.Parameter.empty)
        if not _accepts(value, ann):
            raise ctx.error(f"{table}.{key}",
                            f"must be {_type_name(ann)}, got {type(value).__name__} {value!r}")


def _table(ctx: ParseContext, data: Mapping[str, Any], name: str, *, required: bool = True
           ) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        if required:
            raise ctx.error(name, "missing table")
        return None
    if not isinstance(value, Mapping):
        raise ctx.error(name, f"must be a table, got {type(value).__name__}")
    return dict(value)


def _get_int(ctx: ParseContext, table: Mapping[str, Any], key: str, dotted: str, *,
             low: int = 0, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ctx.error(dotted, "missing")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ctx.error(dotted, f"must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ctx.error(dotted, f"must be >= {low}, got {value}")
    return int(value)


def _get_str(ctx: ParseContext, table: Mapping[str, Any], key: str, dotted: str, *,
             default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ctx.error(dotted, "missing")
        return default
    value = table[key]
    if not isinstance(value, str):
        raise ctx.error(dotted, f"must be a string, got {type(value).__name__} {value!r}")
    return value


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(copy.deepcopy(dict(mapping)))


def _choices(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in sorted(names))


# ----------------------------------------------------------------- registries
def _generators() -> Mapping[str, Callable[..., Network]]:
    from . import generators

    return generators.GENERATORS


def _models() -> Mapping[str, type[Model]]:
    from .models import MODELS

    return MODELS


def _read_network() -> Callable[..., Network]:
    from .readwrite import read_network

    return read_network


# ----------------------------------------------------------------- [scenario]
_SCENARIO_KEYS = ("name", "seed", "runs", "max_steps", "description")


def _parse_settings(ctx: ParseContext, table: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(table) - set(_SCENARIO_KEYS))
    if unknown:
        raise ctx.error(f"scenario.{unknown[0]}", f"unknown key (valid: {', '.join(_SCENARIO_KEYS)})")
    name = _get_str(ctx, table, "name", "scenario.name")
    if not _NAME_RE.match(name):
        raise ctx.error("scenario.name", f"must be a plain name (letters, digits, '_', '-', '.'), got {name!r}")
    return {
        "name": name,
        "seed": _get_int(ctx, table, "seed", "scenario.seed"),
        "runs": _get_int(ctx, table, "runs", "scenario.runs", low=1, default=100),
        "max_steps": _get_int(ctx, table, "max_steps", "scenario.max_steps", default=None),
        "description": _get_str(ctx, table, "description", "scenario.description", default=""),
    }


# ----------------------------------------------------------------- [network]
@dataclass(frozen=True)
class NetworkSpec:
    """The ``[network]`` table: a generator and its parameters, or a graph file.

    Attributes
    ----------
    generator : str
        A key of :data:`diffusion.generators.GENERATORS`, or ``"file"``.
    params : Mapping
        Keyword arguments of the generator (or extra arguments of
        :func:`diffusion.readwrite.read_network` for ``"file"``).
    path, nodes : Path or None
        For ``"file"``: the graph file and the optional node table, absolute.
    """

    generator: str
    params: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None
    nodes: Path | None = None

    def build(self, seed: int | np.random.SeedSequence | None = None) -> Network:
        """Generate (or read) the network; ``seed`` seeds random generators."""
        kwargs = copy.deepcopy(dict(self.params))
        if self.generator == _FILE_GENERATOR:
            return _read_network()(self.path, nodes=self.nodes, **kwargs)
        fn = _generators()[self.generator]
        if "seed" in _signature(fn).names:
            kwargs["seed"] = seed
        return fn(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The TOML table (paths absolute)."""
        out: dict[str, Any] = {"generator": self.generator}
        if self.path is not None:
            out["path"] = str(self.path)
        if self.nodes is not None:
            out["nodes"] = str(self.nodes)
        out.update(copy.deepcopy(dict(self.params)))
        return out


def _resolve_file(ctx: ParseContext, table: Mapping[str, Any], key: str) -> Path:
    raw = _get_str(ctx, table, key, f"network.{key}")
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = ctx.base_dir / p
    p = Path(os.path.abspath(p))  # absolute, so a written-back scenario works from anywhere
    if not p.is_file():
        what = "is not a file" if p.exists() else "no such file"
        raise ctx.error(f"network.{key}", f"{what}: {raw}")
    return p


def _parse_network(ctx: ParseContext, table: Mapping[str, Any]) -> NetworkSpec:
    gen = _get_str(ctx, table, "generator", "network.generator")
    params = {k: v for k, v in table.items() if k != "generator"}
    if "seed" in params:
        raise ctx.error("network.seed", "not allowed here: the graph is seeded from scenario.seed")
    if gen == _FILE_GENERATOR:
        path = _resolve_file(ctx, table, "path")
        nodes = _resolve_file(ctx, table, "nodes") if "nodes" in table else None
        extra = {k: v for k, v in params.items() if k not in ("path", "nodes")}
        _check_kwargs(ctx, "network", "generator 'file'", extra,
                      _signature(_read_network(), skip=("path", "nodes")))
        return NetworkSpec(gen, _frozen(extra), path, nodes)
    registry = _generators()
    if gen not in registry:
        raise ctx.error("network.generator",
                        f"unknown generator {gen!r}; choose one of {_choices([*registry, _FILE_GENERATOR])}")
    _check_kwargs(ctx, "network", f"generator {gen!r}", params, _signature(registry[gen], skip=("seed",)))
    return NetworkSpec(gen, _frozen(params))


# ----------------------------------------------------------------- [cascade]
@dataclass(frozen=True)
class CascadeSpec:
    """The ``[cascade]`` table: a model, its parameters and the initial adopters.

    Attributes
    ----------
    model : str
        A key of :data:`diffusion.models.MODELS`.
    params : Mapping
        Keyword arguments of the model class, exactly as in the file.
    initial : Initial
        The ``[cascade.initial]`` table (kind ``"none"`` when absent).
    """

    model: str
    params: Mapping[str, Any] = field(default_factory=dict)
    initial: Initial = field(default_factory=lambda: Initial("none"))

    def build(self) -> Model:
        """A fresh model instance."""
        return _models()[self.model](**copy.deepcopy(dict(self.params)))

    def to_dict(self) -> dict[str, Any]:
        """The TOML table, with ``initial`` as a sub-table."""
        out: dict[str, Any] = {"model": self.model, **copy.deepcopy(dict(self.params))}
        init = self.initial.to_dict()
        if init:
            out["initial"] = {k: list(v) if isinstance(v, tuple) else v for k, v in init.items()}
        return out


def _parse_cascade(ctx: ParseContext, table: Mapping[str, Any]) -> CascadeSpec:
    name = _get_str(ctx, table, "model", "cascade.model")
    registry = _models()
    if name not in registry:
        raise ctx.error("cascade.model", f"unknown model {name!r}; choose one of {_choices(registry)}")
    cls = registry[name]
    params = {k: v for k, v in table.items() if k not in ("model", "initial")}
    _check_kwargs(ctx, "cascade", f"model {name!r}", params, _signature(cls.__init__))
    with ctx.reraise("cascade"):
        initial = parse_initial(table.get("initial"))
    if initial.kind == "none" and cls.requires_initial:
        raise ctx.error("cascade.initial",
                        f"missing; model {name!r} needs initial adopters (count, fraction, nodes or top)")
    spec = CascadeSpec(name, _frozen(params), initial)
    with ctx.reraise("cascade"):
        try:
            spec.build()  # validates every parameter up front
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DiffusionError):
                raise
            raise ctx.error("cascade", f"invalid parameters for model {name!r}: {exc}") from exc
    return spec


# ----------------------------------------------------------------- registered tables
@dataclass(frozen=True)
class TableHandler:
    """How an optional top-level table is parsed, written back and run.

    Attributes
    ----------
    parse : callable
        ``parse(table, ctx) -> spec``; raise ``ctx.error("<table>.<key>", ...)``
        (or a :class:`~diffusion.errors.ParameterError` inside ``ctx.reraise``).
    dump : callable, optional
        ``dump(spec) -> dict``, the TOML table; default ``spec.to_dict()``.
    stage : callable, optional
        ``stage(scenario, result, seed_sequence)`` run after the cascade when the
        table is present; it may add keys to ``result.summary``, columns to
        ``result.runs`` / ``result.curve`` and entries to ``result.extras``.
        ``seed_sequence`` is the table's stream (see :data:`STREAMS`).
    """

    parse: Callable[[Mapping[str, Any], ParseContext], Any]
    dump: Callable[[Any], dict[str, Any]] | None = None
    stage: Callable[[Scenario, ScenarioResult, np.random.SeedSequence], None] | None = None


#: Optional top-level tables by name, in the order their stages run.
#: ``[shock]`` (shock propagation), ``[sweep]`` (parameter grids) and ``[output]``
#: (HTML, figures) register themselves here with :func:`register_table`.
TABLES: dict[str, TableHandler] = {}

_CORE_TABLES = ("scenario", "network", "cascade")


def register_table(name: str, parse: Callable[[Mapping[str, Any], ParseContext], Any], *,
                   dump: Callable[[Any], dict[str, Any]] | None = None,
                   stage: Callable[..., None] | None = None) -> None:
    """Allow an optional top-level table ``[name]`` in scenario files.

    Parameters
    ----------
    name : str
        Table name, e.g. ``"shock"``.
    parse, dump, stage : callable
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
    if name in _CORE_TABLES:
        raise ValueError(f"[{name}] is a built-in table")
    TABLES[name] = TableHandler(parse, dump, stage)
    if stage is not None and name not in STREAMS:
        STREAMS[name] = max(STREAMS.values()) + 1


# ----------------------------------------------------------------- Scenario
@dataclass(frozen=True)
class Scenario:
    """A validated scenario (immutable). Build with :func:`load_scenario` or :func:`parse_scenario`.

    Attributes
    ----------
    name : str
        ``scenario.name``; also the default output directory ``results/<name>/``.
    seed : int
        ``scenario.seed``, the root of every random stream (see :data:`STREAMS`).
    runs : int
        ``scenario.runs``, number of Monte-Carlo replicates.
    network : NetworkSpec
    cascade : CascadeSpec
    max_steps : int or None
        ``scenario.max_steps`` (``None``: the model's default, or until quiescent).
    description : str
    path : Path or None
        The file it was read from.
    tables : Mapping
        Parsed optional tables registered with :func:`register_table`, by name.
    """

    name: str
    seed: int
    runs: int
    network: NetworkSpec
    cascade: CascadeSpec
    max_steps: int | None = None
    description: str = ""
    path: Path | None = None
    tables: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))

    def replace(self, **changes: Any) -> Scenario:
        """A copy with ``runs``, ``seed``, ``max_steps``, ``name`` or ``description`` changed.

        ``None`` values are ignored, so command-line options can be passed as they come.
        """
        allowed = {"runs", "seed", "max_steps", "name", "description"}
        bad = sorted(set(changes) - allowed)
        if bad:
            raise TypeError(f"cannot replace {bad[0]!r}; use with_values() for table keys")
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        data = self.to_dict()
        data["scenario"].update(changes)
        return parse_scenario(data, path=self.path)

    def with_values(self, values: Mapping[str, Any]) -> Scenario:
        """A copy with dotted keys set, e.g. ``{"cascade.threshold": 0.2, "network.n": 500}``.

        The result is validated like a file; parameter sweeps use this.
        """
        data = self.to_dict()
        for dotted, value in values.items():
            *parents, last = dotted.split(".")
            node: Any = data
            for i, part in enumerate(parents):
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ScenarioError("is not a table", path=_str(self.path), key=".".join(parents[:i + 1]))
            node[last] = copy.deepcopy(value)
        return parse_scenario(data, path=self.path)

    def table(self, name: str) -> Any:
        """The parsed optional table ``name``, or ``None`` when the file has none."""
        return self.tables.get(name)

    def seed_sequence(self, stream: str) -> np.random.SeedSequence:
        """The independent :class:`~numpy.random.SeedSequence` of one stage (see :data:`STREAMS`)."""
        return np.random.SeedSequence(self.seed).spawn(max(STREAMS.values()) + 1)[STREAMS[stream]]

    def to_dict(self) -> dict[str, Any]:
        """The scenario as nested plain dicts (TOML-ready); :func:`parse_scenario` reads it back."""
        settings: dict[str, Any] = {"name": self.name}
        if self.description:
            settings["description"] = self.description
        settings.update(seed=self.seed, runs=self.runs)
        if self.max_steps is not None:
            settings["max_steps"] = self.max_steps
        out = {"scenario": settings, "network": self.network.to_dict(), "cascade": self.cascade.to_dict()}
        for name, spec in self.tables.items():
            handler = TABLES[name]
            out[name] = handler.dump(spec) if handler.dump else spec.to_dict()
        return out

    def to_toml(self) -> str:
        """The scenario as TOML text (paths absolute); loading it gives an equal scenario."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())


def _str(path: Path | None) -> str | None:
    return str(path) if path else None


def parse_scenario(data: Mapping[str, Any], path: str | os.PathLike[str] | None = None) -> Scenario:
    """Validate a scenario mapping (as read from TOML) into a :class:`Scenario`.

    Parameters
    ----------
    data : Mapping
        Top-level tables ``scenario``, ``network``, ``cascade`` and any registered ones.
    path : path-like, optional
        The file ``data`` came from: errors name it and relative paths resolve against its
        directory (the current directory otherwise).

    Raises
    ------
    ScenarioError
        Naming the file and the dotted key at fault.
    """
    p = Path(path) if path is not None else None
    ctx = ParseContext(p, p.parent if p is not None else Path.cwd())
    if not isinstance(data, Mapping):
        raise ctx.error(None, "a scenario must be a table of tables")
    unknown = [k for k in data if k not in _CORE_TABLES and k not in TABLES]
    if unknown:
        valid = ", ".join(f"[{t}]" for t in (*_CORE_TABLES, *TABLES))
        raise ctx.error(unknown[0], f"unknown table (valid: {valid})")
    parsed: dict[str, Any] = {}
    ctx = dataclasses.replace(ctx, tables=parsed)
    parsed["scenario"] = _parse_settings(ctx, _table(ctx, data, "scenario"))  # type: ignore[arg-type]
    parsed["network"] = _parse_network(ctx, _table(ctx, data, "network"))  # type: ignore[arg-type]
    parsed["cascade"] = _parse_cascade(ctx, _table(ctx, data, "cascade"))  # type: ignore[arg-type]
    extra: dict[str, Any] = {}
    for name, handler in TABLES.items():
        table = _table(ctx, data, name, required=False)
        if table is not None:
            with ctx.reraise(name):
                extra[name] = parsed[name] = handler.parse(table, ctx)
    return Scenario(network=parsed["network"], cascade=parsed["cascade"], path=p,
                    tables=types.MappingProxyType(extra), **parsed["scenario"])


_TOML_POS = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ScenarioError
        When the file is missing or unreadable, is not valid TOML (the message
        gives line and column), or any key is invalid (the message names it).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError("no such file", path=str(p)) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", path=str(p)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", path=str(p)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", path=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.match(str(exc))
        if m:
            msg = f"line {m['line']}, column {m['col']}: malformed TOML: {m['msg']}"
        else:
            msg = f"malformed TOML: {exc}"
        raise ScenarioError(msg, path=str(p)) from None
    return parse_scenario(data, path=p)


# ----------------------------------------------------------------- running
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
        """Write ``summary.json``, ``runs.csv``, ``curve.csv`` and ``scenario.toml`` atomically.

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
            "summary.json": write_json(out / "summary.json", self.summary),
        }
        return {name: files[name] for name in ("summary.json", "runs.csv", "curve.csv", "scenario.toml")}

    def describe(self) -> list[str]:
        """A few human-readable lines summarizing the run (what ``diffusion run`` prints).

        Besides adoption, summary sections that models and stages add
        (``cascade.platforms``, ``cascade.cascades``, ``cascade.adoptions_by_pressure``,
        ``fragility``) get a line each when present.
        """
        s = self.summary
        net, casc = s["network"], s["cascade"]
        ff, steps = casc["final_fraction"], casc["steps"]
        runs = s["runs"]
        lines = [
            f"{s['scenario']}: {runs} run{'s' if runs != 1 else ''} of {casc['model']} on "
            f"{net['nodes']:,} nodes, {net['edges']:,} edges (seed {s['seed']})",
            f"final adoption: mean {ff['mean']:.4f}, median {ff['q50']:.4f}, "
            f"5-95% [{ff['q05']:.4f}, {ff['q95']:.4f}]; steps: mean {steps['mean']:.1f}, max {steps['max']}",
        ]
        reach = [f"{lvl} in {v['reached']:.0%} of runs" + (f" (step {v['mean']:.1f})" if v["mean"] is not None
                                                          else "")
                 for lvl, v in casc.get("time_to", {}).items()]
        if reach:
            lines.append("reached " + ", ".join(reach))
        for section, describe in _DESCRIBERS:
            value = s.get(section) if section == "fragility" else casc.get(section)
            if isinstance(value, Mapping):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    lines.append(describe(value))
        return lines


def _band(stats: Mapping[str, Any], fmt: str = ".3f") -> str:
    return f"mean {stats['mean']:{fmt}} [5-95%: {stats['q05']:{fmt}}, {stats['q95']:{fmt}}]"


def _describe_platforms(p: Mapping[str, Any]) -> str:
    shares = ", ".join(f"{name} {v['mean']:.2f}" for name, v in p["final_shares"].items())
    line = f"platforms: final shares {shares}; HHI {_band(p['hhi'])}"
    if "lock_in" in p:
        line += f"; locked in: {p['lock_in']['probability']:.0%} of runs"
    return line


def _describe_bhw(c: Mapping[str, Any]) -> str:
    return (f"cascades: correct {c['correct']:.0%}, wrong {c['wrong']:.0%}, "
            f"none {c['none']:.0%} of runs")


def _describe_pressures(p: Mapping[str, Any]) -> str:
    return "adoptions by pressure: " + ", ".join(f"{k} {v['share']:.0%}" for k, v in p.items())


def _describe_fragility(f: Mapping[str, Any]) -> str:
    return (f"shock: systemic loss {_band(f['systemic_loss'])}; failed firms "
            f"{_band(f['failed_fraction'])}; systemic events in {f['systemic_event_probability']:.0%} of runs")


#: Summary sections with a line in :meth:`ScenarioResult.describe`: (key, formatter).
_DESCRIBERS: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    ("platforms", _describe_platforms),
    ("cascades", _describe_bhw),
    ("adoptions_by_pressure", _describe_pressures),
    ("fragility", _describe_fragility),
]


def _build_network(scenario: Scenario) -> Network:
    spec = scenario.network
    # errors without a parameter name come from reading the graph file (or the generator as a whole)
    key = "network.path" if spec.generator == _FILE_GENERATOR else "network"
    try:
        with _reraise(scenario.path, "network", key):
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


def check_scenario(scenario: Scenario) -> Network:
    """Build the network and check the cascade against it, without simulating.

    Catches what parsing alone cannot: generator parameter values, unreadable
    graph files, an empty graph, initial node ids that are not in the graph, node
    attributes the model or ``initial.by`` refer to. Returns the network.
    """
    network = _build_network(scenario)
    _check_initial(scenario, network)
    with _reraise(scenario.path, "cascade"):
        scenario.cascade.build().prepare(network)
    return network


def _summary(scenario: Scenario, network: Network, sim: SimulationResult) -> dict[str, Any]:
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


def run_scenario(
    scenario: Scenario,
    *,
    progress: Callable[[int], None] | None = None,
    map_chunks: Callable[..., Iterable[ChunkResult]] | None = None,
    chunk_size: int | None = None,
) -> ScenarioResult:
    """Build the network, run the cascade ensemble and the registered stages.

    Parameters
    ----------
    scenario : Scenario
        From :func:`load_scenario` (apply overrides with :meth:`Scenario.replace`).
    progress : callable, optional
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
    network = _build_network(scenario)
    _check_initial(scenario, network)
    with _reraise(scenario.path, "cascade"):
        sim = simulate(
            network,
            scenario.cascade.build(),
            initial=scenario.cascade.initial,
            runs=scenario.runs,
            seed=scenario.seed_sequence("cascade"),
            max_steps=scenario.max_steps,
            chunk_size=chunk_size,
            map_chunks=map_chunks,
            progress=progress,
        )
    result = ScenarioResult(scenario, network, sim, _summary(scenario, network, sim),
                            sim.to_records(), sim.curve_records())
    for name, handler in TABLES.items():
        if handler.stage is not None and name in scenario.tables:
            with _reraise(scenario.path, name):
                handler.stage(scenario, result, scenario.seed_sequence(name))
    return result


# Optional tables that register themselves (see register_table).
from . import sweep as _sweep  # noqa: E402, F401  ([sweep])
from .shocks import tables as _shock_tables  # noqa: E402, F401  ([shock], [frontier])
