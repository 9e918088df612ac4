"""``diffusion run``: run a scenario file and write its outputs."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import DiffusionError
from ..parallel import get_executor
from ..scenario import load_scenario, run_scenario
from ._common import progress_bar, scenario_options
from .sweep import executor_options

__all__ = ["run"]

#: Progress-bar granularity: the replicates are run in about this many batches.
_BAR_STEPS = 20


@click.command()
@scenario_options
@click.option("--max-steps", type=click.IntRange(min=0), help="Step cap (overrides the file).")
@executor_options
@click.option("--html", is_flag=True, help="Also write network.html, an interactive view of the cascade.")
@click.option("--no-plots", is_flag=True, help="Do not write the figures (figures/*.png, *.svg).")
@click.option("--adoptions", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the adoption table (id,step; empty: never adopted) of one replicate "
                   "to this file, e.g. to feed a simulated population to `diffusion calibrate`.")
@click.option("--replicate", type=click.IntRange(min=0), default=0, show_default=True,
              help="The replicate --adoptions writes and --html draws.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def run(scenario: Path, out: Path | None, runs: int | None, seed: int | None, max_steps: int | None,
        executor: str, workers: int | None, scheduler: str | None, html: bool, no_plots: bool,
        adoptions: Path | None, replicate: int, quiet: bool) -> None:
    """Run SCENARIO (a TOML file) and write summary.json, runs.csv, curve.csv, nodes.csv and scenario.toml.

    Figures go to figures/ (unless --no-plots); --html adds network.html.
    """
    sc = load_scenario(scenario).replace(runs=runs, seed=seed, max_steps=max_steps)
    if (adoptions is not None or html) and replicate >= sc.runs:
        raise DiffusionError(f"--replicate {replicate}: the run has {sc.runs} replicates "
                             f"(0..{sc.runs - 1})")
    out_dir = out if out is not None else Path("results") / sc.name
    with get_executor(executor, workers, scheduler) as ex, \
            progress_bar(sc.runs, "simulating", enabled=not quiet) as update:
        chunk = -(-sc.runs // _BAR_STEPS) if update is not None else None
        # per-firm results are reduced where each batch ran; --html keeps the one replicate it draws
        keep = [replicate] if html or adoptions is not None else "summary"
        result = run_scenario(sc, keep=keep, progress=update, chunk_size=chunk, map_chunks=ex)
    files = result.write(out_dir)
    if not no_plots:
        from ..viz.report import write_figures

        files.update({f"figures/{k}": v for k, v in write_figures(result, out_dir / "figures").items()})
    if adoptions is not None:
        from ..calibration import adoption_table, write_adoptions

        write_adoptions(adoptions, *adoption_table(result.simulation, replicate))
    if html:
        from ..viz.report import write_network_html

        files["network.html"] = write_network_html(
            result, out_dir / "network.html", replicate=replicate,
            notify=lambda msg: click.echo(f"note: {msg}", err=True))
    if not quiet:
        for line in result.describe():
            click.echo(line)
        click.echo(f"wrote {', '.join(files)} to {out_dir}")
        if adoptions is not None:
            click.echo(f"wrote the adoption table of replicate {replicate} to {adoptions}")
