"""The key reference of scenario files, generated from the code.

``diffusion info NAME`` and ``diffusion schema`` read everything here from the
code itself, so that the reference cannot drift from what the package does:

- the keys, their defaults and Python types come from the signatures of the
  models, generators and table classes;
- what each key means (and its documented type) from the numpydoc
  ``Parameters`` (or ``Attributes``) section of their docstrings;
- the range each value must lie in from the shared checks of
  :mod:`diffusion.validation`, recorded while the object is constructed with
  its defaults (:func:`~diffusion.validation.recorded_checks`);
- a model's outputs from its :meth:`~diffusion.Model.declare`.

Examples
--------
>>> from diffusion.reference import keys_of
>>> keys = {k.name: k for k in keys_of("model", "linear_threshold")}
>>> keys["threshold"].default, keys["threshold"].range
('0.5', '[0, 1]')
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DiffusionError
from .validation import recorded_checks

__all__ = ["Key", "describe", "docstring_parameters", "json_schema", "keys_of", "kind_of"]

#: Small valid values for required generator parameters (the checks of the
#: other parameters are recorded while the generator is checked with them).
_EXAMPLES: dict[str, Any] = {"n": 100, "m": 2, "k": 4, "p": 0.1, "d": 4, "degrees": [1, 1, 2, 2]}


@dataclass(frozen=True)
class Key:
    """One key of a scenario table.

    Attributes
    ----------
    name, type, default, range, meaning : str
        As shown by ``diffusion info`` (empty when not known).
    required : bool
    json : dict
        JSON-Schema fragment for the value.
    """

    name: str
    type: str = ""
    default: str = ""
    range: str = ""
    meaning: str = ""
    required: bool = False
    json: dict[str, Any] = dataclasses.field(default_factory=dict)


def docstring_parameters(obj: Any, section: str = "Parameters") -> dict[str, tuple[str, str]]:
    """``{name: (type, meaning)}`` from a numpydoc section of ``obj``'s docstring.

    Entries listing several names (``x, y : float``) give each name.

    Examples
    --------
    >>> def f(a, b):
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     a, b : int
    ...         Two numbers
    ...         to add.
    ...     '''
    >>> docstring_parameters(f)["b"]
    ('int', 'Two numbers to add.')
    """
    doc = inspect.cleandoc(inspect.getdoc(obj) or "")
    m = re.search(rf"^{section}\n-+\n(.*?)(?:\n\n[A-Z][A-Za-z ]+\n-+\n|\Z)", doc, re.S | re.M)
    if not m:
        return {}
    out: dict[str, tuple[str, str]] = {}
    names: list[str] = []
    typ, lines = "", []

    def flush() -> None:
        text = " ".join(" ".join(lines).split())
        for nm in names:
            out[nm] = (typ, text)

    for line in m.group(1).splitlines():
        if line and not line.startswith(" "):
            flush()
            head, _, typ = line.partition(" : ")
            names = [x.strip() for x in head.split(",") if x.strip()]
            typ, lines = typ.strip(), []
        elif line.strip():
            lines.append(line.strip())
    flush()
    return out


def _range(info: Mapping[str, Any] | None) -> str:
    if not info:
        return ""
    if info.get("type") == "choice":
        return "one of " + ", ".join(repr(c) for c in info["choices"])
    if info.get("type") == "boolean":
        return "true or false"
    lo, hi = info.get("low"), info.get("high")
    if hi is not None and abs(hi) >= 2**53:  # "any size a float can count", no real bound
        hi = None

    def num(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    if lo is not None and hi is not None:
        return f"{'(' if info.get('open_low') else '['}{num(lo)}, {num(hi)}{')' if info.get('open_high') else ']'}"
    if lo is not None:
        return f"{'>' if info.get('open_low') else '>='} {num(lo)}"
    if hi is not None:
        return f"{'<' if info.get('open_high') else '<='} {num(hi)}"
    return ""


def _json(info: Mapping[str, Any] | None, annotation: str) -> dict[str, Any]:
    """A JSON-Schema fragment from a recorded check (or nothing: any value)."""
    if not info:
        return {}
    kind = info.get("type")
    if kind == "choice":
        return {"enum": [c for c in info["choices"] if isinstance(c, str | int | float | bool)]}
    if kind == "boolean":
        return {"type": "boolean"}
    # Range keywords apply to numbers only; the type is stated only for a plainly numeric
    # parameter, so that the other forms a key accepts (an attribute name, a per-firm table,
    # a distribution) stay valid.
    plain = annotation.replace(" | None", "").replace("Optional[", "").rstrip("]") in ("float", "int")
    out: dict[str, Any] = {}
    if kind in ("number", "integer"):
        lo, hi = info.get("low"), info.get("high")
        if lo is not None:
            out["exclusiveMinimum" if info.get("open_low") else "minimum"] = lo
        if hi is not None and abs(hi) < 2**53:
            out["exclusiveMaximum" if info.get("open_high") else "maximum"] = hi
        if plain:
            out["type"] = "integer" if kind == "integer" and annotation.startswith("int") else "number"
    elif kind == "list of numbers":
        item: dict[str, Any] = {}
        if info.get("low") is not None:
            item["minimum"] = info["low"]
        if info.get("high") is not None:
            item["maximum"] = info["high"]
        out = {"items": item}
    return out


def _show(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return ""
    if isinstance(value, dataclasses._HAS_DEFAULT_FACTORY_CLASS):  # type: ignore[attr-defined]
        return ""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _annotation(fn: Any, name: str) -> str:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: show none
        return ""
    ann = hints.get(name)
    if ann is None:
        return ""
    return str(ann).replace("typing.", "").replace("collections.abc.", "") if not isinstance(ann, type) \
        else ann.__name__


def _keys(target: Callable[..., Any], doc_of: Any, construct: Callable[[], Any] | None,
          skip: tuple[str, ...] = ("self", "seed")) -> list[Key]:
    params = [p for p in inspect.signature(target).parameters.values()
              if p.name not in skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    docs = docstring_parameters(doc_of) or docstring_parameters(doc_of, "Attributes")
    seen: dict[str, dict[str, Any]] = {}
    if construct is not None:
        with recorded_checks() as seen:
            try:
                construct()
            except (DiffusionError, TypeError, ValueError):  # ranges of the checks that ran
                pass
    out = []
    fn = target.__init__ if inspect.isclass(target) else target
    for p in params:
        typ, meaning = docs.get(p.name, ("", ""))
        ann = _annotation(fn, p.name)
        typ = re.sub(r",?\s*default\b.*$", "", typ).strip() or ann
        out.append(Key(p.name, typ, _show(p.default), _range(seen.get(p.name)), meaning,
                       p.default is inspect.Parameter.empty, _json(seen.get(p.name), ann)))
    return out


def kind_of(name: str) -> str | None:
    """``"model"``, ``"generator"`` or ``"table"`` for a name ``diffusion info`` knows, else ``None``."""
    from .generators import GENERATORS
    from .models import MODELS
    from .scenario import TABLES

    if name in MODELS:
        return "model"
    if name in GENERATORS:
        return "generator"
    if name in ("scenario", *TABLES):
        return "table"
    return None


def _spec_class(handler: Any) -> Any:
    try:
        ret = typing.get_type_hints(handler.parse).get("return")
    except Exception:
        return None
    return ret if inspect.isclass(ret) and dataclasses.is_dataclass(ret) else None


def keys_of(kind: str, name: str) -> list[Key]:
    """The keys of model, generator or table ``name`` (see the module docstring)."""
    if kind == "model":
        from .models import MODELS

        cls = MODELS[name]
        return _keys(cls, cls, cls)
    if kind == "generator":
        from .generators import GENERATORS, check_generator

        fn = GENERATORS[name]
        required = {p.name: _EXAMPLES.get(p.name, 1) for p in inspect.signature(fn).parameters.values()
                    if (p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY) or
                    (p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD)}
        return _keys(fn, fn, lambda: check_generator(name, **required))
    if kind == "table":
        if name == "scenario":
            return _scenario_keys()
        from .scenario import TABLES

        spec = _spec_class(TABLES[name])
        if spec is None:
            return []
        return _keys(spec, spec, None)
    raise DiffusionError(f"unknown kind {kind!r}")


def _scenario_keys() -> list[Key]:
    from .scenario import parse_scenario
    from .scenario.config import Scenario

    with recorded_checks() as seen:
        parse_scenario({"scenario": {"name": "x", "seed": 1, "runs": 1, "max_steps": 1, "description": ""},
                        "network": {"generator": "complete", "n": 2},
                        "cascade": {"model": "linear_threshold", "initial": {"count": 1}}})
    docs = docstring_parameters(Scenario, "Attributes") or docstring_parameters(Scenario)
    defaults = {"runs": "100", "max_steps": "none (the model's own cap)", "description": "''"}
    out = []
    for key in ("name", "seed", "runs", "max_steps", "description"):
        typ, meaning = docs.get(key, ("", ""))
        out.append(Key(key, typ, defaults.get(key, ""), _range(seen.get(key)), meaning, key in ("name", "seed"),
                       _json(seen.get(key), "")))
    return out


def _outputs(name: str) -> list[str]:
    from .models import MODELS

    try:
        decl = MODELS[name]().declare()
    except Exception:  # declarations that need parameters: none shown
        return []
    lines = []
    for o in decl:
        labels = f" [{', '.join(o.labels)}]" if o.labels else ""
        role = f" (role {o.role})" if o.role else ""
        lines.append(f"  {o.name}: {o.kind}{labels}{role} — {o.description}")
    return lines


def _key_lines(keys: list[Key], width: int) -> list[str]:
    lines = []
    for k in keys:
        facts = [x for x in (k.type, f"default {k.default}" if k.default else ("required" if k.required else ""),
                             f"range {k.range}" if k.range else "") if x]
        lines.append(f"  {k.name}" + (f"  ({'; '.join(facts)})" if facts else ""))
        if k.meaning:
            lines += textwrap.wrap(k.meaning, width, initial_indent="      ", subsequent_indent="      ")
    return lines


def describe(name: str, width: int = 100) -> list[str]:
    """The lines ``diffusion info NAME`` prints.

    Raises
    ------
    DiffusionError
        For a name that is no model, generator or table.
    """
    kind = kind_of(name)
    if kind is None:
        from .generators import GENERATORS
        from .models import MODELS
        from .scenario import TABLES

        raise DiffusionError(f"unknown name {name!r}: give a model ({', '.join(sorted(MODELS))}), a generator "
                             f"({', '.join(sorted(GENERATORS))}) or a table "
                             f"({', '.join(['scenario', *TABLES])})")
    if kind == "model":
        from .models import MODELS

        obj: Any = MODELS[name]
        where = f'[cascade] with model = "{name}"'
    elif kind == "generator":
        from .generators import GENERATORS

        obj = GENERATORS[name]
        where = f'[network] with generator = "{name}"'
    else:
        from .scenario import TABLES

        obj = _spec_class(TABLES[name]) if name != "scenario" else None
        where = f"[{name}]"
    summary = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ") if obj is not None else ""
    lines = [f"{name} ({kind}): {summary}".rstrip(": "), f"keys of {where}:"]
    keys = keys_of(kind, name)
    if not keys:
        lines.append("  (see the README's section on this table)")
    if name == "shock":  # its `type` picks a shock class, whose keys join the table's
        from .shocks import SHOCKS
        from .shocks.exposure import exposure_matrix

        keys = [k for k in keys if k.name not in ("shock", "exposure")]
        lines.insert(2, f"  type  (one of {', '.join(repr(t) for t in SHOCKS)}; required)")
        for kind_name, cls in SHOCKS.items():
            sub = _keys(cls, cls, cls)
            lines.append(f"keys of a {kind_name!r} shock (type = {kind_name!r}):")
            lines += _key_lines(sub, width)
        lines.append("keys of [shock.exposure] (how losses spread between partners):")
        lines += _key_lines(_keys(exposure_matrix, exposure_matrix, None, skip=("network",)), width)
        lines.insert(3, "common keys:")
    common = _key_lines(keys, width)
    if name == "shock":
        lines[4:4] = common
    else:
        lines += common
    if kind == "model":
        lines.append('  initial  (table [cascade.initial]: count = k | fraction = f | nodes = [ids] | '
                     'top = k with by = "degree" or an attribute)')
        outs = _outputs(name)
        if outs:
            lines.append("outputs (declared; runs.csv, curve.csv, nodes.csv and figures read them):")
            lines += outs
    return lines


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of scenario files, for editors (TOML read as JSON).

    Each model's and generator's keys are checked when ``model`` /
    ``generator`` names it (``if``/``then``); ranges come from the code's checks.

    Examples
    --------
    >>> s = json_schema()
    >>> s["required"], sorted(s["properties"]["cascade"]["properties"]["model"]["enum"])[:2]
    (['scenario', 'network', 'cascade'], ['bayesian_cascade', 'independent_cascade'])
    """
    from .generators import GENERATORS
    from .models import MODELS
    from .scenario import TABLES

    def props(keys: list[Key]) -> dict[str, Any]:
        return {k.name: {**k.json, "description": " ".join(x for x in (k.meaning, f"Range: {k.range}."
                                                                        if k.range else "") if x)}
                for k in keys}

    scen = keys_of("table", "scenario")
    cascade_rules = []
    for name in sorted(MODELS):
        keys = keys_of("model", name)
        cascade_rules.append({
            "if": {"properties": {"model": {"const": name}}, "required": ["model"]},
            "then": {"properties": {**props(keys), "model": True, "initial": True}, "additionalProperties": False},
        })
    network_rules = []
    for name in sorted(GENERATORS):
        keys = keys_of("generator", name)
        network_rules.append({
            "if": {"properties": {"generator": {"const": name}}, "required": ["generator"]},
            "then": {"properties": {**props(keys), "generator": True}, "additionalProperties": False,
                     "required": [k.name for k in keys if k.required]},
        })
    tables: dict[str, Any] = {}
    for name, handler in TABLES.items():
        keys = keys_of("table", name)
        entry: dict[str, Any] = {"type": "object", "properties": props(keys)} if keys else {"type": "object"}
        tables[name] = {"type": "array", "items": entry} if getattr(handler, "array", False) else entry
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "smb-diffusion scenario file",
        "description": "Generated by `diffusion schema` from the package's code; see `diffusion info NAME`.",
        "type": "object",
        "required": ["scenario", "network", "cascade"],
        "properties": {
            "scenario": {"type": "object", "properties": props(scen), "required": ["name", "seed"],
                         "additionalProperties": False},
            "network": {"type": "object", "properties": {"generator": {"enum": [*sorted(GENERATORS), "file"]}},
                        "required": ["generator"], "allOf": network_rules},
            "cascade": {"type": "object",
                        "properties": {"model": {"enum": sorted(MODELS)},
                                       "initial": {"type": "object",
                                                   "properties": {"count": {"type": "integer", "minimum": 0},
                                                                  "fraction": {"type": "number", "minimum": 0,
                                                                               "maximum": 1},
                                                                  "nodes": {"type": "array"},
                                                                  "top": {"type": "integer", "minimum": 0},
                                                                  "by": {"type": "string"}},
                                                   "additionalProperties": False}},
                        "required": ["model"], "allOf": cascade_rules},
            **tables,
        },
        "additionalProperties": False,
    }
