"""Interactive HTML views and publication figures.

- :func:`to_html` — one self-contained HTML file (vis.js via pyvis) with
  colours, sizes, tooltips, a legend and a timeline that replays the cascade;
- :mod:`diffusion.viz.figures` — matplotlib figures (PNG and SVG): adoption
  curve with a 5–95 % band, platform shares and concentration, fragility curve,
  homogeneity–fragility frontier;
- :mod:`diffusion.viz.style` — the small pure functions behind colours, sizes
  and tooltips;
- :func:`write_figures` / :func:`write_network_html` — what ``diffusion run``
  writes for a finished scenario run.

pyvis and matplotlib are imported only by this subpackage.
"""

from __future__ import annotations

from . import figures, style
from .figures import adoption_curve, fragility_curve, frontier, platform_shares, save_figure
from .html import COLOR_BY, ReducedViewWarning, node_coloring, to_html
from .report import write_figures, write_network_html

__all__ = [
    "COLOR_BY",
    "ReducedViewWarning",
    "adoption_curve",
    "figures",
    "fragility_curve",
    "frontier",
    "node_coloring",
    "platform_shares",
    "save_figure",
    "style",
    "to_html",
    "write_figures",
    "write_network_html",
]
