"""Figures and the HTML view of a finished scenario run, as ``diffusion run`` writes them.

:func:`write_figures` picks the figures a run supports (the adoption curve
always; platform shares and concentration when the model has platforms; the
fragility curve and the homogeneity–fragility frontier when a shock stage or
a sweep left their records) and :func:`write_network_html` exports the
network with the cascade (and a shock outcome, when present).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import figures
from .html import ReducedViewWarning, to_html

__all__ = ["find_shock", "write_figures", "write_network_html", "write_sweep_figure"]


def _simulation(result: Any) -> Any:
    return getattr(result, "simulation", result)


def _name(result: Any) -> str | None:
    sc = getattr(result, "scenario", None)
    return getattr(sc, "name", None)


def find_shock(result: Any) -> Any:
    """The per-firm shock outcome a run left in its extras (a propagation result), or ``None``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> find_shock(SimpleNamespace(extras={"fragility_curve": []})) is None
    True
    """
    extras = getattr(result, "extras", None) or {}
    for value in extras.values():
        if getattr(value, "failed", None) is not None and getattr(value, "distress", None) is not None:
            return value
        if isinstance(value, Mapping) and ("failed_round" in value or "loss" in value) \
                and not isinstance(value.get("loss"), int | float):
            return value
    return None


def _records_with(extras: Mapping[str, Any], key: str) -> list[dict[str, Any]] | None:
    for value in extras.values():
        if isinstance(value, list) and value and isinstance(value[0], Mapping) and key in value[0]:
            return value
    return None


def write_figures(result: Any, out_dir: str | os.PathLike[str], *, title: str | None = None) -> dict[str, Path]:
    """Write every figure ``result`` supports into ``out_dir`` (PNG and SVG).

    What is drawn follows from what the result is, read from its declared
    outputs and their roles (never from output names):

    - ``adoption`` always; with the single replicates drawn too, and
      ``final_sizes`` (a histogram of where the replicates end) whenever
      outcomes spread (:func:`~diffusion.viz.figures.outcomes_spread`);
    - ``platforms`` for a model with platform shares (role ``"shares"``, with
      ``"concentration"`` and ``"winner"``); ``adoptions_by_cause`` for
      adoptions attributed to causes (role ``"by_cause"``); ``outcome_<name>``
      for every run category, the headline outcome (role ``"outcome"``) first;
      ``series_<name>`` for the other series; ``distributions`` for the
      numeric run outputs that vary across replicates; ``nodes_<name>`` for
      per-node categories not drawn otherwise;
    - ``fragility``, ``frontier`` and ``robustness`` for a fragility report.

    Parameters
    ----------
    result : ScenarioResult, FragilityReport or SimulationResult
        A finished run.
    out_dir : path-like
        Directory for the figures (created if needed).
    title : str, optional
        Figure titles (default: the scenario name, else the model).

    Returns
    -------
    dict of str to Path
        Files written, by file name.

    Examples
    --------
    >>> import tempfile, diffusion
    >>> from diffusion.viz.report import write_figures
    >>> net = diffusion.generators.erdos_renyi(100, mean_degree=4, seed=1)
    >>> res = diffusion.simulate(net, diffusion.IndependentCascade(0.3), initial=3, runs=5, seed=2)
    >>> sorted(write_figures(res, tempfile.mkdtemp()))  # the replicates end far apart: a histogram too
    ['adoption.png', 'adoption.svg', 'final_sizes.png', 'final_sizes.svg']
    """
    out = Path(out_dir)
    sim = _simulation(result)
    name = title or _name(result) or getattr(sim, "model", None) or "Adoption"
    files: list[Path] = []
    if sim is not None:
        spread = figures.outcomes_spread(sim.final_fraction)
        fig = figures.adoption_curve(sim, title=f"{name}: adoption", paths=100 if spread else 0)
        files += figures.save_figure(fig, out / "adoption")
        if spread:
            fig = figures.final_sizes(sim, title=f"{name}: final size of each replicate")
            files += figures.save_figure(fig, out / "final_sizes")
        decl = getattr(sim, "declarations", None)
        if decl is not None:
            files += _declared_figures(sim, decl, out, name)
    extras = getattr(result, "extras", None) or {}
    curve = _records_with(extras, "severity")
    if curve is not None:
        y = "total_loss_mean" if "total_loss_mean" in curve[0] else "loss"
        fig = figures.fragility_curve(curve, y=y, title=f"{name}: fragility",
                                      ylabel="Total loss (share of value)",
                                      initial="initial_loss" if "initial_loss" in curve[0] else None)
        files += figures.save_figure(fig, out / "fragility")
    for value in extras.values():
        if hasattr(value, "summary") and hasattr(value, "records") and hasattr(value, "parameter"):
            files += _frontier_figure(value, out, name)
            break
    rob = getattr(result, "robustness", None)
    if rob:
        fig = figures.robustness_curves(rob, title=f"{name}: robustness of the firm network")
        files += figures.save_figure(fig, out / "robustness")
    return {p.name: p for p in files}


def _frontier_figure(front: Any, out: Path, name: str) -> list[Path]:
    short = str(front.parameter).rsplit(".", 1)[-1]
    rows = [dict(r, label=str(r["value"])) for r in front.summary()]
    keys = set(rows[0]) if rows else set()
    also = {"systemic_loss_mean": "systemic loss\n(beyond the initial hit)"} \
        if "systemic_loss_mean" in keys else None
    risk = {k: v for k, v in (("direct_risk_mean", "direct risk: expected hit\nif a random platform fails"),
                              ("individual_failure_probability_mean",
                               "failure probability\nif a random platform fails")) if k in keys}
    runs = None
    recs = getattr(front, "records", None)
    if recs and rows:
        runs = sum(1 for r in recs if r.get("value") == rows[0]["value"])
    fig = figures.frontier(rows, x="hhi_mean", y="total_loss_mean", label="label",
                           title=f"{name}: homogeneity–fragility frontier",
                           ylabel="total loss from the\ndominant platform's outage", also=also,
                           risk=risk or None, runs=runs, point_name=f"value of {front.parameter}",
                           label_name=f"the value of {short}")
    return figures.save_figure(fig, out / "frontier")


def _declared_figures(sim: Any, decl: Any, out: Path, name: str) -> list[Path]:
    """Figures chosen from what the result declares (no output is looked up by name).

    Platform shares (role ``"shares"``, with ``"concentration"`` and
    ``"winner"``) get the platform figure; adoptions by cause (``"by_cause"``)
    a stacked area; every other series is drawn over time; every run category
    gets a bar chart of its outcomes over replicates (the ``"outcome"`` first);
    the numeric run outputs that vary, one panel each of a histogram; every
    per-node category not drawn otherwise a bar chart of the mean share of
    firms in each category.
    """
    files: list[Path] = []
    shares = decl.role("shares")
    conc = decl.role("concentration")
    win = decl.role("winner")
    by_cause = decl.role("by_cause")
    done: set[str | None] = set()
    if shares is not None:
        winner = None
        if win is not None and win.name in sim.run_values:
            codes = np.asarray(sim.run_values[win.name])
            index = {int(c): (list(shares.labels).index(lab) if lab in shares.labels else -1)
                     for c, lab in zip(win.codes, win.labels, strict=True)}
            winner = np.array([index.get(int(c), -1) for c in codes.tolist()], dtype=np.int64)
        fig = figures.platform_shares(sim.series[shares.name], list(shares.labels), title=f"{name}: platforms",
                                      concentration=sim.series[conc.name] if conc is not None else None,
                                      winner=winner)
        files += figures.save_figure(fig, out / "platforms")
        done |= {shares.name, conc.name if conc is not None else None}
    if by_cause is not None and by_cause.name in sim.step_series:
        fig = figures.cause_areas(sim.series[by_cause.name], list(by_cause.labels), n=sim.n,
                                  title=f"{name}: {by_cause.description or 'adoptions by cause'}")
        files += figures.save_figure(fig, out / "adoptions_by_cause")
        done.add(by_cause.name)
    for o in decl.of_kind("series"):
        if o.name in done:
            continue
        fig = figures.series_paths(sim.series[o.name], o.labels, title=f"{name}: {o.name}",
                                   ylabel=o.description or o.name)
        files += figures.save_figure(fig, out / f"series_{o.name}")
    summary = sim.output_summary()
    cats = sorted(decl.of_kind("run_category"), key=lambda o: o.role != "outcome")
    for o in cats:
        fig = figures.category_bars(summary[o.name]["fractions"], title=f"{name}: {o.name}", runs=sim.runs,
                                    caption=f"Bars: share of the {sim.runs} replicates by "
                                            f"{o.description or o.name}")
        files += figures.save_figure(fig, out / f"outcome_{o.name}")
    values = {}
    for o in decl.of_kind("run_value"):
        v = np.asarray(sim.run_values.get(o.name, []), dtype=np.float64)
        if v.ndim == 1 and len(v) > 1 and np.isfinite(v).any() and np.nanmax(v) > np.nanmin(v):
            values[o.name] = (v, o.description)
    if values:
        fig = figures.run_distributions(values, title=f"{name}: per-replicate outputs")
        files += figures.save_figure(fig, out / "distributions")
    for o in decl.of_kind("node_category"):
        if o.role == "second_holding" or (o.role == "holding" and shares is not None) \
                or (o.role == "cause" and by_cause is not None):
            continue  # a second platform is part of the first; holdings as shares; causes over time
        mean = sim.frequencies(o.name).mean(axis=0)
        fig = figures.category_bars(dict(zip(o.labels, mean.tolist(), strict=True)), title=f"{name}: {o.name}",
                                    ylabel="Mean share of firms",
                                    caption=f"Bars: share of firms in each category of {o.name} "
                                            f"({o.description or o.name}), mean over {sim.runs} replicates.")
        files += figures.save_figure(fig, out / f"nodes_{o.name}")
    return files


def write_sweep_figure(database: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                       title: str | None = None) -> dict[str, Path]:
    """Draw a sweep (heat maps over two swept keys, lines over one) into ``out_dir/sweep``.

    The metrics are those of :func:`diffusion.sweep.sweep_points`: the mean
    final share adopted and the share of replicates whose adoption reached
    50 %. Returns the files written (none for a sweep of more than two keys).
    """
    from ..sweep import sweep_points

    keys, rows = sweep_points(database)
    if not rows or not 1 <= len(keys) <= 2:
        return {}
    fig = figures.sweep_map(rows, keys, title=title, runs=rows[0].get("runs"))
    return {p.name: p for p in figures.save_figure(fig, Path(out_dir) / "sweep")}


def write_network_html(result: Any, path: str | os.PathLike[str], *,
                       notify: Callable[[str], None] | None = None, **options: Any) -> Path:
    """Export a finished run's network and cascade (and shock outcome) with :func:`~diffusion.viz.to_html`.

    ``options`` are passed on (``color_by``, ``replicate``, ``max_nodes``, ...);
    the title names the scenario and its seed. With ``notify``, the notes about
    a reduced view go to ``notify(message)`` instead of being warnings.

    Examples
    --------
    >>> import tempfile, pathlib, diffusion
    >>> sc = diffusion.parse_scenario({
    ...     "scenario": {"name": "tiny", "seed": 1, "runs": 2},
    ...     "network": {"generator": "erdos_renyi", "n": 50, "mean_degree": 3.0},
    ...     "cascade": {"model": "independent_cascade", "probability": 0.3, "initial": {"count": 2}}})
    >>> out = write_network_html(diffusion.run_scenario(sc), pathlib.Path(tempfile.mkdtemp()) / "n.html")
    >>> "tiny — seed 1" in out.read_text()
    True
    """
    sim = _simulation(result)
    network = getattr(result, "network", None)
    if network is None:
        raise TypeError("write_network_html needs a scenario result (with its network)")
    sc = getattr(result, "scenario", None)
    options.setdefault("scenario", _name(result))
    if sc is not None and getattr(sc, "seed", None) is not None:
        options.setdefault("seed", sc.seed)
    shock = find_shock(result)
    if shock is not None:
        options.setdefault("shock", shock)
    if notify is None:
        return to_html(network, path, sim, **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReducedViewWarning)
        written = to_html(network, path, sim, **options)
    for w in caught:
        if issubclass(w.category, ReducedViewWarning):
            notify(str(w.message))
        else:  # pragma: no cover - pass anything else on unchanged
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return written
