"""Linear threshold model (Granovetter 1978; Watts 2002; Centola's complex contagion)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ..distributions import Distribution
from ..engine import Model, State, step_dtype
from ..errors import ParameterError
from ..network import Network
from ._common import NodeValue, draw_node_values

__all__ = ["LinearThreshold"]


@dataclass
class _LTContext:
    pull: sp.csr_array  # rows = in-neighbours: pull[i, j] = w_ji
    denom: np.ndarray  # in-strength (fraction rule) per node
    threshold: float | np.ndarray | Distribution


@dataclass
class _LTState(State):
    received: np.ndarray  # (R, n) influence received from adopted in-neighbours
    theta: np.ndarray  # (R, n) or (n,) or scalar


class LinearThreshold(Model):
    """Linear threshold adoption: adopt once enough in-neighbours have adopted.

    Node ``i`` adopts at step ``t + 1`` if, among its in-neighbours, the
    (weighted) fraction that adopted by step ``t`` is at least ``θ_i``
    (``rule="fraction"``), or if at least ``k_i`` of them have (``rule="count"``,
    complex contagion; weighted sums when ``weighted``). Adoption is permanent;
    updates are synchronous.

    Parameters
    ----------
    threshold : float, array, str or dict, default 0.5
        ``θ`` (fraction rule, in [0, 1]) or ``k`` (count rule, >= 0): a scalar,
        a per-node array, the name of a numeric node attribute, or a
        distribution drawn per node and replicate, e.g.
        ``{"distribution": "uniform", "low": 0.0, "high": 1.0}`` or
        ``{"distribution": "normal", "mean": 0.2, "sd": 0.05}`` (clipped to [0, 1]
        under the fraction rule).
    rule : {"fraction", "count"}, default "fraction"
    weighted : bool, default True
        Use edge weights (when the network has them) in the sums.

    Notes
    -----
    A node with no in-neighbours has adopted fraction 0, so it adopts at step 1
    only if its threshold is 0 (Watts's "innately active" nodes).

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.Network.from_edges(4, [0, 1, 2], [1, 2, 3])   # a path
    >>> res = diffusion.simulate(net, diffusion.LinearThreshold(0.5), initial=[0], runs=1, seed=0)
    >>> res.adoption_step[0].tolist()
    [0, 1, 2, 3]
    """

    name: ClassVar[str] = "linear_threshold"

    def __init__(self, threshold: Any = 0.5, *, rule: str = "fraction", weighted: bool = True) -> None:
        if rule not in ("fraction", "count"):
            raise ParameterError("rule", f"must be 'fraction' or 'count', got {rule!r}")
        self.rule = rule
        self.weighted = bool(weighted)
        if rule == "fraction":
            self._threshold = NodeValue("threshold", threshold, 0.0, 1.0, clip=(0.0, 1.0))
        else:
            self._threshold = NodeValue("threshold", threshold, 0.0, None, clip=(0.0, np.inf))

    @property
    def threshold(self) -> Any:
        return self._threshold.value

    def params(self) -> dict[str, Any]:
        return {"threshold": self._threshold.to_param(), "rule": self.rule, "weighted": self.weighted}

    def prepare(self, network: Network) -> _LTContext:
        rev = network.reverse
        weighted = self.weighted and network.weights is not None
        pull = rev.to_scipy(weighted=weighted)
        denom = network.in_strength if weighted else network.in_degree.astype(np.float64)
        return _LTContext(pull, np.asarray(denom, dtype=np.float64), self._threshold.resolve(network))

    def start(self, ctx: _LTContext, network: Network, seeds: Sequence[np.ndarray],
              rngs: list[np.random.Generator], max_steps: int | None) -> _LTState:
        R, n = len(rngs), network.n
        adopted_at = np.full((R, n), -1, dtype=step_dtype(max_steps))
        for r, s in enumerate(seeds):
            adopted_at[r, s] = 0
        theta = draw_node_values(ctx.threshold, rngs, n)
        received = (ctx.pull @ (adopted_at == 0).T.astype(np.float64)).T.copy()
        count = np.count_nonzero(adopted_at >= 0, axis=1).astype(np.int64)
        # step 1 is always evaluated: nodes with threshold 0 adopt without neighbours
        return _LTState(adopted_at, count, np.ones(R, dtype=bool), rngs, received, theta)

    def step(self, ctx: _LTContext, network: Network, state: _LTState, t: int) -> np.ndarray:
        if self.rule == "fraction":
            with np.errstate(divide="ignore", invalid="ignore"):
                level = np.where(ctx.denom > 0, state.received / ctx.denom, 0.0)
        else:
            level = state.received
        new = (state.adopted_at < 0) & (level >= state.theta) & state.active[:, None]
        state.adopted_at[new] = t
        changed = new.any(axis=1)
        if changed.any():
            state.received += (ctx.pull @ new.T.astype(np.float64)).T
        state.count += np.count_nonzero(new, axis=1)
        state.active = changed
        return changed
