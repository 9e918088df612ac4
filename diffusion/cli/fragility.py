"""``diffusion fragility``: the severity curve of a scenario's shock and its ``[frontier]`` sweep."""

from __future__ import annotations

from pathlib import Path

import click

from ..parallel import get_executor
from ..scenario import load_scenario
from ..shocks.tables import run_fragility
from ._common import progress_bar, scenario_options
from .sweep import executor_options

__all__ = ["fragility"]


@click.command()
@scenario_options
@executor_options
@click.option("--no-plots", is_flag=True, help="Do not write the figures (figures/*.png, *.svg).")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary.")
def fragility(scenario: Path, out: Path | None, runs: int | None, seed: int | None, executor: str,
              workers: int | None, scheduler: str | None, no_plots: bool, quiet: bool) -> None:
    """Run SCENARIO's shock over its severities and its [frontier] sweep.

    Writes fragility_curve.csv (loss against severity), frontier.csv (one row per
    swept value and replicate: HHI, losses, individual risk), frontier_summary.csv
    (per value: means, standard errors, 5-95 % bands) and fragility.json.
    """
    sc = load_scenario(scenario).replace(runs=runs, seed=seed)
    out_dir = out if out is not None else Path("results") / sc.name
    front = sc.table("frontier")
    total = sc.runs * (1 + (len(front.values) if front is not None else 0))
    with get_executor(executor, workers, scheduler) as ex, \
            progress_bar(total, "replicates (severity curve and frontier)", enabled=not quiet) as update:
        report = run_fragility(sc, map_chunks=ex, progress=update)
    files = report.write(out_dir)
    if not no_plots:
        from ..viz.report import write_figures

        files.update({f"figures/{k}": v for k, v in write_figures(report, out_dir / "figures").items()})
    if not quiet:
        for line in report.describe():
            click.echo(line)
        click.echo(f"wrote {', '.join(files)} to {out_dir}")
