"""``diffusion sensitivity``: global sensitivity analysis of a scenario's ``[sensitivity]`` table."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import click

from ..calibration.sensitivity import run_sensitivity
from ..parallel import get_executor
from ..scenario import load_scenario
from ._common import progress_bar
from .sweep import executor_options

__all__ = ["sensitivity"]


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory  [default: results/<scenario name>/sensitivity/]")
@click.option("--samples", type=click.IntRange(min=2), help="Override sensitivity.samples.")
@click.option("--runs", type=click.IntRange(min=1),
              help="Replicates per point (overrides sensitivity.runs).")
@executor_options
@click.option("--no-plots", is_flag=True, help="Do not write the figure.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no table.")
def sensitivity(scenario: Path, out: Path | None, samples: int | None, runs: int | None,
                executor: str, workers: int | None, scheduler: str | None, no_plots: bool,
                quiet: bool) -> None:
    """Sobol' or Morris sensitivity of SCENARIO's outputs to the parameters of its [sensitivity] table.

    The design's points run as a resumable sweep (sweep.sqlite: an interrupted analysis
    continues where it stopped); writes sensitivity.csv (S1, S1_conf, ST, ST_conf per
    parameter and output, or Morris mu_star, sigma) and sensitivity.png / .svg.
    """
    sc = load_scenario(scenario)
    out_dir = out if out is not None else Path("results") / sc.name / "sensitivity"
    update: list[Callable[[int], None] | None] = [None]
    with contextlib.ExitStack() as stack, get_executor(executor, workers, scheduler) as ex:
        def on_start(total: int, pending: int) -> None:
            label = f"{sc.name}: {total} points"
            if pending < total:
                label += f", {total - pending} already done"
            update[0] = stack.enter_context(progress_bar(max(pending, 1), label,
                                                         enabled=not quiet and pending > 0))

        def progress(k: int) -> None:
            if update[0] is not None:
                update[0](k)

        result = run_sensitivity(sc, out_dir, samples=samples, runs=runs, executor=ex,
                                 progress=progress, on_start=on_start, figure=not no_plots)
    if not quiet:
        for line in result.describe():
            click.echo(line)
        click.echo(f"wrote {', '.join(result.files)} to {out_dir}")
