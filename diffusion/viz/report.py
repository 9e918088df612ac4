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

from . import figures
from .html import ReducedViewWarning, to_html

__all__ = ["find_shock", "write_figures", "write_network_html"]


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

    Parameters
    ----------
    result : ScenarioResult or SimulationResult
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
    >>> sorted(write_figures(res, tempfile.mkdtemp()))
    ['adoption.png', 'adoption.svg']
    """
    out = Path(out_dir)
    sim = _simulation(result)
    name = title or _name(result) or getattr(sim, "model", None) or "Adoption"
    files: list[Path] = []
    fig = figures.adoption_curve(sim, title=f"{name}: adoption")
    files += figures.save_figure(fig, out / "adoption")
    decl = getattr(sim, "declarations", None)
    if decl is not None:
        files += _declared_figures(sim, decl, out, name)
    extras = getattr(result, "extras", None) or {}
    curve = _records_with(extras, "severity")
    if curve is not None:
        y = "total_loss_mean" if "total_loss_mean" in curve[0] else "loss"
        fig = figures.fragility_curve(curve, y=y, title=f"{name}: fragility",
                                      ylabel="Total loss (share of value)")
        files += figures.save_figure(fig, out / "fragility")
    for value in extras.values():
        if hasattr(value, "summary") and hasattr(value, "records") and hasattr(value, "parameter"):
            short = str(value.parameter).rsplit(".", 1)[-1]
            rows = [dict(r, label=str(r["value"])) for r in value.summary()]
            fig = figures.frontier(rows, x="hhi_mean", y="total_loss_mean", label="label",
                                   title=f"{name}: homogeneity–fragility frontier (points: {short})",
                                   ylabel="Loss from a dominant-platform outage (share of value)")
            files += figures.save_figure(fig, out / "frontier")
            break
    return {p.name: p for p in files}


def _declared_figures(sim: Any, decl: Any, out: Path, name: str) -> list[Path]:
    """Figures chosen from what the result declares (no output is looked up by name).

    Platform shares (role ``"shares"``, with ``"concentration"``) get the
    platform figure; every other series is drawn over time; every run
    category gets a bar chart of its outcomes over replicates; every per-node
    category a bar chart of the mean share of firms in each category.
    """
    files: list[Path] = []
    shares = decl.role("shares")
    conc = decl.role("concentration")
    done = set()
    if shares is not None:
        fig = figures.platform_shares(sim.series[shares.name], list(shares.labels), title=f"{name}: platforms",
                                      concentration=sim.series[conc.name] if conc is not None else None)
        files += figures.save_figure(fig, out / "platforms")
        done |= {shares.name, conc.name if conc is not None else None}
    for o in decl.of_kind("series"):
        if o.name in done:
            continue
        fig = figures.series_paths(sim.series[o.name], o.labels, title=f"{name}: {o.name}",
                                   ylabel=o.description or o.name)
        files += figures.save_figure(fig, out / f"series_{o.name}")
    summary = sim.output_summary()
    for o in decl.of_kind("run_category"):
        fig = figures.category_bars(summary[o.name]["fractions"], title=f"{name}: {o.name}", runs=sim.runs,
                                    ylabel=f"Share of replicates ({o.description or o.name})"[:80])
        files += figures.save_figure(fig, out / f"outcome_{o.name}")
    for o in decl.of_kind("node_category"):
        if o.role == "second_holding" or (o.role == "holding" and shares is not None):
            continue  # a second platform is part of the first; holdings are drawn as shares
        mean = sim.frequencies(o.name).mean(axis=0)
        fig = figures.category_bars(dict(zip(o.labels, mean.tolist(), strict=True)), title=f"{name}: {o.name}",
                                    ylabel="Mean share of firms")
        files += figures.save_figure(fig, out / f"nodes_{o.name}")
    return files


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
