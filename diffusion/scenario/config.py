"""Scenario files parsed once into typed objects: :class:`Scenario` and its tables.

:func:`load_scenario` reads a TOML file and :func:`parse_scenario` validates a
mapping into a :class:`Scenario`, a frozen tree of dataclasses
(:class:`NetworkSpec`, :class:`CascadeSpec`, and the parsed optional tables
registered in :mod:`diffusion.scenario.tables`). Values are checked with the
shared validators of :mod:`diffusion.validation` and by constructing the
objects they describe (a model, a shock); a
:class:`~diffusion.errors.ParameterError` raised there becomes a
:class:`~diffusion.errors.ScenarioError` naming the file and the dotted key
(:func:`scenario_errors`).

Seeding
-------
The scenario ``seed`` is the root entropy of one independent
:class:`numpy.random.SeedSequence` stream per stage, identified by its spawn
key (see :func:`stream_key`): the graph is built from stream 0, the cascade
replicates from stream 1 (replicate ``r`` draws from *its* child ``r``, see
:mod:`diffusion._random`) and the ``[shock]`` stage from stream 2, exactly the
children ``SeedSequence(seed).spawn(3)``; any other table's stream is derived
from a stable hash of its name, so it does not depend on which tables are
registered or in what order. Changing ``runs`` leaves the graph and the first
replicates unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import os
import re
import stat
import tomllib
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import Model
from ..errors import DiffusionError, ParameterError, ScenarioError
from ..generators import GENERATORS, check_generator
from ..initial import Initial, parse_initial
from ..models import MODELS
from ..network import Network
from ..readwrite import read_network
from ..validation import check_integer, check_keywords, check_name, check_string, signature
from .tables import CORE_TABLES, TABLES

__all__ = [
    "FILE_GENERATOR",
    "MAX_DEPTH",
    "MAX_SCENARIO_BYTES",
    "STREAMS",
    "CascadeSpec",
    "NetworkSpec",
    "ParseContext",
    "Scenario",
    "as_scenario_error",
    "load_scenario",
    "parse_scenario",
    "scenario_errors",
    "stream_key",
]

#: The streams of the built-in stages: name -> spawn key of the child of
#: ``SeedSequence(scenario.seed)``. Fixed forever (changing one would change
#: the results of existing scenario files); other tables use :func:`stream_key`.
STREAMS: Mapping[str, int] = types.MappingProxyType({"network": 0, "cascade": 1, "shock": 2})

#: ``[network] generator`` value that reads a graph file.
FILE_GENERATOR = "file"


def stream_key(name: str) -> int:
    """Spawn key of the random stream of stage ``name``.

    :data:`STREAMS` for the built-in stages; for any other name 64 bits of the
    BLAKE2b hash of the name with the top bit set (never equal to a built-in key
    or to a replicate index), so a table's stream depends on its name only.

    Examples
    --------
    >>> from diffusion.scenario import stream_key
    >>> stream_key("cascade")
    1
    >>> stream_key("demo") == stream_key("demo") >= 2**63
    True
    """
    if name in STREAMS:
        return STREAMS[name]
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8, person=b"smb-stream").digest()
    return int.from_bytes(digest, "big") | (1 << 63)


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
        return scenario_errors(self.path, table)


@contextlib.contextmanager
def scenario_errors(path: str | os.PathLike[str] | None, table: str, key: str | None = None) -> Iterator[None]:
    """Turn a :class:`~diffusion.errors.DiffusionError` raised in the block into a :class:`ScenarioError`.

    See :func:`as_scenario_error`; a :class:`ScenarioError` passes unchanged.

    Examples
    --------
    >>> from diffusion.errors import ParameterError
    >>> from diffusion.scenario import scenario_errors
    >>> with scenario_errors("s.toml", "shock"):
    ...     raise ParameterError("level", "must be <= 1, got 2")
    Traceback (most recent call last):
    ...
    diffusion.errors.ScenarioError: s.toml: shock.level: must be <= 1, got 2
    """
    try:
        yield
    except ScenarioError:
        raise
    except DiffusionError as exc:
        raise as_scenario_error(exc, path, table, key) from exc


def as_scenario_error(exc: DiffusionError, path: str | os.PathLike[str] | None, table: str,
                      key: str | None = None) -> ScenarioError:
    """A :class:`ScenarioError` for ``exc`` raised while handling ``[table]``.

    A :class:`~diffusion.errors.ParameterError` is reported at
    ``table.<its name>`` (``scenario.<name>`` for ``runs``, ``max_steps`` and
    ``seed``); any other error at ``key`` (default: the table).
    """
    where = str(path) if path else None
    if isinstance(exc, ParameterError):
        name = exc.name
        if name in ("runs", "max_steps", "seed"):
            key = f"scenario.{name}"
        else:
            key = f"{table}.{name}"
        return ScenarioError(exc.reason, path=where, key=key)
    return ScenarioError(str(exc), path=where, key=key or table)


# ----------------------------------------------------------------- helpers
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


def _array(ctx: ParseContext, data: Mapping[str, Any], name: str) -> list[dict[str, Any]] | None:
    """An array of tables ``[[name]]`` (``None`` when absent)."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = [value]  # a single [name] table is an array of one
    if not isinstance(value, list | tuple):
        raise ctx.error(name, f"must be an array of tables ([[{name}]]), got {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ctx.error(f"{name}[{i}]", f"must be a table, got {type(item).__name__}")
        out.append(dict(item))
    return out


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(copy.deepcopy(dict(mapping)))


def _choices(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in sorted(names))


# ----------------------------------------------------------------- [scenario]
_SCENARIO_KEYS = ("name", "seed", "runs", "max_steps", "description")


def _get(ctx: ParseContext, table: Mapping[str, Any], name: str, key: str, check: Any, *args: Any,
         default: Any = ..., **kw: Any) -> Any:
    """``check(key, table[key], *args, **kw)``, errors reported at ``name.key``."""
    if key not in table:
        if default is ...:
            raise ctx.error(f"{name}.{key}", "missing")
        return default
    with ctx.reraise(name):
        return check(key, table[key], *args, **kw)


def _parse_settings(ctx: ParseContext, table: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(table) - set(_SCENARIO_KEYS))
    if unknown:
        raise ctx.error(f"scenario.{unknown[0]}", f"unknown key (valid: {', '.join(_SCENARIO_KEYS)})")
    return {
        "name": _get(ctx, table, "scenario", "name", check_name),
        "seed": _get(ctx, table, "scenario", "seed", check_integer, 0, strict=True),
        "runs": _get(ctx, table, "scenario", "runs", check_integer, 1, strict=True, default=100),
        "max_steps": _get(ctx, table, "scenario", "max_steps", check_integer, 0, strict=True, default=None),
        "description": _get(ctx, table, "scenario", "description", check_string, default=""),
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
        if self.generator == FILE_GENERATOR:
            return read_network(self.path, nodes=self.nodes, **kwargs)
        fn = GENERATORS[self.generator]
        if "seed" in signature(fn).names:
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
    raw = _get(ctx, table, "network", key, check_string)
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = ctx.base_dir / p
    p = Path(os.path.abspath(p))  # absolute, so a written-back scenario works from anywhere
    if not p.is_file():
        what = "is not a file" if p.exists() else "no such file"
        raise ctx.error(f"network.{key}", f"{what}: {raw}")
    return p


def _parse_network(ctx: ParseContext, table: Mapping[str, Any]) -> NetworkSpec:
    gen = _get(ctx, table, "network", "generator", check_string)
    params = {k: v for k, v in table.items() if k != "generator"}
    if "seed" in params:
        raise ctx.error("network.seed", "not allowed here: the graph is seeded from scenario.seed")
    if gen == FILE_GENERATOR:
        path = _resolve_file(ctx, table, "path")
        nodes = _resolve_file(ctx, table, "nodes") if "nodes" in table else None
        extra = {k: v for k, v in params.items() if k not in ("path", "nodes")}
        with ctx.reraise("network"):
            check_keywords(extra, signature(read_network, skip=("path", "nodes")), "generator 'file'")
        return NetworkSpec(gen, _frozen(extra), path, nodes)
    if gen not in GENERATORS:
        raise ctx.error("network.generator",
                        f"unknown generator {gen!r}; choose one of {_choices([*GENERATORS, FILE_GENERATOR])}")
    with ctx.reraise("network"):
        check_keywords(params, signature(GENERATORS[gen], skip=("seed",)), f"generator {gen!r}")
        check_generator(gen, **copy.deepcopy(params))  # every value, as the generator will check it
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

    @property
    def model_class(self) -> type[Model]:
        """The model's class (from :data:`diffusion.models.MODELS`)."""
        return MODELS[self.model]

    def build(self) -> Model:
        """A fresh model instance."""
        return self.model_class(**copy.deepcopy(dict(self.params)))

    def to_dict(self) -> dict[str, Any]:
        """The TOML table, with ``initial`` as a sub-table."""
        out: dict[str, Any] = {"model": self.model, **copy.deepcopy(dict(self.params))}
        init = self.initial.to_dict()
        if init:
            out["initial"] = {k: list(v) if isinstance(v, tuple) else v for k, v in init.items()}
        return out


def _parse_cascade(ctx: ParseContext, table: Mapping[str, Any]) -> CascadeSpec:
    name = _get(ctx, table, "cascade", "model", check_string)
    if name not in MODELS:
        raise ctx.error("cascade.model", f"unknown model {name!r}; choose one of {_choices(MODELS)}")
    cls = MODELS[name]
    params = {k: v for k, v in table.items() if k not in ("model", "initial")}
    with ctx.reraise("cascade"):
        check_keywords(params, signature(cls.__init__), f"model {name!r}")
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


# ----------------------------------------------------------------- Scenario
@dataclass(frozen=True)
class Scenario:
    """A validated scenario (immutable). Build with :func:`load_scenario` or :func:`parse_scenario`.

    Attributes
    ----------
    name : str
        ``scenario.name``; also the default output directory ``results/<name>/``.
    seed : int
        ``scenario.seed``, the root of every random stream (see :func:`stream_key`).
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
        """The independent :class:`~numpy.random.SeedSequence` of one stage (see :func:`stream_key`).

        For the built-in stages it equals ``SeedSequence(seed).spawn(3)[STREAMS[stream]]``.
        """
        return np.random.SeedSequence(self.seed, spawn_key=(stream_key(stream),))

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
    _check_depth(ctx, data)
    unknown = [k for k in data if k not in CORE_TABLES and k not in TABLES]
    if unknown:
        valid = ", ".join(f"[{t}]" for t in (*CORE_TABLES, *TABLES))
        raise ctx.error(unknown[0], f"unknown table (valid: {valid})")
    parsed: dict[str, Any] = {}
    ctx = dataclasses.replace(ctx, tables=parsed)
    parsed["scenario"] = _parse_settings(ctx, _table(ctx, data, "scenario"))  # type: ignore[arg-type]
    parsed["network"] = _parse_network(ctx, _table(ctx, data, "network"))  # type: ignore[arg-type]
    parsed["cascade"] = _parse_cascade(ctx, _table(ctx, data, "cascade"))  # type: ignore[arg-type]
    extra: dict[str, Any] = {}
    for name, handler in TABLES.items():
        table = _array(ctx, data, name) if handler.array else _table(ctx, data, name, required=False)
        if table is not None:
            with ctx.reraise(name):
                extra[name] = parsed[name] = handler.parse(table, ctx)
    return Scenario(network=parsed["network"], cascade=parsed["cascade"], path=p,
                    tables=types.MappingProxyType(extra), **parsed["scenario"])


_TOML_POS = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")

#: Largest scenario file read, in bytes: a scenario is a few kilobytes, a larger file is not one.
MAX_SCENARIO_BYTES = 1_000_000
#: Deepest nesting of tables and arrays accepted in a scenario.
MAX_DEPTH = 32


def _read(p: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_SCENARIO_BYTES`, without blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)  # non-blocking: opening a FIFO does not wait for a writer
    except FileNotFoundError:
        raise ScenarioError("no such file", path=str(p)) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", path=str(p)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", path=str(p)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError("is a directory, not a scenario file", path=str(p))
        if not stat.S_ISREG(mode):
            raise ScenarioError("not a regular file (a pipe, a device or a socket); give a scenario file",
                                path=str(p))
        chunks, size = [], 0
        while size <= MAX_SCENARIO_BYTES:
            chunk = os.read(fd, MAX_SCENARIO_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", path=str(p)) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"larger than {MAX_SCENARIO_BYTES // 1_000_000} MB: a scenario file is a few "
                            "kilobytes of TOML; is this the right file?", path=str(p))
    return raw


_KEY_LINE = re.compile(r"\s*(?P<key>[^=\[{#]+?)\s*=")


def _nesting_site(text: str, limit: int) -> tuple[int, str | None] | None:
    """Line and dotted key where arrays or inline tables first nest deeper than ``limit``.

    A lexical scan (strings and comments skipped) for the error message when
    the TOML parser itself gives up on a deeply nested value.
    """
    table, key, depth, line = "", None, 0, 1
    i, n = 0, len(text)
    line_start = 0
    while i < n:
        c = text[i]
        if c == "\n":
            line, line_start = line + 1, i + 1
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j, i = i + len(quote), i + len(quote)
            while j < n and not text.startswith(quote, j) and (len(quote) == 3 or text[j] != "\n"):
                j += 2 if c == '"' and text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j + len(quote)
            continue
        elif depth == 0 and c == "[" and not text[line_start:i].strip():
            j = text.find("\n", i)
            header = text[i:n if j < 0 else j].split("#")[0].strip().strip("[]").strip()
            table, key = header, None
            i = n if j < 0 else j
            continue
        elif depth == 0 and c == "=":
            m = _KEY_LINE.match(text, line_start)
            if m:
                key = ".".join(p for p in (table, m["key"].strip().strip("\"'")) if p)
        elif c in "[{":
            depth += 1
            if depth > limit:
                return line, key
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return None


def _check_depth(ctx: ParseContext, data: Mapping[str, Any]) -> None:
    """Refuse values nested deeper than :data:`MAX_DEPTH` (iteratively: no recursion)."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 0)]
    while stack:
        value, keys, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ctx.error(".".join(keys[:3]) or None, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, Mapping):
            stack.extend((v, (*keys, str(k)), depth + 1) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((v, keys, depth + 1) for v in value)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario TOML file.

    The path must be a regular file of at most :data:`MAX_SCENARIO_BYTES`
    (a pipe or a device is refused at once, without reading).

    Raises
    ------
    ScenarioError
        When the file is missing, unreadable, not a regular file or too large,
        is not valid TOML (the message gives line and column), nests values
        more than :data:`MAX_DEPTH` levels deep, or any key is invalid (the
        message names it).
    """
    p = Path(path)
    raw = _read(p)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", path=str(p)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.match(str(exc))
        if m:
            msg = f"line {m['line']}, column {m['col']}: malformed TOML: {m['msg']}"
        else:
            msg = f"malformed TOML: {exc}"
        raise ScenarioError(msg, path=str(p)) from None
    except RecursionError:
        site = _nesting_site(text, MAX_DEPTH)
        where = f"line {site[0]}: " if site else ""
        raise ScenarioError(f"{where}arrays or inline tables nested more than {MAX_DEPTH} levels deep",
                            path=str(p), key=site[1] if site else None) from None
    return parse_scenario(data, path=p)
