"""Parameter checks shared by generators, models, shocks, sweeps and scenario files.

Every check takes a parameter's name (as written in Python and in scenario
files) and its value, returns the value normalized (a ``float``, an ``int``,
a ``tuple``), and raises :class:`~diffusion.errors.ParameterError` naming the
parameter when the value is invalid. Library code calls these checks where a
value enters; the scenario layer turns the error into a
:class:`~diffusion.errors.ScenarioError` naming the file and the dotted key
(``cascade.threshold``, ``network.n``, ``shock.level``).

:func:`signature` and :func:`check_keywords` check a table of keyword
arguments (unknown, missing and ill-typed keys) against the function or class
it is meant for, before the function is called.

Examples
--------
>>> from diffusion.validation import check_integer, check_number
>>> check_number("p", 0.5, 0, 1)
0.5
>>> check_number("p", float("nan"), 0, 1)
Traceback (most recent call last):
...
diffusion.errors.ParameterError: p: must be a finite number, got nan
>>> check_integer("n", 1e3)
1000
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = [
    "Signature",
    "accepts",
    "check_bool",
    "check_choice",
    "check_integer",
    "check_keywords",
    "check_name",
    "check_node_ids",
    "check_number",
    "check_numbers",
    "check_probability",
    "check_string",
    "recorded_checks",
    "signature",
]

_NAME_RE = re.compile(r"[\w][\w.-]*")
#: Longest plain name (a directory name on every common file system).
MAX_NAME_LENGTH = 200


_RECORD: contextvars.ContextVar[dict[str, dict[str, Any]] | None] = contextvars.ContextVar("_RECORD", default=None)


@contextlib.contextmanager
def recorded_checks() -> Iterator[dict[str, dict[str, Any]]]:
    """Record what the checks run inside the block accept, by parameter name.

    ``diffusion info`` constructs a model, generator or table with its
    defaults inside this block and reports each parameter's range as the code
    checks it, so that the reference cannot drift from the checks.

    Examples
    --------
    >>> from diffusion.validation import check_number, recorded_checks
    >>> with recorded_checks() as seen:
    ...     _ = check_number("rate", 0.5, 0, 1, open_low=True)
    >>> seen["rate"]["low"], seen["rate"]["open_low"]
    (0, True)
    """
    token = _RECORD.set({})
    try:
        yield _RECORD.get()  # type: ignore[misc]
    finally:
        _RECORD.reset(token)


def _note(name: str, **info: Any) -> None:
    seen = _RECORD.get()
    if seen is not None and "[" not in name:
        seen.setdefault(name, info)


def _real(value: Any) -> bool:
    return not isinstance(value, bool | np.bool_) and isinstance(value, int | float | np.integer | np.floating)


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                 integer: bool = False, open_low: bool = False, open_high: bool = False) -> float:
    """A finite number within ``[low, high]`` (open ends with ``open_low`` / ``open_high``).

    Examples
    --------
    >>> from diffusion.validation import check_number
    >>> check_number("rate", 0, 0, 1, open_low=True)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: rate: must be > 0, got 0
    """
    _note(name, type="integer" if integer else "number", low=low, high=high, open_low=open_low,
          open_high=open_high)
    if not _real(value) or not math.isfinite(value):
        raise ParameterError(name, f"must be a finite number, got {value!r}")
    if integer and float(value) != int(value):
        raise ParameterError(name, f"must be an integer, got {value!r}")
    if low is not None and (value < low or (open_low and value == low)):
        raise ParameterError(name, f"must be {'>' if open_low else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (open_high and value == high)):
        raise ParameterError(name, f"must be {'<' if open_high else '<='} {high}, got {value!r}")
    return float(value)


def check_probability(name: str, value: Any) -> float:
    """A probability in ``[0, 1]``.

    Examples
    --------
    >>> from diffusion.validation import check_probability
    >>> check_probability("p", 1)
    1.0
    """
    return check_number(name, value, 0.0, 1.0)


def check_integer(name: str, value: Any, low: int | None = None, high: int | None = None, *,
                  strict: bool = False) -> int:
    """An integer within ``[low, high]``.

    A float with an integral value (``1e3``) is accepted unless ``strict``.

    Examples
    --------
    >>> from diffusion.validation import check_integer
    >>> check_integer("runs", 1.0, 1, strict=True)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: runs: must be an integer, got float 1.0
    """
    _note(name, type="integer", low=low, high=high, open_low=False, open_high=False)
    exact = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if not exact and (strict or not _real(value) or not math.isfinite(value) or float(value) != int(value)):
        raise ParameterError(name, f"must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    if low is not None and v < low:
        raise ParameterError(name, f"must be >= {low}, got {v}")
    if high is not None and v > high:
        raise ParameterError(name, f"must be <= {high}, got {v}")
    return v


def check_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (not a number or a string).

    Examples
    --------
    >>> from diffusion.validation import check_bool
    >>> check_bool("directed", "yes")
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: directed: must be true or false, got 'yes'
    """
    _note(name, type="boolean")
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(name, f"must be true or false, got {value!r}")
    return bool(value)


def check_string(name: str, value: Any) -> str:
    """A string.

    Examples
    --------
    >>> from diffusion.validation import check_string
    >>> check_string("model", 3)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: model: must be a string, got int 3
    """
    if not isinstance(value, str):
        raise ParameterError(name, f"must be a string, got {type(value).__name__} {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of ``choices``.

    Examples
    --------
    >>> from diffusion.validation import check_choice
    >>> check_choice("propagation", "linear", ["threshold", "debtrank"])
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: propagation: must be one of 'threshold', 'debtrank', got 'linear'
    """
    options = list(choices)
    _note(name, type="choice", choices=options)
    if isinstance(value, list | dict) or value not in options:
        raise ParameterError(name, f"must be one of {', '.join(repr(c) for c in options)}, got {value!r}")
    return value


def check_name(name: str, value: Any) -> str:
    """A plain name usable as a directory name: letters, digits, ``_``, then also ``-`` and ``.``.

    The whole string must match (a trailing newline is refused).

    Examples
    --------
    >>> from diffusion.validation import check_name
    >>> check_name("name", "watts_window")
    'watts_window'
    >>> check_name("name", "watts\\n")
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: name: must be a plain name (letters, digits, '_', '-', '.'), got 'watts\\n'
    """
    value = check_string(name, value)
    if not _NAME_RE.fullmatch(value):
        raise ParameterError(name, f"must be a plain name (letters, digits, '_', '-', '.'), got {value!r}")
    if len(value) > MAX_NAME_LENGTH:
        raise ParameterError(name, f"must be at most {MAX_NAME_LENGTH} characters, got {len(value)}")
    return value


def check_numbers(name: str, values: Any, low: float | None = None, high: float | None = None, *,
                  nonempty: bool = True) -> tuple[float, ...]:
    """A list of finite numbers, each within ``[low, high]``.

    Examples
    --------
    >>> from diffusion.validation import check_numbers
    >>> check_numbers("severities", [0, 0.5, 1], 0, 1)
    (0.0, 0.5, 1.0)
    >>> check_numbers("severities", [0.5, 2], 0, 1)
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: severities[1]: must be <= 1, got 2
    """
    _note(name, type="list of numbers", low=low, high=high, open_low=False, open_high=False)
    if isinstance(values, str | Mapping) or not isinstance(values, Sequence | np.ndarray):
        raise ParameterError(name, f"must be a list of numbers, got {type(values).__name__} {values!r}")
    if nonempty and len(values) == 0:
        raise ParameterError(name, "must be a non-empty list of numbers")
    return tuple(check_number(f"{name}[{i}]", v, low, high) for i, v in enumerate(values))


def check_node_ids(name: str, values: Any) -> tuple[Any, ...]:
    """A list of node ids: strings or integers (numbers), not nested lists or tables.

    Examples
    --------
    >>> from diffusion.validation import check_node_ids
    >>> check_node_ids("nodes", ["a", "b"])
    ('a', 'b')
    >>> check_node_ids("nodes", [[1]])
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: nodes[0]: a node id must be a string or a number, got list [1]
    """
    if isinstance(values, str | Mapping) or not isinstance(values, Sequence | np.ndarray):
        raise ParameterError(name, f"must be a list of node ids, got {type(values).__name__} {values!r}")
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iufU":
        return tuple(values.tolist())  # every entry is a number or a string: no check per id
    for i, v in enumerate(values):
        if not (isinstance(v, str) or _real(v)):
            raise ParameterError(f"{name}[{i}]", f"a node id must be a string or a number, got "
                                                 f"{type(v).__name__} {v!r}")
    return tuple(np.asarray(list(values)).tolist())


# ----------------------------------------------------------------- keyword tables
@dataclass(frozen=True)
class Signature:
    """The keyword parameters a function or class accepts (see :func:`signature`).

    Attributes
    ----------
    names : tuple of str
        Parameters that can be passed by keyword.
    required : tuple of str
        Those without a default.
    annotations : Mapping
        Resolved type annotations, by name (unresolvable ones are left out).
    var_keyword : bool
        Whether the function takes ``**kwargs``.
    """

    names: tuple[str, ...]
    required: tuple[str, ...]
    annotations: Mapping[str, Any]
    var_keyword: bool


def signature(fn: Callable[..., Any], skip: Iterable[str] = ()) -> Signature:
    """The keyword parameters of ``fn`` (a function, or a class's ``__init__``), without ``skip``.

    Examples
    --------
    >>> from diffusion.validation import signature
    >>> def f(n: int, *, p: float = 0.5, seed=None): ...
    >>> signature(f, skip=["seed"]).names
    ('n', 'p')
    """
    return _cached_signature(fn, tuple(sorted(set(skip))))


@functools.lru_cache(maxsize=512)
def _cached_signature(fn: Callable[..., Any], skip: tuple[str, ...]) -> Signature:
    try:
        sig = inspect.signature(fn, eval_str=True)
    except Exception:  # unresolvable annotations: check names only
        sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.name not in set(skip) | {"self"}]
    kw_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = [p for p in params if p.kind in kw_kinds]
    return Signature(
        names=tuple(p.name for p in named),
        required=tuple(p.name for p in named if p.default is inspect.Parameter.empty),
        annotations=types.MappingProxyType({p.name: p.annotation for p in named
                                            if not isinstance(p.annotation, str)}),
        var_keyword=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params),
    )


def _type_name(ann: Any) -> str:
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace("typing.", "").replace("collections.abc.", "")


def accepts(value: Any, ann: Any) -> bool:
    """Whether a TOML-like ``value`` fits the annotation ``ann`` (unknown annotations accept).

    Examples
    --------
    >>> from diffusion.validation import accepts
    >>> accepts(3, float), accepts(True, int), accepts("a", int | str)
    (True, False, True)
    """
    if ann is inspect.Parameter.empty or ann is Any:
        return True
    origin = typing.get_origin(ann)
    if origin is typing.Union or origin is types.UnionType:
        return any(accepts(value, a) for a in typing.get_args(ann))
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


def check_keywords(params: Mapping[str, Any], sig: Signature, what: str) -> None:
    """Unknown, missing and ill-typed keyword arguments of ``what``, each a :class:`ParameterError`.

    Examples
    --------
    >>> from diffusion.validation import check_keywords, signature
    >>> def f(n: int, p: float = 0.5): ...
    >>> check_keywords({"n": 5, "q": 1}, signature(f), "generator 'f'")
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: q: unknown key for generator 'f' (it takes: n, p)
    >>> check_keywords({"n": "big"}, signature(f), "generator 'f'")
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: n: must be int, got str 'big'
    """
    if not sig.var_keyword:
        for key in params:
            if key not in sig.names:
                known = ", ".join(sig.names) or "none"
                raise ParameterError(key, f"unknown key for {what} (it takes: {known})")
    for key in sig.required:
        if key not in params:
            raise ParameterError(key, f"missing; required by {what}")
    for key, value in params.items():
        ann = sig.annotations.get(key, inspect.Parameter.empty)
        if not accepts(value, ann):
            raise ParameterError(key, f"must be {_type_name(ann)}, got {type(value).__name__} {value!r}")
