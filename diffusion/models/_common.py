"""Helpers shared by model implementations (per-node values; the parameter checks of
:mod:`diffusion.validation`, re-exported here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..distributions import Distribution, is_distribution, parse_distribution
from ..errors import ParameterError
from ..network import Network
from ..validation import check_number, check_probability

__all__ = ["NodeValue", "check_number", "check_probability", "frontier_arcs", "node_value"]


class NodeValue:
    """A per-node parameter: scalar, array of length n, attribute name, or distribution.

    Every form is checked against the range ``[low, high]``: a scalar, each
    entry of an array or attribute, and a distribution's values (see
    :mod:`diffusion.distributions`), whose draws are then clipped to ``clip``.

    ``resolve(network)`` turns it into a float array of length ``n`` (or keeps the
    distribution); ``draw(rngs, n)`` gives an ``(R, n)`` array or ``(n,)`` array.
    """

    def __init__(self, name: str, value: Any, low: float | None = None, high: float | None = None,
                 clip: tuple[float, float] | None = None) -> None:
        self.name, self.low, self.high = name, low, high
        self.value: Any
        if is_distribution(value):
            self.value = parse_distribution(value, name, clip, low=low, high=high)  # type: ignore[arg-type]
        elif isinstance(value, str):
            self.value = value
        elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | Mapping):
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim != 1:
                raise ParameterError(name, "a per-node array must be one-dimensional")
            self._check_array(arr)
            self.value = arr
        else:
            self.value = check_number(name, value, low, high)

    def _check_array(self, arr: np.ndarray) -> None:
        if not np.all(np.isfinite(arr)):
            raise ParameterError(self.name, "contains non-finite values")
        if self.low is not None and arr.size and arr.min() < self.low:
            raise ParameterError(self.name, f"values must be >= {self.low}")
        if self.high is not None and arr.size and arr.max() > self.high:
            raise ParameterError(self.name, f"values must be <= {self.high}")

    @property
    def is_random(self) -> bool:
        return isinstance(self.value, Distribution)

    def resolve(self, network: Network) -> float | np.ndarray | Distribution:
        """Scalar, per-node array, or the distribution (drawn later per replicate)."""
        v = self.value
        if isinstance(v, str):
            col = network.attribute(v)
            if not np.issubdtype(col.dtype, np.number):
                raise ParameterError(self.name, f"node attribute {v!r} is not numeric")
            arr = col.astype(np.float64)
            self._check_array(arr)
            return arr
        if isinstance(v, np.ndarray):
            if v.shape != (network.n,):
                raise ParameterError(self.name, f"has {v.size} values but the network has {network.n} nodes")
            return v
        return v

    def to_param(self) -> Any:
        v = self.value
        if isinstance(v, Distribution):
            return v.to_dict()
        if isinstance(v, np.ndarray):
            return v
        return v


def draw_node_values(value: float | np.ndarray | Distribution, rngs: Sequence[np.random.Generator],
                     n: int) -> np.ndarray:
    """An ``(R, n)`` (random) or broadcastable ``(n,)``/scalar array of per-node values."""
    if isinstance(value, Distribution):
        out = np.empty((len(rngs), n))
        for r, g in enumerate(rngs):
            out[r] = value.sample(g, n)
        return out
    return np.asarray(value, dtype=np.float64)


def node_value(name: str, value: Any, **kw: Any) -> NodeValue:
    return NodeValue(name, value, **kw)


def frontier_arcs(indptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arc positions of the out-edges of ``nodes``, and which entry of ``nodes`` owns each.

    Vectorized expansion of the CSR ranges ``indptr[v] .. indptr[v + 1]``.
    """
    starts = indptr[nodes]
    lengths = indptr[nodes + 1] - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(nodes)), lengths)
    if total == 0:
        return np.empty(0, dtype=np.int64), owner
    offsets = np.cumsum(lengths) - lengths
    arcs = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)
    return arcs, owner
