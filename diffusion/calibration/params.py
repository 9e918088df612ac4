"""Free parameters: dotted scenario keys, their place in a model's parameters, their bounds.

A free parameter is named by its dotted scenario key — ``"cascade.mimetic"``,
``"cascade.partner_coercion"`` (or ``"cascade.partner_coercion.probability"``),
``"cascade.mandates[0].compliance"`` — exactly as it is written in the
scenario file. :func:`parse_key` splits such a key into the path of the value
inside the ``[cascade]`` parameters; :func:`get_value` and :func:`with_values`
read and replace values along it.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError

__all__ = [
    "ISOMORPHIC_KEYS",
    "PRESSURES",
    "FreeParameter",
    "default_free",
    "get_value",
    "parse_key",
    "with_values",
]

#: The isomorphic model's pressures (tested against 0 by the likelihood-ratio tests).
PRESSURES = ("external", "mimetic", "normative", "partner_coercion", "compliance")

#: Kinds of isomorphic parameters the likelihood can free, with their natural bounds.
ISOMORPHIC_KEYS: dict[str, tuple[float, float]] = {
    "external": (0.0, 1.0),
    "mimetic": (0.0, math.inf),
    "normative": (0.0, math.inf),
    "uncertainty": (0.0, math.inf),
    "resistant": (0.0, 1.0),
    "partner_coercion": (0.0, 1.0),
    "compliance": (0.0, 1.0),
    "mimetic_threshold": (0.0, 1.0),
}

_TOKEN = re.compile(r"^(?P<name>[A-Za-z_][\w-]*)(?:\[(?P<index>\d+)\])?$")


@dataclass(frozen=True)
class FreeParameter:
    """One free parameter.

    Attributes
    ----------
    key : str
        The dotted scenario key as given (``"cascade.mandates[0].compliance"``).
    path : tuple
        Where the value lives in the ``[cascade]`` parameters (names and list indices).
    kind : str
        The parameter's role: its name, or ``"compliance"`` for a mandate's.
    index : int or None
        The mandate's index for ``"compliance"``.
    low, high : float
        Bounds.

    Examples
    --------
    >>> from diffusion.calibration.params import parse_key
    >>> p = parse_key("cascade.mandates[1].compliance")
    >>> p.path, p.kind, p.index, (p.low, p.high)
    (('mandates', 1, 'compliance'), 'compliance', 1, (0.0, 1.0))
    """

    key: str
    path: tuple[str | int, ...]
    kind: str
    index: int | None = None
    low: float = -math.inf
    high: float = math.inf

    @property
    def is_pressure(self) -> bool:
        """Whether a likelihood-ratio test of this parameter against 0 is a test of a pressure."""
        return self.kind in PRESSURES

    def with_bounds(self, low: float, high: float) -> FreeParameter:
        return FreeParameter(self.key, self.path, self.kind, self.index, float(low), float(high))


def parse_key(key: str) -> FreeParameter:
    """Parse a dotted ``cascade.*`` key into a :class:`FreeParameter` (bounds from its kind).

    Raises
    ------
    ParameterError
        If the key is not a ``cascade.`` key of the form ``cascade.name``,
        ``cascade.name.sub`` or ``cascade.list[i].name``.
    """
    if not isinstance(key, str) or not key.startswith("cascade.") or key.endswith("."):
        raise ParameterError(str(key), "a free parameter is a dotted key of the [cascade] table, "
                             "e.g. \"cascade.mimetic\" or \"cascade.mandates[0].compliance\"")
    path: list[str | int] = []
    for part in key.split(".")[1:]:
        m = _TOKEN.match(part)
        if m is None:
            raise ParameterError(key, f"malformed part {part!r} of the key")
        path.append(m["name"])
        if m["index"] is not None:
            path.append(int(m["index"]))
    names = [p for p in path if isinstance(p, str)]
    kind = names[0]
    index = None
    if kind == "mandates" and len(path) == 3 and isinstance(path[1], int) and path[2] == "compliance":
        kind, index = "compliance", int(path[1])
    elif kind == "partner_coercion" and path[1:] in ([], ["probability"]):
        pass
    elif len(path) != 1:
        kind = ".".join(str(p) for p in path)
    low, high = ISOMORPHIC_KEYS.get(kind, (-math.inf, math.inf))
    return FreeParameter(key, tuple(path), kind, index, low, high)


def get_value(params: Mapping[str, Any], free: FreeParameter) -> Any:
    """The value of ``free`` in the ``[cascade]`` parameters ``params`` (defaults filled in).

    Examples
    --------
    >>> from diffusion.calibration.params import get_value, parse_key
    >>> get_value({"partner_coercion": {"probability": 0.3, "level": 1.0}},
    ...           parse_key("cascade.partner_coercion"))
    0.3
    >>> get_value({"mandates": [{"where": {"region": 1}}]}, parse_key("cascade.mandates[0].compliance"))
    1.0
    """
    node: Any = params
    path = list(free.path)
    if free.kind == "partner_coercion":
        value = params.get("partner_coercion", 0.0)
        return value.get("probability", 1.0) if isinstance(value, Mapping) else value
    for i, part in enumerate(path):
        last = i == len(path) - 1
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            if last and free.kind == "compliance":
                return 1.0
            if last and isinstance(node, Mapping):
                return None
            raise ParameterError(free.key, "not a parameter of the scenario's model") from None
    return node


def with_values(params: Mapping[str, Any], values: Mapping[FreeParameter, Any] | Sequence[
        tuple[FreeParameter, Any]]) -> dict[str, Any]:
    """A deep copy of the ``[cascade]`` parameters with the free parameters set.

    Examples
    --------
    >>> from diffusion.calibration.params import parse_key, with_values
    >>> p = {"mimetic": 0.2, "partner_coercion": {"probability": 0.3, "level": 1.0}}
    >>> with_values(p, [(parse_key("cascade.mimetic"), 0.5),
    ...                 (parse_key("cascade.partner_coercion"), 0.1)])
    {'mimetic': 0.5, 'partner_coercion': {'probability': 0.1, 'level': 1.0}}
    """
    out = copy.deepcopy(dict(params))
    items = values.items() if isinstance(values, Mapping) else values
    for free, value in items:
        if free.kind == "partner_coercion":
            current = out.get("partner_coercion", 0.0)
            if isinstance(current, Mapping):
                out["partner_coercion"] = {**current, "probability": value}
            else:
                out["partner_coercion"] = value
            continue
        node: Any = out
        for part in free.path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                raise ParameterError(free.key, "not a parameter of the scenario's model") from None
        try:
            node[free.path[-1]] = value
        except (IndexError, TypeError):
            raise ParameterError(free.key, "not a parameter of the scenario's model") from None
    return out


def default_free(params: Mapping[str, Any]) -> list[str]:
    """The isomorphic model's pressures that are non-zero in ``params``, as dotted keys.

    External (when a scalar), mimetic, normative, partner coercion and each
    mandate's compliance.

    Examples
    --------
    >>> from diffusion.calibration.params import default_free
    >>> default_free({"external": 0.01, "mimetic": 0.3, "normative": 0.0})
    ['cascade.external', 'cascade.mimetic']
    """
    out = []
    for name in ("external", "mimetic", "normative"):
        v = params.get(name, 0.0)
        if isinstance(v, int | float) and not isinstance(v, bool) and v != 0:
            out.append(f"cascade.{name}")
    pc = get_value(params, parse_key("cascade.partner_coercion"))
    if isinstance(pc, int | float) and pc:
        out.append("cascade.partner_coercion")
    for i, m in enumerate(params.get("mandates", []) or []):
        if isinstance(m, Mapping) and m.get("compliance", 1.0):
            out.append(f"cascade.mandates[{i}].compliance")
    return out
