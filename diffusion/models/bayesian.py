"""Observational learning and information cascades (Bikhchandani, Hirshleifer & Welch 1992)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._random import uniform_rows
from ..declarations import Declarations, Output
from ..engine import Batch, Model, SimulationResult, State, step_dtype
from ..errors import DiffusionError, ParameterError
from ..network import Network
from ._common import check_number, check_probability, frontier_arcs

__all__ = ["BayesianCascade"]


@dataclass
class _BCContext:
    key: np.ndarray | None  # (n,) ordering attribute, or None for a random order
    in_indptr: np.ndarray  # CSR of in-neighbours (who each firm observes)
    in_indices: np.ndarray


@dataclass
class _BCState(State):
    order: np.ndarray  # (R, m) firms in the order they act (initial adopters excluded)
    pos: int  # next position in ``order``
    action: np.ndarray  # (R, n) int8: 0 not yet acted, +1 adopt, -1 reject
    acted_at: np.ndarray  # (R, n) step at which each firm acted (0: initial adopter, -1: not yet)
    signal: np.ndarray  # (R, n) int8: +1 / -1 private signal
    coin: np.ndarray  # (R, n) int8: +1 / -1 tie-breaking coin
    herd: np.ndarray  # (R, n) bool: the firm's action did not depend on its signal
    truth: np.ndarray  # (R,) int8: +1 adoption is good, -1 bad
    first_herd: np.ndarray  # (R,) step of the first herding firm, -1 none
    first_herd_action: np.ndarray  # (R,) int8 action of that firm (0 none)
    rejected: np.ndarray  # (R,) number of firms that rejected so far


class BayesianCascade(Model):
    """Sequential observational learning on a network (BHW information cascades).

    Firms act one after another (``per_step`` firms per step) in a random
    order or in ascending order of a node attribute. The state of the world is
    ``true_state`` (1: adopting is good, 0: bad). Each firm gets a private
    signal that equals the state with probability ``precision`` and sees the
    actions of its in-neighbours that acted in earlier steps. It counts each
    observed adoption as one signal for "good" and each rejection as one for
    "bad" and acts on the posterior: with ``d`` = (own signal ±1) + (adoptions
    − rejections observed), it adopts if ``d > 0``, rejects if ``d < 0`` and
    flips a fair coin if ``d = 0``.

    On a complete graph this is exactly BHW's Bayesian agent: before a cascade
    every action reveals the actor's signal (or a coin at a tie, which the
    counting matches), and once adoptions lead rejections by two, every later
    firm's action is independent of its signal (a cascade).

    Parameters
    ----------
    precision : float, default 0.7
        Signal precision ``p`` in (0.5, 1].
    true_state : {1, 0, "random"}, default 1
        The true state; ``"random"`` draws it per replicate with probability 1/2.
    order : "random" or str, default "random"
        Acting order: random per replicate, or ascending values of a numeric
        node attribute (``"-size"``: descending, the largest firms first; ties
        in random order).
    per_step : int, default 1
        Firms acting in one step; firms acting in the same step do not see each
        other's actions.

    Notes
    -----
    A firm *herds* when its observed evidence ``|adoptions − rejections| >= 2``:
    its action then does not depend on its signal. A replicate has a cascade if
    some firm herds; the cascade started at the step of the first herding firm
    (``cascade_step``) and is *correct* if the herding firms' majority action
    matches the true state (``cascade`` = 1 correct, −1 wrong, 0 none; at a tie
    the first herding firm's action decides). On a
    complete graph with ``n + 1`` firms, "no herding firm" is exactly BHW's "no
    cascade after ``n`` firms", of probability ``(p − p²)^{n/2}`` for even ``n``.
    Initial adopters (optional) adopt at step 0, are observed like everyone
    else and do not act again. Outputs also include ``action`` ((runs, n)
    int8, +1 adopt, −1 reject), ``acted_at`` ((runs, n), the step each firm
    acted), ``herders``, ``correct_fraction`` and ``true_state``.

    Examples
    --------
    >>> import diffusion
    >>> net = diffusion.generators.complete_graph(40)
    >>> res = diffusion.simulate(net, diffusion.BayesianCascade(precision=0.7), runs=200, seed=1)
    >>> int(res.steps.max()), sorted(set(res.outputs["cascade"].tolist()))  # -1 wrong, 1 correct
    (40, [-1, 1])
    """

    name: ClassVar[str] = "bayesian_cascade"
    requires_initial: ClassVar[bool] = False

    def __init__(
        self,
        precision: float = 0.7,
        *,
        true_state: Any = 1,
        order: str = "random",
        per_step: int = 1,
    ) -> None:
        self.precision = check_probability("precision", precision)
        if self.precision <= 0.5:
            raise ParameterError(
                "precision", "must exceed 0.5 (a signal at 0.5 carries no information)"
            )
        if true_state not in (0, 1, "random") or isinstance(true_state, float):
            raise ParameterError("true_state", f"must be 1, 0 or 'random', got {true_state!r}")
        self.true_state = true_state
        if not isinstance(order, str) or not order:
            raise ParameterError("order", "must be 'random' or a node attribute name")
        self.order = order
        self.per_step = int(check_number("per_step", per_step, 1, None, integer=True))

    def memory_per_replicate(self, network: Network, max_steps: int | None) -> tuple[int, int]:
        kept, working = super().memory_per_replicate(network, max_steps)
        return 2 * kept + network.n, working  # acted_at (like adopted_at) and action (int8)

    def params(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "true_state": self.true_state,
            "order": self.order,
            "per_step": self.per_step,
        }

    def prepare(self, network: Network) -> _BCContext:
        key = None
        if self.order != "random":
            attr = self.order[1:] if self.order.startswith("-") else self.order
            try:
                col = network.attribute(attr)
            except DiffusionError as exc:
                raise ParameterError("order", str(exc)) from None
            if not np.issubdtype(col.dtype, np.number):
                raise ParameterError("order", f"node attribute {attr!r} is not numeric")
            key = col.astype(np.float64)
            if self.order.startswith("-"):
                key = -key
        rev = network.reverse
        return _BCContext(key, np.asarray(rev.indptr), np.asarray(rev.indices))

    def start(self, ctx: _BCContext, network: Network, batch: Batch) -> _BCState:
        R, n, rngs, seeds, max_steps = batch.runs, network.n, batch.rngs, batch.seeds, batch.max_steps
        adopted_at = np.full(
            (R, n), -1, dtype=step_dtype(max(max_steps or 0, n // self.per_step + 2))
        )
        action = np.zeros((R, n), dtype=np.int8)
        for r, s in enumerate(seeds):
            adopted_at[r, s] = 0
            action[r, s] = 1
        truth = np.ones(R, dtype=np.int8)
        if self.true_state == 0:
            truth[:] = -1
        elif self.true_state == "random":
            truth = np.array([1 if g.random() < 0.5 else -1 for g in rngs], dtype=np.int8)
        right = uniform_rows(rngs, n) < self.precision
        signal = np.where(right, truth[:, None], -truth[:, None]).astype(np.int8)
        coin = np.where(uniform_rows(rngs, n) < 0.5, 1, -1).astype(np.int8)
        m = n - (len(seeds[0]) if len(seeds) else 0)
        order = np.empty((R, m), dtype=np.int64)
        for r, g in enumerate(rngs):
            free = np.ones(n, dtype=bool)
            free[seeds[r]] = False
            tie = g.random(n)
            idx = (
                np.lexsort((tie, ctx.key))
                if ctx.key is not None
                else np.argsort(tie, kind="stable")
            )
            order[r] = idx[free[idx]]
        count = np.count_nonzero(action > 0, axis=1).astype(np.int64)
        return _BCState(
            adopted_at,
            count,
            np.full(R, m > 0),
            rngs,
            order=order,
            pos=0,
            action=action,
            acted_at=adopted_at.copy(),
            signal=signal,
            coin=coin,
            herd=np.zeros((R, n), dtype=bool),
            truth=truth,
            first_herd=np.full(R, -1, dtype=np.int64),
            first_herd_action=np.zeros(R, dtype=np.int8),
            rejected=np.zeros(R, dtype=np.int64),
        )

    def step(self, ctx: _BCContext, network: Network, state: _BCState, t: int) -> np.ndarray:
        R, m = state.order.shape
        stop = min(state.pos + self.per_step, m)
        actors = state.order[:, state.pos : stop]  # (R, b)
        state.pos = stop
        b = actors.shape[1]
        rep = np.repeat(np.arange(R), b)
        node = actors.ravel()
        arcs, owner = frontier_arcs(ctx.in_indptr, node)
        seen = state.action[rep[owner], ctx.in_indices[arcs]].astype(np.int64)
        evidence = np.bincount(owner, weights=seen, minlength=len(node)).astype(np.int64)
        d = evidence + state.signal[rep, node]
        act = np.where(d > 0, 1, np.where(d < 0, -1, state.coin[rep, node])).astype(np.int8)
        state.action[rep, node] = act
        state.acted_at[rep, node] = t
        herd = np.abs(evidence) >= 2
        state.herd[rep, node] = herd
        hr = np.nonzero(herd)[0]
        fresh_rep, first_idx = np.unique(rep[hr], return_index=True)  # first herder per replicate
        fresh = state.first_herd[fresh_rep] < 0
        state.first_herd[fresh_rep[fresh]] = t
        state.first_herd_action[fresh_rep[fresh]] = act[hr[first_idx[fresh]]]
        adopt = act > 0
        state.adopted_at[rep[adopt], node[adopt]] = t
        state.count += np.bincount(rep[adopt], minlength=R)
        state.rejected += np.bincount(rep[~adopt], minlength=R)
        state.active[:] = stop < m
        return np.ones(R, dtype=bool)

    def declare(self) -> Declarations:
        return Declarations([
            Output.node_category("action", ("reject", "not acted", "adopt"), "each firm's action "
                                 "(-1 reject, 0 not acted yet, 1 adopt)", start=-1),
            Output.node_value("acted_at", "step at which each firm acted (-1: not yet)", integer=True,
                              missing=-1),
            Output.run_category("cascade", ("wrong", "none", "correct"), "the herd's direction relative "
                                "to the true state (-1 wrong, 0 no cascade, 1 correct)", start=-1,
                                role="outcome"),
            Output.run_value("cascade_step", "step of the first firm whose action no longer depended on "
                             "its signal (-1: none)"),
            Output.run_value("herders", "firms whose action did not depend on their signal"),
            Output.run_value("correct_fraction", "share of acting firms that chose the right action"),
            Output.run_category("true_state", ("bad", "good"), "whether adoption was the right action"),
            Output.series("rejected", "firms that rejected so far"),
        ])

    def observe(self, ctx: _BCContext, network: Network, state: _BCState) -> dict[str, np.ndarray]:
        return {"rejected": state.rejected.copy()}

    def outputs(self, ctx: _BCContext, network: Network, state: _BCState) -> dict[str, np.ndarray]:
        herd_act = np.where(state.herd, state.action, 0).astype(np.int64)
        lean = herd_act.sum(axis=1)
        herders = np.count_nonzero(state.herd, axis=1)
        # direction of the herd: the herding firms' majority action, the first herder's at a tie
        direction = np.where(lean != 0, np.sign(lean), state.first_herd_action)
        cascade = np.where(herders > 0, direction * state.truth, 0).astype(np.int8)
        acted = np.count_nonzero(state.action, axis=1)
        correct = np.count_nonzero(state.action == state.truth[:, None], axis=1)
        return {
            "cascade": cascade,
            "cascade_step": state.first_herd.copy(),
            "herders": herders.astype(np.int64),
            "correct_fraction": correct / np.maximum(acted, 1),
            "true_state": (state.truth > 0).astype(np.int8),
            "action": state.action,
            "acted_at": state.acted_at,
        }

    def summarize(self, result: SimulationResult) -> dict[str, Any]:
        c = result.outputs["cascade"]
        step = result.outputs["cascade_step"]
        has = c != 0
        return {
            "cascades": {
                "correct": float(np.mean(c == 1)),
                "wrong": float(np.mean(c == -1)),
                "none": float(np.mean(c == 0)),
                "step_mean": float(step[has].mean()) if has.any() else None,
                "correct_fraction_mean": float(result.outputs["correct_fraction"].mean()),
            }
        }

    @classmethod
    def describe(cls, summary: Mapping[str, Any]) -> list[str]:
        """The cascades line of ``diffusion run``: how often a correct, wrong or no cascade formed."""
        c = summary["cascade"].get("cascades")
        if not isinstance(c, Mapping):
            return []
        line = (f"cascades (the herd's direction against the true state): correct {c['correct']:.0%}, "
                f"wrong {c['wrong']:.0%}, none {c['none']:.0%} of runs")
        if c.get("step_mean") is not None:
            line += f"; herding from step {c['step_mean']:.1f} on average (runs with a cascade)"
        lines = [line]
        if c.get("correct_fraction_mean") is not None:
            lines.append(f"firms that chose the right action: {c['correct_fraction_mean']:.1%} of acting firms "
                         "(mean over runs)")
        return lines
