"""Interactive, self-contained HTML views of a network and its cascade.

:func:`to_html` writes one HTML file that works offline: vis.js (shipped with
pyvis) is inlined, the page's Content-Security-Policy forbids every network
request, and all user-provided text (node ids, labels, attribute names and
values, scenario names) is escaped by the template or shown through
``textContent``. A timeline slider replays the cascade (or a shock's failure
rounds) step by step.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..outputs import write_text
from . import style
from .layout import block_layout, force_layout
from .reduce import group_quotient, largest_firms, subgraph_edges

__all__ = ["COLOR_BY", "ReducedViewWarning", "node_coloring", "to_html"]

#: Built-in colourings (any node attribute name is accepted too).
COLOR_BY = ("adoption", "step", "platform", "failure", "loss", "degree", "none")

ADOPTED = "#0072b2"
INITIAL = "#d55e00"
#: Colour-blind-safe pair (Okabe–Ito): firms the shock itself knocked out, firms the cascade brought down.
FIRST_FAILED = "#1f1f1f"
FAILED = "#e69f00"
BLUES = ("#eef4fa", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
REDS = ("#fff5eb", "#fdd49e", "#fdae6b", "#f16913", "#d94801", "#a63603", "#67000d")
_TEMPLATES = Path(__file__).with_name("templates")


class ReducedViewWarning(UserWarning):
    """The network was too large to draw every node; a reduced view was written."""


@dataclass
class _Outcomes:
    """Per-node outcomes of the drawn nodes (``None`` when absent)."""

    steps: np.ndarray | None = None
    platform: np.ndarray | None = None
    failed_round: np.ndarray | None = None
    loss: np.ndarray | None = None
    platform_history: np.ndarray | None = None  # (T + 1, n): platform after each step
    #: other declared per-node categories: name -> (codes, {code: label}, description)
    categories: dict[str, tuple[np.ndarray, dict[int, str], str]] = field(default_factory=dict)
    #: other declared per-node numbers: name -> (values, description)
    values: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)

    def take(self, idx: np.ndarray) -> _Outcomes:
        return _Outcomes(*(None if a is None else a[idx] for a in
                           (self.steps, self.platform, self.failed_round, self.loss)),
                         None if self.platform_history is None else self.platform_history[:, idx],
                         {k: (c[idx], lab, d) for k, (c, lab, d) in self.categories.items()},
                         {k: (v[idx], d) for k, (v, d) in self.values.items()})


# ------------------------------------------------------------ pure pieces
def _platform_names(params: Mapping[str, Any] | None, k: int) -> dict[int, str]:
    """Display names of platforms ``1..k`` from ``params["platforms"]`` (names or tables)."""
    names: dict[int, str] = {0: "no platform"}
    spec = (params or {}).get("platforms")
    if isinstance(spec, Mapping):
        spec = list(spec)
    if isinstance(spec, list | tuple):
        for j, p in enumerate(spec, start=1):
            name = p.get("name") if isinstance(p, Mapping) else p
            names[j] = str(name if name is not None else j)
    for j in range(1, k + 1):
        names.setdefault(j, f"platform {j}")
    return names


def _status_lines(times: np.ndarray, tmax: int, unit: str, verb: str,
                  total: np.ndarray | None = None) -> list[str]:
    """One status line per time: how many drawn nodes had their event by then."""
    k = len(times)
    ev = times[times >= 0].astype(np.int64)
    cum = np.cumsum(np.bincount(np.clip(ev, 0, tmax), minlength=tmax + 1)) if k else np.zeros(tmax + 1)
    lines = []
    for t in range(tmax + 1):
        c = int(cum[t])
        text = f"{unit} {t} of {tmax}: {c:,} of {k:,} firms {verb} ({100 * c / max(k, 1):.1f} %)"
        if total is not None:
            text += f"; whole network {100 * float(total[min(t, len(total) - 1)]):.1f} %"
        lines.append(text)
    return lines


def node_coloring(
    color_by: str,
    *,
    attributes: Mapping[str, np.ndarray],
    outcomes: _Outcomes,
    degree: np.ndarray,
    platform_names: Mapping[int, str] | None = None,
) -> style.Coloring:
    """Colours, legend and timeline data of the drawn nodes for one colouring.

    ``color_by`` is one of :data:`COLOR_BY` or a node attribute name. The
    timeline replays adoption steps (or failure rounds for ``failure`` and
    ``loss``) when the outcome is known.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.viz.html import _Outcomes
    >>> c = node_coloring("adoption", attributes={}, outcomes=_Outcomes(steps=np.array([0, 2, -1])),
    ...                   degree=np.array([1, 2, 1]))
    >>> [label for label, _ in c.legend], c.times.tolist()
    (['initial adopter', 'adopted', 'not adopted'], [0, 2, -1])
    """
    o = outcomes
    k = len(degree)
    times = o.steps
    counted: np.ndarray | None = None
    pending: np.ndarray | None = None
    gradient = None
    legend: list[tuple[str, str]] = []
    time_label = "step"
    if color_by == "adoption":
        if o.steps is None:
            raise ParameterError("color_by", "'adoption' needs a simulation result")
        colors = np.where(o.steps == 0, INITIAL, np.where(o.steps > 0, ADOPTED, style.EMPTY))
        legend = [("initial adopter", INITIAL), ("adopted", ADOPTED), ("not adopted", style.EMPTY)]
        caption = "Adoption"
    elif color_by == "step":
        if o.steps is None:
            raise ParameterError("color_by", "'step' needs a simulation result")
        smax = max(int(o.steps.max(initial=0)), 1)
        colors = style.sequential_colors(np.where(o.steps >= 0, o.steps, np.nan), 0, smax)
        gradient = {"low": "step 0", "high": f"step {smax}", "colors": list(style.VIRIDIS)}
        legend = [("never adopted", style.EMPTY)]
        caption = "Adoption step"
    elif color_by == "platform":
        if o.platform is None:
            raise ParameterError("color_by", "'platform' needs a result with a 'platform' output")
        kmax = int(o.platform.max(initial=0))
        names = platform_names or _platform_names(None, kmax)
        caption = "Platform"
        if o.platform_history is not None:  # replay the platform each firm held at every step
            hist = np.asarray(o.platform_history, dtype=np.int64)
            values = np.unique(np.concatenate([np.unique(o.platform), np.unique(hist)]))
            table, legend = style.categorical_colors(values, names=names, empty=0)
            colors = table[np.searchsorted(values, o.platform)]
            return style.Coloring(colors=colors, legend=legend, caption=caption,
                                  frames=np.searchsorted(values, hist), palette=table.tolist())
        colors, legend = style.categorical_colors(o.platform, names=names, empty=0)
    elif color_by in ("failure", "loss"):
        if o.failed_round is None and (color_by == "failure" or o.loss is None):
            raise ParameterError("color_by", f"{color_by!r} needs shock results (failed_round, loss)")
        fr = o.failed_round if o.failed_round is not None else np.full(k, -1)
        time_label = "round"
        if color_by == "failure":
            colors = np.where(fr == 0, FIRST_FAILED, np.where(fr > 0, FAILED, style.EMPTY))
            legend = [("hit by the shock (round 0)", FIRST_FAILED), ("failed in the cascade (round 1 on)", FAILED),
                      ("survived", style.EMPTY)]
            caption = "Failure"
            times = fr if o.failed_round is not None else None
            counted = times
        else:
            loss = np.asarray(o.loss, dtype=np.float64)
            colors = style.sequential_colors(loss, 0.0, 1.0, stops=REDS)
            gradient = {"low": "no loss", "high": "total loss", "colors": list(REDS)}
            caption = "Loss (share of each firm's value)"
            # Only failures are timed: partial losses are shown at their final value throughout,
            # and only failures are counted (a survivor with a partial loss did not fail).
            times = np.where(fr >= 0, fr, 0) if o.failed_round is not None else None
            if times is not None:
                counted = fr
                pending = np.where(fr >= 0, style.EMPTY, colors)
                legend = [("fails later in the replay", style.EMPTY)]
    elif color_by == "degree":
        colors = style.sequential_colors(degree.astype(np.float64))
        gradient = {"low": f"degree {int(degree.min(initial=0))}",
                    "high": f"degree {int(degree.max(initial=0))}", "colors": list(style.VIRIDIS)}
        caption = "Degree"
        if o.steps is not None:  # like an attribute: faded until the firm adopts
            pending = style.lighten(colors, 0.8)
            legend = [("faded: not adopted (yet)", style.lighten(np.array([ADOPTED]), 0.8)[0])]
    elif color_by in o.categories:  # a per-node category the model declares
        codes, labels, description = o.categories[color_by]
        colors, legend = style.categorical_colors(codes, names=labels)
        caption = f"{color_by}: {description}" if description else str(color_by)
    elif color_by in o.values:  # a per-node number the model (or a stage) declares
        x, description = o.values[color_by]
        ok = np.isfinite(x)
        colors = style.sequential_colors(x)
        lo, hi = (x[ok].min(), x[ok].max()) if ok.any() else (np.nan, np.nan)
        gradient = {"low": style.format_value(float(lo)), "high": style.format_value(float(hi)),
                    "colors": list(style.VIRIDIS)}
        legend = [("undefined", style.EMPTY)] if not ok.all() else []
        caption = f"{color_by}: {description}" if description else str(color_by)
    elif color_by == "none":
        colors = np.full(k, ADOPTED if o.steps is None else style.EMPTY, dtype="<U7")
        if o.steps is not None:
            colors = np.where(o.steps >= 0, ADOPTED, style.EMPTY)
            legend = [("adopted", ADOPTED), ("not adopted", style.EMPTY)]
        caption = "Firms"
    else:
        if color_by not in attributes:
            have = ", ".join(sorted(attributes)) or "none"
            declared = ", ".join([*o.categories, *o.values])
            raise ParameterError(
                "color_by", f"unknown colouring {color_by!r}: use one of {', '.join(COLOR_BY)}"
                f"{', a declared output (' + declared + ')' if declared else ''} "
                f"or a node attribute (the network has: {have})")
        values = np.asarray(attributes[color_by])
        if style.is_categorical(values):
            colors, legend = style.categorical_colors(values)
        else:
            x = values.astype(np.float64)
            ok = np.isfinite(x)
            colors = style.sequential_colors(x)
            lo, hi = (x[ok].min(), x[ok].max()) if ok.any() else (np.nan, np.nan)
            gradient = {"low": style.format_value(float(lo)), "high": style.format_value(float(hi)),
                        "colors": list(style.VIRIDIS)}
        caption = str(color_by)
        if o.steps is not None:
            pending = style.lighten(colors, 0.8)
            legend.append(("faded: not adopted (yet)", style.lighten(np.array([ADOPTED]), 0.8)[0]))
    if times is not None and pending is None:
        pending = np.full(k, style.EMPTY, dtype="<U7")
    return style.Coloring(colors=np.asarray(colors), legend=legend, gradient=gradient, caption=caption,
                          times=None if times is None else np.asarray(times, dtype=np.int64),
                          pending=pending, time_label=time_label,
                          counted=None if counted is None else np.asarray(counted, dtype=np.int64))


def _shock_arrays(shock: Any, replicate: int, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(failed_round, loss)`` of one replicate from a shock result, a mapping or None."""
    if shock is None:
        return None, None
    if (not isinstance(shock, Mapping) and getattr(shock, "failed", None) is not None
            and getattr(shock, "distress", None) is not None):
        # A propagation result: loss = final distress. Without per-node rounds, firms the
        # shock itself knocked out fail in round 0 and every other failure shows at round 1.
        rounds = getattr(shock, "failed_round", None)
        if rounds is None:
            failed = np.asarray(shock.failed, dtype=bool)
            first = np.asarray(getattr(shock, "initial", np.zeros(failed.shape)), dtype=np.float64) >= 1.0
            rounds = np.where(failed, np.where(first, 0, 1), -1)
        shock = {"failed_round": rounds, "loss": shock.distress}
    out = []
    for key in ("failed_round", "loss"):
        if isinstance(shock, Mapping):
            a = shock.get(key)
        else:
            a = getattr(shock, key, None)
            if a is None and isinstance(getattr(shock, "outputs", None), Mapping):
                a = shock.outputs.get(key)
        if a is not None:
            a = np.asarray(a)
            if a.ndim == 2:
                if not 0 <= replicate < a.shape[0]:
                    raise ParameterError("replicate", f"must be in 0..{a.shape[0] - 1}")
                a = a[replicate]
            if a.shape != (n,):
                raise ParameterError(f"shock.{key}", f"must have one value per node ({n}), got {a.shape}")
        out.append(a)
    if out[0] is None and out[1] is None:
        raise ParameterError("shock", "needs 'failed_round' and/or 'loss' per node")
    return out[0], out[1]


def _outcomes(network: Network, result: Any, shock: Any, replicate: int) -> tuple[_Outcomes, dict[int, str]]:
    """The drawn replicate's per-node outcomes, picked from what the result declares.

    The output with the role ``"holding"`` gives the platform colouring (its
    labels the names), ``"holding_history"`` the platform replay, a stage's
    ``"failed_round"`` / ``"distress"`` the failure and loss colourings; every
    other declared per-node category or number becomes a colouring of its own.
    """
    n = network.n
    o = _Outcomes()
    names: dict[int, str] = {0: "no platform"}
    if result is not None:
        if isinstance(replicate, bool) or not 0 <= int(replicate) < result.runs:
            raise ParameterError("replicate", f"must be in 0..{result.runs - 1}, got {replicate!r}")
        view = result.replicate(int(replicate))  # NotKeptError says how to keep it
        steps = np.asarray(view.adoption_step)
        if steps.shape != (n,):
            raise DiffusionError(f"result does not match the network: {steps.shape[0]} nodes, network has {n}")
        o.steps = steps.astype(np.int64)
        decl = result.declarations
        used = set()
        hold = decl.role("holding")
        if hold is not None:
            o.platform = np.asarray(view.outputs[hold.name]).astype(np.int64)
            names = {int(c): (lab if c != 0 else "no platform") for c, lab in zip(hold.codes, hold.labels, strict=True)}
            used.add(hold.name)
            hist = decl.role("holding_history")
            if hist is not None and hist.name in view.series:
                o.platform_history = np.asarray(view.series[hist.name])
        for role, attr in (("failed_round", "failed_round"), ("distress", "loss")):
            out = decl.role(role)
            if out is not None and out.name in view.outputs:
                setattr(o, attr, np.asarray(view.outputs[out.name]))
                used.add(out.name)
        for out in decl.of_kind("node_category"):
            if out.name not in used and out.role != "second_holding" and out.name in view.outputs:
                labels = {int(c): lab for c, lab in zip(out.codes, out.labels, strict=True)}
                o.categories[out.name] = (np.asarray(view.outputs[out.name]).astype(np.int64), labels,
                                          out.description)
        for out in decl.of_kind("node_value"):
            if out.name not in used and out.role != "failed" and out.name in view.outputs:
                v = np.asarray(view.outputs[out.name], dtype=np.float64)
                if out.missing is not None:
                    v = np.where(v == out.missing, np.nan, v)
                o.values[out.name] = (v, out.description)
    if shock is not None:
        o.failed_round, o.loss = _shock_arrays(shock, replicate, n)
    if o.failed_round is not None:
        o.failed_round = o.failed_round.astype(np.int64)
    return o, names


def _tooltip_columns(attrs: Mapping[str, np.ndarray], o: _Outcomes, degree: np.ndarray,
                     names: Mapping[int, str], skip: str | None) -> dict[str, Any]:
    cols: dict[str, Any] = {k: v for k, v in attrs.items() if k != skip}
    cols["degree"] = degree
    if o.steps is not None:
        cols["adopted"] = np.where(o.steps == 0, "initial adopter",
                                   np.where(o.steps > 0, np.char.add("at step ", o.steps.astype(str)), "never"))
    if o.platform is not None:
        cols["platform"] = [names.get(int(p), str(p)) for p in o.platform.tolist()]
    if o.failed_round is not None:
        fr = o.failed_round
        cols["failed"] = np.where(fr >= 0, np.char.add("in round ", fr.astype(str)), "no")
    if o.loss is not None:
        cols["loss"] = o.loss
    for name, (codes, labels, _) in o.categories.items():
        cols[name] = [labels.get(int(c), str(c)) for c in codes.tolist()]
    for name, (x, _) in o.values.items():
        cols[name] = x
    return cols


def _render(context: dict[str, Any]) -> str:
    import jinja2
    import pyvis

    pyvis_templates = Path(pyvis.__file__).with_name("templates")
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(_TEMPLATES),
                                    jinja2.FileSystemLoader(pyvis_templates)]),
        autoescape=True,
    )
    return env.get_template("network.html.j2").render(
        vis_js="lib/vis-9.1.2/vis-network.min.js", vis_css="lib/vis-9.1.2/vis-network.css", **context)


def _vis_network(directed: bool, physics: bool, stabilization: int) -> Any:
    """A pyvis network configured for our page (data are filled in by the caller)."""
    from pyvis.network import Network as PyvisNetwork

    net = PyvisNetwork(height="100%", width="100%", directed=directed, cdn_resources="in_line")
    net.options = {
        "physics": {
            "enabled": physics,
            "solver": "barnesHut",
            "barnesHut": {"gravitationalConstant": -3000, "springLength": 90, "damping": 0.3},
            "stabilization": {"enabled": physics, "iterations": stabilization, "fit": True},
        },
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": True,
                        "navigationButtons": False, "keyboard": False},
        "nodes": {"shape": "dot", "borderWidth": 1, "font": {"size": 12, "face": "sans-serif"},
                  "scaling": {"label": {"enabled": False}}},
        "edges": {"color": {"color": "#b8bec6", "highlight": "#555555", "hover": "#555555"},
                  "smooth": False, "arrows": {"to": {"enabled": directed, "scaleFactor": 0.5}}},
        "layout": {"improvedLayout": False},
    }
    return net


# ------------------------------------------------------------- assembler
def to_html(
    network: Network,
    path: str | os.PathLike[str],
    result: Any = None,
    *,
    color_by: str | None = None,
    size_by: str | None = "auto",
    replicate: int = 0,
    max_nodes: int = 5000,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    shock: Any = None,
    reduce: str = "largest",
    group_by: tuple[str, ...] | None = None,
    label_by: str | None = None,
    physics_max_nodes: int = 1000,
    max_edges: int = 50_000,
    interval_ms: int = 700,
    layout: str = "auto",
) -> Path:
    """Write an interactive, self-contained HTML view of ``network``.

    Nodes are coloured by outcome or attribute, sized by firm size, carry a
    tooltip with the firm's attributes and outcome, and a timeline slider with a
    play button replays the cascade (adoption steps, or failure rounds of a
    shock) step by step. The file has no external resources and works offline.

    Parameters
    ----------
    network : Network
        The graph.
    path : str or path-like
        Output file (written atomically: a temporary file, then a rename).
    result : SimulationResult, optional
        Cascade result whose replicate ``replicate`` is shown (that replicate
        must have been kept: ``simulate(..., keep=[replicate])`` or
        ``keep="replicates"``).
    color_by : str, optional
        ``"adoption"`` (initial / adopted / not), ``"step"`` (adoption step),
        ``"platform"`` (the output the model declares with the role
        ``"holding"``), ``"failure"`` or ``"loss"`` (a shock stage's outputs,
        or ``shock``), ``"degree"``, ``"none"``, the name of any per-node
        output the model declares (e.g. ``"cause"``), or any node attribute
        (e.g. ``"sector"``). Default: ``"platform"`` for a result with
        platforms, ``"adoption"`` for any other result, ``"failure"`` with only
        a shock, else ``"none"``.
    size_by : str or None, default "auto"
        Numeric node attribute (or ``"degree"``) giving node area; ``"auto"``
        uses ``size`` when present, else the degree; ``None``: equal sizes.
    replicate : int, default 0
        Which replicate of ``result`` (and of a 2-D ``shock``) to show.
    max_nodes : int, default 5000
        Largest number of firms drawn one by one. Larger networks get a reduced
        view (see ``reduce``), announced in the page and by a
        :class:`ReducedViewWarning`.
    title : str, optional
        Page title (default: the scenario name or model, and the seed).
    scenario : str, optional
        Scenario name, shown in the default title.
    seed : int, optional
        Seed shown in the title (default: ``result.seed``).
    shock : object or mapping, optional
        Shock outcome with ``failed_round`` (int per node, ``-1`` never) and/or
        ``loss`` (float per node, share of value lost); arrays of shape ``(n,)``
        or ``(runs, n)``.
    reduce : {"largest", "groups"}, default "largest"
        Reduced view above ``max_nodes``: the ``max_nodes`` largest firms and
        the ties among them, or one node per group of firms (``group_by``) with
        adoption shares and the number of ties between groups.
    group_by : tuple of str, optional
        Attributes defining groups for ``reduce="groups"`` (default: whichever
        of ``sector`` and ``region`` the network has).
    label_by : str, optional
        Attribute with node labels (default: ``label``, then ``name``, if present;
        otherwise node ids label graphs of at most 200 nodes).
    physics_max_nodes : int, default 1000
        Above this many drawn nodes the layout is precomputed and vis.js
        physics is off.
    max_edges : int, default 50000
        Most edges drawn (the heaviest are kept; the page says so).
    interval_ms : int, default 700
        Time per step when the timeline plays.
    layout : {"auto", "blocks", "force"}, default "auto"
        ``"blocks"``: firms grouped by sector (rows) × region (columns), one
        disc per group laid out inside it, so that the block structure shows;
        ``"force"``: one force-directed layout of the whole graph; ``"auto"``:
        blocks when the network has ``sector`` and/or ``region`` with 2 to 15
        values each, else force.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ParameterError
        For an unknown colouring, replicate, reduction or bad cap.

    Examples
    --------
    >>> import tempfile, pathlib, diffusion
    >>> from diffusion.viz import to_html
    >>> net = diffusion.generators.watts_strogatz(60, 4, 0.1, seed=1)
    >>> res = diffusion.simulate(net, diffusion.LinearThreshold(0.3), initial=3, runs=2, seed=5)
    >>> out = to_html(net, pathlib.Path(tempfile.mkdtemp()) / "net.html", res, scenario="demo")
    >>> text = out.read_text()
    >>> "vis.Network" in text and "<script src=" not in text
    True
    """
    if not isinstance(network, Network):
        raise DiffusionError(f"network must be a diffusion.Network, got {type(network).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int | np.integer) or max_nodes < 1:
        raise ParameterError("max_nodes", f"must be a positive integer, got {max_nodes!r}")
    if reduce not in ("largest", "groups"):
        raise ParameterError("reduce", f"must be 'largest' or 'groups', got {reduce!r}")
    if layout not in ("auto", "blocks", "force"):
        raise ParameterError("layout", f"must be 'auto', 'blocks' or 'force', got {layout!r}")
    if isinstance(max_edges, bool) or not isinstance(max_edges, int | np.integer) or max_edges < 0:
        raise ParameterError("max_edges", f"must be a non-negative integer, got {max_edges!r}")
    path = Path(path)
    outcomes, pnames = _outcomes(network, result, shock, int(replicate))
    if color_by is None:
        if outcomes.platform is not None:
            color_by = "platform"
        elif outcomes.steps is not None:
            color_by = "adoption"
        else:
            color_by = "failure" if outcomes.failed_round is not None else "none"
    color_by = str(color_by)
    if (color_by not in COLOR_BY and color_by not in network.attributes and color_by not in outcomes.categories
            and color_by not in outcomes.values):
        node_coloring(color_by, attributes=network.attributes, outcomes=outcomes.take(np.zeros(0, np.int64)),
                      degree=np.zeros(0, dtype=np.int64))  # raises the helpful error
    if label_by is None:
        label_by = next((c for c in ("label", "name") if c in network.attributes), None)
    elif label_by not in network.attributes:
        network.attribute(label_by)  # raises with the available names
    if size_by == "auto":
        size_by = "size" if "size" in network.attributes else "degree"
    if size_by is not None and size_by != "degree":
        network.attribute(size_by)

    seed = seed if seed is not None else (getattr(result, "seed", None) if result is not None else None)
    if isinstance(seed, np.random.SeedSequence):
        seed = seed.entropy if not seed.spawn_key else f"{seed.entropy} (stream {'/'.join(map(str, seed.spawn_key))})"
    name = scenario or (getattr(result, "model", None) if result is not None else None) or "Network"
    page_title = title or (f"{name} — seed {seed}" if seed is not None else str(name))
    notices: list[str] = []
    side_notes: list[str] = []
    total_share = None
    if outcomes.steps is not None and result is not None:
        total_share = np.asarray(result.counts)[:, int(replicate)] / max(network.n, 1)

    groups = network.n > max_nodes and reduce == "groups"
    if groups:
        by = tuple(group_by) if group_by else tuple(c for c in ("sector", "region") if c in network.attributes)
        if not by:
            raise ParameterError("reduce", "'groups' needs node attributes to group by (e.g. sector, region)")
        page = _groups_page(network, outcomes, by, color_by, pnames, int(interval_ms))
        msg = (f"The network has {network.n:,} firms, more than max_nodes={max_nodes:,}: showing one node "
               f"per {' × '.join(by)} group ({len(page['nodes']):,} groups), sized by number of firms, "
               "with the ties between groups.")
        notices.append(msg)
        warnings.warn(msg, ReducedViewWarning, stacklevel=2)
        shown_nodes, shown_edges = len(page["nodes"]), len(page["edges"])
        context = page
    else:
        if network.n > max_nodes:
            ranked = str(size_by) if size_by not in (None, "degree") else "degree"
            keep = largest_firms(network, max_nodes, by=ranked)
        else:
            keep = np.arange(network.n)
        src, dst, w = subgraph_edges(network, keep)
        full_m = len(src)
        if len(src) > max_edges:
            order = (np.argsort(-w, kind="stable") if w is not None
                     else np.random.default_rng(0).permutation(len(src)))[:max_edges]
            order.sort()
            src, dst, w = src[order], dst[order], (None if w is None else w[order])
        if network.n > max_nodes:
            msg = (f"The network has {network.n:,} firms, more than max_nodes={max_nodes:,}: showing the "
                   f"{len(keep):,} largest firms (by {ranked}) and the {full_m:,} ties among them.")
            notices.append(msg)
            warnings.warn(msg, ReducedViewWarning, stacklevel=2)
        if full_m > len(src):
            msg = (f"Only the {len(src):,} {'heaviest' if w is not None else 'randomly chosen'} of the "
                   f"{full_m:,} ties between the drawn firms are drawn (max_edges={max_edges:,}).")
            notices.append(msg)
            warnings.warn(msg, ReducedViewWarning, stacklevel=2)
        # a step timeline runs until the drawn replicate stopped changing (not only to its last adoption)
        run_steps = int(np.asarray(result.steps)[int(replicate)]) if result is not None else None
        context = _firms_page(network, keep, src, dst, w, outcomes, color_by, size_by, label_by, pnames,
                              total_share, int(physics_max_nodes), int(interval_ms), layout, run_steps,
                              reduced=network.n > max_nodes)
        shown_nodes, shown_edges = len(keep), len(src)
        block_by = context.pop("block_by")
        if block_by:
            side_notes.append(
                f"Firms are grouped by {' (rows) × '.join(block_by)}{' (columns)' if len(block_by) > 1 else ''}: "
                "one disc per group, its area in proportion to the group's firms; ties between groups run "
                "between the discs.")
        if context.pop("physics_off"):
            side_notes.append("Layout precomputed (physics off); drag to pan, scroll to zoom.")
    parts = []
    if result is not None:
        parts.append(f"model {result.model}")
        parts.append(f"replicate {int(replicate)} of {result.runs}")
    if seed is not None:
        parts.append(f"seed {seed}")
    parts.append(f"{shown_nodes:,} nodes, {shown_edges:,} edges shown")
    units = {v["timeline"]["unit"] for v in context["views"] if v["timeline"]}
    if units:
        what = " or ".join(w for u, w in (("step", "the cascade step by step"),
                                          ("round", "the shock round by round")) if u in units)
        side_notes.append(f"Move the slider or press Play to replay {what}.")
    if len(context["views"]) > 1:
        side_notes.append("Choose what the colours show above the legend.")
    side_notes.append("Hover over a node for its attributes and outcome.")
    html = _render({
        "title": page_title,
        "subtitle": " · ".join(parts),
        "notices": notices,
        "side_notes": side_notes,
        "bgcolor": "#ffffff",
        **context,
        "views_js": [{"colors": v["colors"], "timeline": v["timeline"]} for v in context["views"]],
        "has_timeline": any(v["timeline"] for v in context["views"]),
    })
    write_text(path, html)
    return path


def _blocks(attrs: Mapping[str, np.ndarray], k: int,
            by: tuple[str, ...] = ("sector", "region")) -> tuple[list[str], list[tuple[np.ndarray, list[str]]]]:
    """The grouping attributes a block layout uses: those of ``by`` present with 2 to 15 levels."""
    names, parts = [], []
    for name in by:
        col = attrs.get(name)
        if col is None or np.asarray(col).ndim != 1 or len(col) != k:
            continue
        col = np.asarray(col)
        uniq, inv = np.unique(col.astype(str) if col.dtype.kind == "O" else col, return_inverse=True)
        if 2 <= len(uniq) <= 15:
            names.append(name)
            parts.append((inv.ravel().astype(np.int64), [style.format_value(u) for u in uniq.tolist()]))
    return names, parts


def _firms_page(network: Network, keep: np.ndarray, src: np.ndarray, dst: np.ndarray, w: np.ndarray | None,
                outcomes: _Outcomes, color_by: str, size_by: str | None, label_by: str | None,
                pnames: Mapping[int, str], total_share: np.ndarray | None, physics_max_nodes: int,
                interval_ms: int, layout: str = "auto", run_steps: int | None = None,
                reduced: bool = False) -> dict[str, Any]:
    """Nodes, edges, options, legend and timeline of a firm-level view."""
    k = len(keep)
    full = len(keep) == network.n
    attrs = {name: (col if full else col[keep]) for name, col in network.attributes.items()}
    degree = network.degree if full else network.degree[keep]
    o = outcomes if full else outcomes.take(keep)
    coloring = node_coloring(color_by, attributes=attrs, outcomes=o, degree=degree, platform_names=pnames)
    low, high = (8.0, 36.0) if k <= 300 else ((6.0, 24.0) if k <= 1500 else (4.0, 16.0))
    size_values = None if size_by is None else (degree if size_by == "degree" else attrs[size_by])
    sizes = style.node_sizes(size_values, k, low=low, high=high)
    size_legend = {"what": "degree (number of ties)" if size_by == "degree" else str(size_by),
                   "items": style.size_legend(size_values, low=low, high=high)} if size_by is not None else None
    ids = network.node_ids if full else network.node_ids[keep]
    ids_text = [style.format_value(v) for v in ids.tolist()]
    labels = [style.format_value(v) for v in attrs[label_by].tolist()] if label_by else None
    header = [f"{lab} (id {i})" for lab, i in zip(labels, ids_text, strict=True)] if labels else ids_text
    tips = style.tooltips(header, _tooltip_columns(attrs, o, degree, pnames, label_by))
    show = labels if labels is not None else (ids_text if k <= 200 else None)
    block_names, block_parts = _blocks(attrs, k) if layout in ("auto", "blocks") else ([], [])
    if layout == "blocks" and not block_names:
        raise ParameterError("layout", "'blocks' needs node attributes sector and/or region with 2 to 15 values")
    block_labels: list[dict[str, Any]] = []
    if block_names:
        rows, row_labels = block_parts[0]
        if len(block_parts) > 1:
            cols, col_labels = block_parts[1]
        else:  # one attribute: its groups on a near-square grid, each labelled
            width = int(np.ceil(np.sqrt(len(row_labels))))
            rows, cols = rows // width, rows % width
            col_labels = []
        pos, block_labels = block_layout(rows, cols, src, dst, w, row_labels=row_labels if len(block_parts) > 1
                                         else None, col_labels=col_labels or None)
        if len(block_parts) == 1:
            cell = float(max(120.0, 26.0 * np.sqrt(np.bincount(rows * max(cols.max() + 1, 1) + cols).max())))
            for g, text in enumerate(row_labels):
                block_labels.append({"text": text, "x": (g % width) * cell, "y": (g // width) * cell - 0.5 * cell,
                                     "align": "center", "size": round(0.11 * cell, 1)})
        physics = False
    else:
        physics = k <= physics_max_nodes
        pos = force_layout(k, src, dst, w, iterations=60 if k > 2000 else 100, seed=0,
                           scale=max(300.0, 18.0 * np.sqrt(k)))
    xs, ys = np.round(pos[:, 0], 1).tolist(), np.round(pos[:, 1], 1).tolist()
    cols_, size_list = coloring.colors.tolist(), np.round(sizes, 2).tolist()
    vis_nodes = []
    for i in range(k):
        node: dict[str, Any] = {"id": i, "color": cols_[i], "size": size_list[i], "title": tips[i],
                                "x": xs[i], "y": ys[i]}
        if show is not None:
            node["label"] = show[i]
        vis_nodes.append(node)
    widths = np.round(style.edge_widths(w, len(src)), 2).tolist()
    s_list, d_list = src.tolist(), dst.tolist()
    vis_edges = [{"from": a, "to": b, "width": x} for a, b, x in zip(s_list, d_list, widths, strict=True)]
    if block_names:  # ties between groups recede, so that the groups stand out
        code = np.zeros(k, dtype=np.int64)
        for part, _ in block_parts:
            code = code * (int(part.max(initial=0)) + 1) + part
        between = (code[src] != code[dst]).tolist()
        for e, far in zip(vis_edges, between, strict=True):
            if far:
                e["color"] = {"color": "rgba(150,160,170,0.18)", "highlight": "#555555", "hover": "#555555"}
    if w is not None:
        wt = [style.format_value(v) for v in w.tolist()]
        for e, text in zip(vis_edges, wt, strict=True):
            e["title"] = f"weight {text}"
    net = _vis_network(network.directed, physics, stabilization=200)
    net.nodes, net.edges = vis_nodes, vis_edges
    nodes, edges, _, _, _, options = net.get_network_data()
    views = []
    for key in _available_colorings(color_by, attrs, o, label_by):
        c = coloring if key == color_by else node_coloring(key, attributes=attrs, outcomes=o, degree=degree,
                                                           platform_names=pnames)
        views.append(_view(key, c, k, total_share, interval_ms, run_steps, reduced))
    return {"nodes": nodes, "edges": edges, "options": json.loads(options), "views": views,
            "physics_off": not physics, "blocks": block_labels, "block_by": block_names,
            "size_legend": size_legend}


def _available_colorings(color_by: str, attrs: Mapping[str, np.ndarray], o: _Outcomes,
                         label_by: str | None, limit: int = 12) -> list[str]:
    """The colourings a page offers: the chosen one first, then outcomes, attributes, degree."""
    keys = [color_by]
    if o.steps is not None:
        keys += ["adoption", "step"]
    if o.platform is not None:
        keys.append("platform")
    if o.failed_round is not None:
        keys.append("failure")
    if o.loss is not None:
        keys.append("loss")
    keys += [*o.categories, *o.values]
    keys += [a for a in attrs if a not in (label_by, "label", "name") and np.asarray(attrs[a]).ndim == 1]
    keys.append("degree")
    out: list[str] = []
    for key in keys:
        if key not in out and key != "none":
            out.append(key)
    return out[:limit] if color_by != "none" else ["none", *out[: limit - 1]]


def _cumulative(times: np.ndarray, tmax: int) -> np.ndarray:
    """Number of nodes whose event time is ``<= t``, for ``t = 0 .. tmax``."""
    ev = times[times >= 0].astype(np.int64)
    return np.cumsum(np.bincount(np.clip(ev, 0, tmax), minlength=tmax + 1))[: tmax + 1]


def _view(key: str, coloring: style.Coloring, k: int, total_share: np.ndarray | None,
          interval_ms: int, run_steps: int | None = None, reduced: bool = False) -> dict[str, Any]:
    """One colouring of the page: legend, final colours, timeline data and the small curve.

    A step timeline runs over every step of the run (``run_steps``), not only
    up to the last adoption; the curve under the legend is the whole network's
    adoption share when known (else the share of the drawn firms), or the
    share of drawn firms failed by each round, with a marker the timeline moves.
    """
    cols = coloring.colors.tolist()
    timeline = None
    if coloring.frames is not None and coloring.palette is not None:
        frames = np.asarray(coloring.frames)
        tmax = len(frames) - 1
        labels = {c: lab for lab, c in coloring.legend}
        status = []
        empty = [j for j, c in enumerate(coloring.palette) if c == style.EMPTY]
        on = np.zeros(tmax + 1)
        for t in range(tmax + 1):
            cnt = np.bincount(frames[t], minlength=len(coloring.palette))
            on[t] = (k - sum(int(cnt[j]) for j in empty)) / max(k, 1)
            parts = [f"{labels.get(c, c)} {100 * cnt[j] / max(k, 1):.0f} %"
                     for j, c in enumerate(coloring.palette) if cnt[j]]
            status.append(f"step {t} of {tmax}: " + ", ".join(parts))
        changed = int(np.count_nonzero(np.diff(frames, axis=0))) if tmax > 0 else 0
        curve = total_share if total_share is not None and len(total_share) == tmax + 1 else on
        timeline = {
            "times": None, "final": cols, "pending": None, "frames": frames.tolist(),
            "palette": coloring.palette, "max": tmax, "unit": "step", "label": "step of the cascade",
            "status": status, "interval": interval_ms,
            "curve": np.round(curve, 5).tolist(), "curve_label": "Share of firms on a platform",
            "note": f"{changed:,} platform changes by the drawn firms over {tmax} steps",
        }
    elif coloring.times is not None and coloring.pending is not None:
        counted = coloring.counted if coloring.counted is not None else coloring.times
        is_round = coloring.time_label == "round"
        tmax = max(int(coloring.times.max(initial=0)), int(counted.max(initial=0)), 1)
        if not is_round and run_steps is not None:
            tmax = max(tmax, int(run_steps))
        verb = "failed" if is_round else "adopted"
        whole = total_share if verb == "adopted" else None
        cum = _cumulative(counted, tmax) / max(k, 1)
        if whole is not None:
            curve = np.asarray(whole, dtype=np.float64)[np.minimum(np.arange(tmax + 1), len(whole) - 1)]
            curve_label = "Share of all firms adopted"
        else:
            curve = cum
            curve_label = f"Share of the drawn firms {verb}"
        timeline = {
            "times": coloring.times.tolist(), "final": cols, "pending": coloring.pending.tolist(),
            "frames": None, "palette": None, "max": tmax, "unit": coloring.time_label,
            "label": f"{coloring.time_label} of the {'shock' if is_round else 'cascade'}",
            "status": _status_lines(counted, tmax, coloring.time_label, verb, whole if reduced else None),
            "interval": interval_ms, "curve": np.round(curve, 5).tolist(), "curve_label": curve_label,
            "note": None,
        }
    return {"key": key, "caption": coloring.caption, "legend": coloring.legend, "gradient": coloring.gradient,
            "colors": cols, "timeline": timeline}


def _groups_page(network: Network, outcomes: _Outcomes, by: tuple[str, ...], color_by: str,
                 pnames: Mapping[int, str], interval_ms: int) -> dict[str, Any]:
    """Nodes, edges, options, legend and timeline of the group quotient view."""
    q = group_quotient(network, by)
    G = len(q.labels)
    counts = q.counts.astype(np.float64)
    o = outcomes
    event, unit, verb, caption = None, "step", "adopted", "Share of firms adopted"
    if color_by in ("failure", "loss") and o.failed_round is not None:
        event, unit, verb, caption = o.failed_round, "round", "failed", "Share of firms failed"
    elif o.steps is not None:
        event = o.steps
    cols: dict[str, Any] = {"firms": q.counts, "ties inside": q.internal}
    legend: list[tuple[str, str]] = []
    gradient = None
    timeline = None
    if color_by in by:
        first = np.zeros(G, dtype=np.int64)
        first[q.codes[::-1]] = np.arange(network.n)[::-1]  # one member of each group
        colors, legend = style.categorical_colors(network.attribute(color_by)[first])
        caption = str(color_by)
    elif color_by == "platform" and o.platform is not None:
        kk = int(o.platform.max(initial=0)) + 1
        tab = np.bincount(q.codes * kk + o.platform, minlength=G * kk).reshape(G, kk)
        top = tab.argmax(axis=1)
        colors, legend = style.categorical_colors(top, names=pnames, empty=0)
        caption = "Most used platform"
        for j in range(1, kk):
            cols[f"share on {pnames.get(j, j)}"] = tab[:, j] / np.maximum(counts, 1)
    elif color_by == "loss" and o.loss is not None:
        mean_loss = np.bincount(q.codes, weights=o.loss, minlength=G) / np.maximum(counts, 1)
        colors = style.sequential_colors(mean_loss, 0.0, 1.0, stops=REDS)
        gradient = {"low": "no loss", "high": "total loss", "colors": list(REDS)}
        caption = "Mean loss (share of value)"
        cols["mean loss"] = mean_loss
    elif event is not None:
        ev = np.asarray(event, dtype=np.int64)
        tmax = max(int(ev.max(initial=0)), 1)
        hit = ev >= 0
        per = np.bincount(q.codes[hit] * (tmax + 1) + ev[hit], minlength=G * (tmax + 1)).reshape(G, tmax + 1)
        share = np.cumsum(per, axis=1) / np.maximum(counts, 1)[:, None]  # (G, T+1)
        stops = REDS if unit == "round" else BLUES
        frames = style.sequential_colors(share.T.ravel(), 0.0, 1.0, stops=stops).reshape(tmax + 1, G)
        colors = frames[-1]
        gradient = {"low": "0 %", "high": "100 %", "colors": list(stops)}
        cols[f"share {verb}"] = share[:, -1]
        tot = np.cumsum(np.bincount(ev[hit], minlength=tmax + 1)) / max(network.n, 1)
        timeline = {
            "times": None, "final": colors.tolist(), "pending": None, "palette": None,
            "frames": frames.tolist(), "max": tmax, "unit": unit,
            "label": f"{unit} of the {'shock' if unit == 'round' else 'cascade'}",
            "status": [f"{unit} {t} of {tmax}: {100 * tot[t]:.1f} % of all {network.n:,} firms {verb}"
                       for t in range(tmax + 1)],
            "interval": interval_ms, "curve": np.round(tot, 5).tolist(),
            "curve_label": f"Share of all firms {verb}", "note": None,
        }
    else:
        colors = np.full(G, ADOPTED, dtype="<U7")
        caption = "Groups of firms"
    tips = style.tooltips(q.labels, cols)
    sizes = style.node_sizes(counts, G, low=10, high=40)
    pos = force_layout(G, q.sources, q.targets, q.ties, seed=0, scale=200.0 + 60.0 * np.sqrt(G))
    colors = np.asarray(colors).tolist()
    vis_nodes = [{"id": g, "label": q.labels[g], "color": colors[g], "size": float(sizes[g]), "title": tips[g],
                  "x": float(pos[g, 0]), "y": float(pos[g, 1])} for g in range(G)]
    widths = style.edge_widths(q.ties, len(q.ties), low=0.5, high=8.0).tolist()
    vis_edges = [{"from": int(a), "to": int(b), "width": x, "title": f"{style.format_value(t)} ties"}
                 for a, b, x, t in zip(q.sources.tolist(), q.targets.tolist(), widths, q.ties.tolist(),
                                       strict=True)]
    net = _vis_network(network.directed, False, stabilization=0)
    net.nodes, net.edges = vis_nodes, vis_edges
    nodes, edges, _, _, _, options = net.get_network_data()
    view = {"key": color_by, "caption": caption, "legend": legend, "gradient": gradient, "colors": colors,
            "timeline": timeline}
    return {"nodes": nodes, "edges": edges, "options": json.loads(options), "views": [view]}
