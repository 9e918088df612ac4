"""``diffusion compare``: every policy against the baseline, with common random numbers.

:func:`compare_policies` runs the baseline and every policy on the scenario's
network with the scenario's replicate streams:

* the baseline cascade runs once; in every chunk, right after it, the
  baseline shock and the shock of every policy that changes only the shock
  (decoupling, buffers, interoperability) hit the same cascade state with the
  same draws (:class:`~diffusion.policies.PolicyStage`), so their paired
  differences are exact per replicate;
* a policy that changes the cascade (multihoming, differentiation, share_cap)
  runs the cascade again with the same seeds, then the baseline shock.

Replicate ``r`` of every run draws from child ``r`` of the same streams, so
``D_r = L_r(policy) − L_r(baseline)`` is a paired difference (common random
numbers): its variance ``V(L_p) + V(L_b) − 2 Cov(L_p, L_b)`` is smaller than
the unpaired one whenever the outcomes are positively correlated. The table
reports ``mean(D) ± SE(D)`` and, beside it, the unpaired standard error.

Columns of ``policies.csv`` (one row per policy, the baseline first):
``policy``, ``cost``, ``total_loss_mean``, ``total_loss_se``,
``loss_change_mean``, ``loss_change_se`` (paired), ``failed_fraction_mean``,
``hhi_mean`` (concentration at the end of the cascade), ``loss_averted_per_cost``
(``−loss_change_mean / cost``), then ``loss_change_se_unpaired``,
``loss_change_ci_low`` / ``loss_change_ci_high`` (paired 95 %),
``initial_loss_mean``, ``treated`` (share of firms), ``intervention``; with
``[recovery]``: ``recovered_fraction``, ``time_to_recover_mean`` (over the
replicates that recovered), ``resilience_loss_mean``, ``resilience_loss_se``,
``resilience_loss_change_mean``, ``resilience_loss_change_se`` (paired).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import SimulationResult, simulate
from ..errors import ParameterError, ScenarioError
from ..network import Network
from ..outputs import write_csv, write_json
from ..parallel import available_workers
from ..reductions import ChunkSummary
from ..scenario import Scenario, check_scenario, scenario_errors
from ..shocks.pipeline import criticality, resolve_capacity, resolve_exposure, resolve_value
from ..validation import check_integer
from .build import check_policy, default_cost, model_platforms, policy_model, shock_variant
from .recovery import RecoverySpec
from .spec import Policy, check_policy_names
from .stage import LOSSES, PolicyStage, ShockVariant

__all__ = [
    "PolicyComparison",
    "check_comparison",
    "compare_policies",
    "comparison_runs",
    "criticality_ranking",
    "policy_table",
]

_Z95 = 1.959963984540054


def comparison_runs(scenario: Scenario, policies: Sequence[Policy] | None = None) -> int:
    """Replicates :func:`compare_policies` simulates: the baseline's, plus one ensemble per cascade policy."""
    pols = _policies(scenario, policies)
    return scenario.runs * (1 + sum(p.changes_cascade for p in pols))


def _policies(scenario: Scenario, policies: Iterable[Policy | Mapping[str, Any]] | None) -> tuple[Policy, ...]:
    if policies is None:
        return tuple(scenario.table("policy") or ())
    return tuple(p if isinstance(p, Policy) else Policy.from_dict(p) for p in policies)


def _error(scenario: Scenario, i: int, exc: ParameterError) -> ScenarioError:
    return ScenarioError(exc.reason, path=str(scenario.path) if scenario.path else None,
                         key=f"policy[{i}].{exc.name}")


@dataclass
class PolicyComparison:
    """What :func:`compare_policies` produced.

    Attributes
    ----------
    scenario : Scenario
    policies : tuple of Policy
    table : list of dict
        ``policies.csv``: one row per policy, the baseline first.
    runs : list of dict
        ``policy_runs.csv``: one row per policy and replicate (the paired outcomes).
    summary : dict
        ``policies.json``.
    simulations : dict
        The ensembles run: ``"baseline"`` and one per policy that changes the cascade.
    recovery_paths : list of dict
        ``recovery_paths.csv`` (with ``[recovery]``): per policy and step, the mean
        and 5-95 % band of the value operating.
    timings : dict
        Seconds spent per ensemble (not written).
    ranking : ndarray of shape (n,) or None
        The criticality scores that policies with ``target.by = "criticality"``
        ranked the firms by (see :func:`criticality_ranking`; ``None`` when no
        policy needed them). Pass them to ``compare_policies(ranking=...)`` to
        compare other policies on the same network and shock without
        computing them again.
    """

    scenario: Scenario
    policies: tuple[Policy, ...]
    table: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    summary: dict[str, Any]
    simulations: dict[str, SimulationResult] = field(default_factory=dict)
    recovery_paths: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    ranking: np.ndarray | None = None

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``policies.csv``, ``policy_runs.csv``, ``recovery_paths.csv`` (with a recovery) and
        ``policies.json`` (last), atomically; returns the paths by file name."""
        out = Path(out_dir)
        files = {"policies.csv": write_csv(out / "policies.csv", self.table),
                 "policy_runs.csv": write_csv(out / "policy_runs.csv", self.runs)}
        if self.recovery_paths:
            files["recovery_paths.csv"] = write_csv(out / "recovery_paths.csv", self.recovery_paths)
        files["policies.json"] = write_json(out / "policies.json", self.summary)
        return files

    def to_pandas(self) -> Any:
        """The table as a :class:`pandas.DataFrame` indexed by policy."""
        import pandas as pd

        return pd.DataFrame(self.table).set_index("policy")

    def describe(self) -> list[str]:
        """The table as printable lines."""
        lines = [f"{self.summary['scenario']}: {len(self.policies)} policies against the baseline, "
                 f"{self.summary['runs']} paired replicates (common random numbers)"]
        w = max(len(r["policy"]) for r in self.table)
        lines.append(f"{'policy':<{w}}  {'cost':>6}  {'loss':>6}  {'change ± SE (paired)':>22}  "
                     f"{'unpaired SE':>11}  {'failed':>6}  {'HHI':>5}  {'averted/cost':>12}")
        for r in self.table:
            per = r["loss_averted_per_cost"]
            hhi = r["hhi_mean"]
            lines.append(f"{r['policy']:<{w}}  {r['cost']:>6.3f}  {r['total_loss_mean']:>6.3f}  "
                         f"{r['loss_change_mean']:>+10.4f} ± {r['loss_change_se']:<9.4f}  "
                         f"{r['loss_change_se_unpaired']:>11.4f}  {r['failed_fraction_mean']:>6.3f}  "
                         f"{'' if hhi is None else f'{hhi:.3f}':>5}  {'' if per is None else f'{per:.3f}':>12}")
        return lines


def _stats(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0
    return float(x.mean()), se


def _none(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def policy_table(outcomes: Mapping[str, Mapping[str, np.ndarray | None]], costs: Mapping[str, float],
                 treated: Mapping[str, float] | None = None,
                 interventions: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The comparison table from per-replicate outcomes (the paired statistics of ``policies.csv``).

    Parameters
    ----------
    outcomes : mapping
        Policy name -> ``{"total_loss": (R,), "initial_loss": (R,), "failed_fraction": (R,),
        "hhi": (R,) or None[, "time_to_recover": (R,), "resilience_loss": (R,)]}``; the
        first entry is the baseline.
    costs : mapping
        Policy name -> cost (the baseline's is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.policies import policy_table
    >>> base = {"total_loss": np.array([0.5, 0.7, 0.9]), "initial_loss": np.array([0.5, 0.7, 0.9]),
    ...         "failed_fraction": np.array([0.4, 0.6, 0.8]), "hhi": None}
    >>> pol = dict(base, total_loss=np.array([0.4, 0.6, 0.85]))
    >>> rows = policy_table({"baseline": base, "p": pol}, {"baseline": 0.0, "p": 0.5})
    >>> round(rows[1]["loss_change_mean"], 4), rows[1]["loss_change_se"] < rows[1]["loss_change_se_unpaired"]
    (-0.0833, True)
    """
    names = list(outcomes)
    base = outcomes[names[0]]
    Lb = np.asarray(base["total_loss"], dtype=np.float64)
    R = len(Lb)
    rows = []
    for name in names:
        o = outcomes[name]
        L = np.asarray(o["total_loss"], dtype=np.float64)
        m, se = _stats(L)
        d_m, d_se = _stats(L - Lb)
        unpaired = float(np.sqrt(np.var(L, ddof=1) / R + np.var(Lb, ddof=1) / R)) if R > 1 else 0.0
        cost = float(costs.get(name, 0.0))
        hhi = o.get("hhi")
        row: dict[str, Any] = {
            "policy": name,
            "cost": cost,
            "total_loss_mean": m,
            "total_loss_se": se,
            "loss_change_mean": d_m,
            "loss_change_se": d_se,
            "failed_fraction_mean": float(np.mean(o["failed_fraction"])),
            "hhi_mean": None if hhi is None else float(np.mean(hhi)),
            "loss_averted_per_cost": (-d_m / cost) if cost > 0 else None,
            "loss_change_se_unpaired": unpaired,
            "loss_change_ci_low": d_m - _Z95 * d_se,
            "loss_change_ci_high": d_m + _Z95 * d_se,
            "initial_loss_mean": float(np.mean(o["initial_loss"])),
            "treated": float((treated or {}).get(name, 0.0)),
            "intervention": (interventions or {}).get(name, "none"),
        }
        if "resilience_loss" in o and o["resilience_loss"] is not None:
            t = np.asarray(o["time_to_recover"], dtype=np.float64)
            rl = np.asarray(o["resilience_loss"], dtype=np.float64)
            rl_b = np.asarray(base["resilience_loss"], dtype=np.float64)
            rm, rse = _stats(rl)
            cm, cse = _stats(rl - rl_b)
            row.update({
                "recovered_fraction": float(np.mean(~np.isnan(t))),
                "time_to_recover_mean": _none(float(np.nanmean(t))) if (~np.isnan(t)).any() else None,
                "resilience_loss_mean": rm,
                "resilience_loss_se": rse,
                "resilience_loss_change_mean": cm,
                "resilience_loss_change_se": cse,
            })
        rows.append(row)
    return rows


def criticality_ranking(scenario: Scenario, *, network: Network | None = None, threads: int | None = None,
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
    """The scores that policies with ``target.by = "criticality"`` rank firms by.

    Each firm's score is the loss its own failure causes in the exposure
    network of the scenario's ``[shock]`` table (:func:`~diffusion.shocks.criticality`,
    ``total_loss``: the share of value lost, its own included), with that
    table's exposure, firm values, propagation rule, capacity and round cap.
    :func:`compare_policies` computes it once, before the first simulation,
    when a policy needs it. On a large network with single-hit DebtRank it is
    the longest part of a comparison (every firm's shock reaches every firm
    connected to it), so compute it here when you want to watch it or reuse
    it: ``compare_policies(scenario, ranking=scores)``.

    Parameters
    ----------
    scenario : Scenario
        With a ``[shock]`` table.
    network : Network, optional
        The scenario's network when it is already built (:func:`check_comparison`,
        :func:`~diffusion.scenario.check_scenario`); default: built from the scenario.
    threads : int, optional
        Worker threads (the scores do not depend on them). Default: the cores
        this process may use.
    progress : callable, optional
        Called with the number of firms just scored (in all, the number of firms).

    Returns
    -------
    ndarray of shape (n,)
        In the order of the network's firms.

    Raises
    ------
    ScenarioError
        The scenario has no ``[shock]`` table, or its exposure or value do not fit the network.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.policies import criticality_ranking
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "demo", "seed": 1, "runs": 2},
    ...     "network": {"generator": "smb", "n": 200, "mean_degree": 4.0},
    ...     "cascade": {"model": "platform_competition", "platforms": ["A", "B"]},
    ...     "shock": {"type": "platform_outage", "propagation": "debtrank"}})
    >>> scores = criticality_ranking(sc, threads=1)
    >>> scores.shape, bool((scores > 0).all() and (scores <= 1).all())
    ((200,), True)
    """
    if threads is not None:
        threads = check_integer("threads", threads, 1, strict=True)
    spec = scenario.table("shock")
    if spec is None:
        raise ScenarioError("the criticality ranking needs a [shock] table (its exposure network and values)",
                            path=str(scenario.path) if scenario.path else None, key="shock")
    net = check_scenario(scenario, network)
    with scenario_errors(scenario.path, "shock"):
        W = resolve_exposure(net, dict(spec.exposure))
        v = resolve_value(net, spec.value)
    return _criticality(net, spec, W, v, available_workers() if threads is None else threads, progress)


def _criticality(net: Any, spec: Any, W: Any, v: np.ndarray, threads: int,
                 progress: Callable[[int], None] | None = None) -> np.ndarray:
    """The loss each firm's own failure causes in the baseline's exposure network (``total_loss``)."""
    return criticality(W, v, spec.propagation, capacity=resolve_capacity(net, spec.capacity),
                       max_rounds=spec.max_rounds, threads=threads, progress=progress)["total_loss"]


def _ranking(ranking: Any, n: int) -> np.ndarray:
    """``ranking`` checked: one finite score per firm (a copy, so later changes to it do not reach the result)."""
    try:
        r = np.array(ranking, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("ranking", "must be an array of numbers, one per firm") from None
    if r.shape != (n,):
        raise ParameterError("ranking", f"must have one score per firm ({n}), got shape {r.shape}")
    if not np.isfinite(r).all():
        raise ParameterError("ranking", "must be finite")
    return r


def check_comparison(scenario: Scenario, policies: Iterable[Policy | Mapping[str, Any]] | None = None, *,
                     network: Network | None = None) -> Network:
    """Check the policies and the scenario as :func:`compare_policies` does; return the network.

    The policies (names, interventions against the cascade model and the
    shock, targets against the network's attributes), the presence of a
    ``[shock]`` table and the scenario itself (:func:`~diffusion.scenario.check_scenario`).
    What is left (the shock's exposure and values against the network) is
    checked by :func:`criticality_ranking` and :func:`compare_policies` before
    any long work. Pass the network it returns to both, so that neither
    builds it again. Given ``network`` (the scenario's, already built),
    checks against it instead of building it.

    Raises
    ------
    ScenarioError
        The first invalid input, naming the key (``policy[i].<key>``).

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.policies import check_comparison
    >>> data = {"scenario": {"name": "demo", "seed": 1, "runs": 2},
    ...         "network": {"generator": "smb", "n": 200, "mean_degree": 4.0},
    ...         "cascade": {"model": "platform_competition", "platforms": ["A", "B"]},
    ...         "shock": {"type": "platform_outage"},
    ...         "policy": [{"name": "hubs", "intervention": "buffers", "amount": 1.0,
    ...                     "target": {"by": "turnover", "count": 5}}]}
    >>> check_comparison(diffusion.parse_scenario(data))
    Traceback (most recent call last):
    ...
    diffusion.errors.ScenarioError: policy[0].target.by: the network has no firm attribute 'turnover' ...
    >>> data["policy"][0]["target"]["by"] = "size"
    >>> check_comparison(diffusion.parse_scenario(data)).n
    200
    """
    pols = _policies(scenario, policies)
    where = str(scenario.path) if scenario.path else None
    if not pols:
        raise ScenarioError("no policy to compare: add [[policy]] tables (name, intervention, ...)", path=where,
                            key="policy")
    spec = scenario.table("shock")
    if spec is None:
        raise ScenarioError("comparing policies needs a [shock] table (the shock whose loss they reduce)",
                            path=where, key="shock")
    try:
        check_policy_names(pols)
    except ParameterError as exc:
        raise ScenarioError(exc.reason, path=where, key=f"policy{exc.name}") from None
    for i, p in enumerate(pols):
        try:
            check_policy(p, scenario.cascade, spec)
        except ParameterError as exc:
            raise _error(scenario, i, exc) from None
    net = check_scenario(scenario, network)  # everything that needs the network, before the first simulation
    for i, p in enumerate(pols):
        try:
            p.target.check(net)
        except ParameterError as exc:
            raise _error(scenario, i, exc) from None
    return net


def compare_policies(
    scenario: Scenario,
    policies: Iterable[Policy | Mapping[str, Any]] | None = None,
    *,
    map_chunks: Callable[..., Iterable[ChunkSummary]] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int | None = None,
    threads: int | None = None,
    ranking: Any = None,
    network: Network | None = None,
) -> PolicyComparison:
    """Run the baseline and every policy with common random numbers; return the comparison table.

    Parameters
    ----------
    scenario : Scenario
        With a ``[shock]`` table (and optionally ``[recovery]``); its ``[[policy]]``
        tables are the policies unless ``policies`` is given.
    policies : iterable of Policy or dict, optional
        Policies to compare instead of the scenario's.
    map_chunks : callable, optional
        An executor (see :mod:`diffusion.parallel`); results do not depend on it.
    progress : callable, optional
        Called with the number of replicates just finished (in all,
        :func:`comparison_runs`).
    chunk_size : int, optional
        Replicates per batch (results do not depend on it).
    threads : int, optional
        Threads of the ranking by :func:`~diffusion.shocks.criticality` that a
        policy targeting ``"criticality"`` needs (computed once, before the
        first simulation; the ranking does not depend on it). Default: the
        cores this process may use.
    ranking : array of shape (n,), optional
        Those scores, when already computed (:func:`criticality_ranking`, or
        the ``.ranking`` of an earlier comparison on the same network and
        shock): they are used instead of computing them again.
    network : Network, optional
        The scenario's network when it is already built (:func:`check_comparison`):
        it is checked, not built again. It must be the scenario's own network:
        the targets, the shock and every cascade use it.

    Returns
    -------
    PolicyComparison
        ``.table`` is the ``policies.csv`` table.

    Raises
    ------
    ScenarioError
        Any invalid input, naming the key (``policy[i].<key>``), before the first simulation.

    Examples
    --------
    >>> import diffusion
    >>> from diffusion.policies import compare_policies
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "demo", "seed": 1, "runs": 6, "max_steps": 20},
    ...     "network": {"generator": "smb", "n": 300, "mean_degree": 6.0},
    ...     "cascade": {"model": "platform_competition", "platforms": ["A", "B"], "global_effect": 4.0,
    ...                 "revision_rate": 0.3, "multihoming_cost": 3.0},
    ...     "shock": {"type": "platform_outage", "exposure": {"loss_given_default": 0.3}},
    ...     "policy": [{"name": "interop", "intervention": "interoperability", "level": 0.5},
    ...                {"name": "subsidy", "intervention": "multihoming"}]})
    >>> cmp = compare_policies(sc)
    >>> [r["policy"] for r in cmp.table]
    ['baseline', 'interop', 'subsidy']
    >>> cmp.table[1]["loss_change_mean"] < 0
    True
    """
    if threads is not None:
        threads = check_integer("threads", threads, 1, strict=True)
    pols = _policies(scenario, policies)
    net = check_comparison(scenario, pols, network=network)
    spec = scenario.table("shock")
    recovery: RecoverySpec | None = scenario.table("recovery")
    platforms = model_platforms(scenario.cascade)
    with scenario_errors(scenario.path, "shock"):
        W = resolve_exposure(net, dict(spec.exposure))
        v = resolve_value(net, spec.value)
    if ranking is not None:
        crit = _ranking(ranking, net.n)
    elif any(p.target.needs_criticality for p in pols):
        crit = _criticality(net, spec, W, v, available_workers() if threads is None else threads)
    else:
        crit = None
    masks: dict[str, np.ndarray] = {}
    variants = [ShockVariant("baseline")]
    models = {}
    for i, p in enumerate(pols):
        try:
            mask = p.target.resolve(net, criticality=crit, seed=scenario.seed_sequence(f"policy:{p.name}"))
            masks[p.name] = mask
            if p.changes_cascade:
                models[p.name] = policy_model(p, scenario.cascade, mask, net)
                models[p.name].prepare(net)
            else:
                variants.append(shock_variant(p, mask, net, spec, platforms))
        except ParameterError as exc:
            raise _error(scenario, i, exc) from None

    def stage(names: Sequence[ShockVariant]) -> PolicyStage:
        return PolicyStage(spec.shock, names, exposure=W, propagation=spec.propagation, capacity=spec.capacity,
                           value=v, max_rounds=spec.max_rounds, seed=scenario.seed_sequence("shock"),
                           recovery=recovery, recovery_seed=scenario.seed_sequence("recovery"))

    def run(model: Any, st: PolicyStage) -> SimulationResult:
        with scenario_errors(scenario.path, "cascade"):
            return simulate(net, model, initial=scenario.cascade.initial, runs=scenario.runs,
                            seed=scenario.seed_sequence("cascade"), max_steps=scenario.max_steps, keep="summary",
                            stages=[st], chunk_size=chunk_size, map_chunks=map_chunks, progress=progress)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sims = {"baseline": run(scenario.cascade.build(), stage(variants))}
    timings["baseline"] = time.perf_counter() - t0
    for p in pols:
        if p.changes_cascade:
            t0 = time.perf_counter()
            sims[p.name] = run(models[p.name], stage([ShockVariant(p.name)]))
            timings[p.name] = time.perf_counter() - t0
    # per-replicate outcomes of every policy
    base = sims["baseline"]
    outcomes: dict[str, dict[str, Any]] = {}
    for p_name in ["baseline", *[p.name for p in pols]]:
        sim = sims.get(p_name, base)
        col = sim.declarations["policy_total_loss"].labels.index(p_name)
        o: dict[str, Any] = {k: np.asarray(sim.outputs[f"policy_{k}"])[:, col] for k in LOSSES}
        conc = sim.declarations.role("concentration")
        o["hhi"] = sim.final(conc.name) if conc is not None and conc.kind == "series" else None
        if recovery is not None:
            o["time_to_recover"] = np.asarray(sim.outputs["policy_time_to_recover"])[:, col]
            o["resilience_loss"] = np.asarray(sim.outputs["policy_resilience_loss"])[:, col]
            H = recovery.horizon + 1
            o["path"] = np.asarray(sim.outputs["policy_recovery_path"])[:, col * H:(col + 1) * H]
        outcomes[p_name] = o
    installed = np.asarray(base.outputs["policy_installed"]) if "policy_installed" in base.outputs else None
    costs = {"baseline": 0.0}
    treated = {"baseline": 0.0}
    for p in pols:
        costs[p.name] = default_cost(p, masks[p.name], net, v, spec, installed, platforms)
        treated[p.name] = float(masks[p.name].mean())
    interventions = {"baseline": "none", **{p.name: p.intervention for p in pols}}
    table = policy_table(outcomes, costs, treated, interventions)
    runs: list[dict[str, Any]] = []
    paths: list[dict[str, Any]] = []
    for name, o in outcomes.items():
        for r in range(scenario.runs):
            rec: dict[str, Any] = {"policy": name, "replicate": r}
            rec.update({k: float(o[k][r]) for k in LOSSES})
            rec["hhi"] = None if o["hhi"] is None else float(o["hhi"][r])
            if recovery is not None:
                t = float(o["time_to_recover"][r])
                rec["time_to_recover"] = None if np.isnan(t) else t
                rec["resilience_loss"] = float(o["resilience_loss"][r])
            runs.append(rec)
        if recovery is not None:
            q = np.quantile(o["path"], [0.05, 0.95], axis=0)
            mean = o["path"].mean(axis=0)
            paths += [{"policy": name, "step": t, "value_mean": float(mean[t]), "value_q05": float(q[0, t]),
                       "value_q95": float(q[1, t])} for t in range(len(mean))]
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "runs": scenario.runs,
        "shock": spec.to_dict(),
        "recovery": None if recovery is None else recovery.to_dict(),
        "common_random_numbers": "every policy runs on the same network with the same replicate streams; "
                                 "shock-only policies on the baseline's own cascade",
        "policies": [{**row, "spec": (next(p for p in pols if p.name == row["policy"]).to_dict()
                                      if row["policy"] != "baseline" else None),
                      "description": (next(p for p in pols if p.name == row["policy"]).describe()
                                      if row["policy"] != "baseline" else "no intervention")}
                     for row in table],
    }
    return PolicyComparison(scenario, pols, table, runs, summary, sims, paths, timings,
                            crit if any(p.target.needs_criticality for p in pols) else None)
