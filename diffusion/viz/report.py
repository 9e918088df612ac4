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
    series = getattr(sim, "series", {}) or {}
    if "shares" in series and getattr(series["shares"], "ndim", 0) == 3:
        names = (getattr(sim, "params", {}) or {}).get("platforms")
        fig = figures.platform_shares(series["shares"], names, title=f"{name}: platforms",
                                      concentration=series.get("hhi"))
        files += figures.save_figure(fig, out / "platforms")
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
