"""``diffusion export-html``: run a scenario and write its interactive network view."""

from __future__ import annotations

from pathlib import Path

import click

from ..scenario import load_scenario, run_scenario
from ._common import progress_bar

__all__ = ["export_html", "html_options"]


def html_options(f):  # type: ignore[no-untyped-def]
    """The options shared by ``run --html`` and ``export-html``."""
    f = click.option("--max-nodes", type=click.IntRange(min=1), default=5000, show_default=True,
                     help="Largest network drawn firm by firm; larger ones get a reduced view.")(f)
    f = click.option("--reduce", type=click.Choice(["largest", "groups"]), default="largest",
                     show_default=True,
                     help="Reduced view above --max-nodes: the largest firms and their ties, or one "
                          "node per sector × region group.")(f)
    f = click.option("--replicate", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Which replicate to show.")(f)
    f = click.option("--color-by", metavar="WHAT",
                     help="adoption, step, platform, failure, loss, degree, none or a node attribute "
                          "(default: platform or adoption).")(f)
    return f


@click.command("export-html")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file  [default: results/<scenario name>/network.html]")
@click.option("-r", "--runs", type=click.IntRange(min=1), help="Number of replicates (overrides the file).")
@click.option("-s", "--seed", type=click.IntRange(min=0), help="Root random seed (overrides the file).")
@html_options
@click.option("-q", "--quiet", is_flag=True, help="No progress line; do not print the output path.")
def export_html(scenario: Path, out: Path | None, runs: int | None, seed: int | None, color_by: str | None,
                replicate: int, reduce: str, max_nodes: int, quiet: bool) -> None:
    """Run SCENARIO and write one self-contained, offline HTML view of its network and cascade."""
    from ..viz.report import write_network_html

    sc = load_scenario(scenario).replace(runs=runs, seed=seed)
    path = out if out is not None else Path("results") / sc.name / "network.html"
    if replicate >= sc.runs:
        raise click.BadParameter(f"must be below the number of replicates ({sc.runs})", param_hint="--replicate")
    with progress_bar(sc.runs, "simulating", enabled=not quiet) as update:
        chunk = -(-sc.runs // 20) if update is not None else None
        result = run_scenario(sc, keep=[replicate], progress=update, chunk_size=chunk)
    write_network_html(result, path, color_by=color_by, replicate=replicate, max_nodes=max_nodes,
                       reduce=reduce, notify=lambda msg: click.echo(f"note: {msg}", err=True))
    if not quiet:
        click.echo(f"wrote {path}")
