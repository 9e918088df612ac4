"""``diffusion sweep``: run a scenario's ``[sweep]`` grid into a resumable SQLite database."""

from __future__ import annotations

from pathlib import Path

import click

from ..parallel import EXECUTORS, get_executor
from ..scenario import load_scenario
from ..sweep import SweepRunner, describe_points, sweep_points
from ._common import progress_bar

__all__ = ["executor_options", "sweep"]


def executor_options(fn: click.decorators.FC) -> click.decorators.FC:
    """The ``--executor``, ``--workers`` and ``--scheduler`` options."""
    fn = click.option("--scheduler", metavar="ADDRESS",
                      help="Address of an existing Dask scheduler (with --executor dask), "
                           "e.g. tcp://host:8786  [default: a local cluster]")(fn)
    fn = click.option("-w", "--workers", type=click.IntRange(min=1),
                      help="Worker processes  [default: the available cores]")(fn)
    fn = click.option("-e", "--executor", type=click.Choice(list(EXECUTORS)), default="process",
                      show_default=True, help="Where replicates and sweep points run.")(fn)
    return fn


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory  [default: results/<scenario name>/]")
@executor_options
@click.option("--no-plots", is_flag=True, help="Do not write the figure (sweep.png, sweep.svg).")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no table.")
def sweep(scenario: Path, out: Path | None, executor: str, workers: int | None, scheduler: str | None,
          no_plots: bool, quiet: bool) -> None:
    """Run every point of SCENARIO's [sweep] table; write sweep.sqlite, sweep.csv and sweep.png.

    Prints one line per point (mean and median final share adopted, share of
    runs reaching 50 %) and draws them: heat maps over two swept keys, lines
    over one. A sweep that was interrupted resumes where it stopped when run
    again with the same output directory.
    """
    sc = load_scenario(scenario)
    out_dir = out if out is not None else Path("results") / sc.name
    with SweepRunner(sc, out_dir) as runner:
        if runner.pending:
            with get_executor(executor, workers, scheduler) as ex:
                label = f"{sc.name}: {runner.total} points"
                if len(runner.pending) < runner.total:
                    label += f", {runner.total - len(runner.pending)} already done"
                with progress_bar(len(runner.pending), label, enabled=not quiet) as update:
                    result = runner.run(executor=ex, progress=update)
        else:
            result = runner.run()
    files = [result.database.name, result.csv.name]
    if not no_plots:
        from ..viz.report import write_sweep_figure

        drawn = write_sweep_figure(result.database, result.out_dir, title=sc.name)
        files += list(drawn)
    if not quiet:
        resumed = result.points - result.completed
        note = f" ({resumed} from an earlier run)" if resumed else ""
        click.echo(f"{sc.name}: {result.points} points x {sc.runs} runs{note}")
        keys, rows = sweep_points(result.database)
        for line in describe_points(keys, rows):
            click.echo(line)
        if not no_plots and len(keys) > 2:
            click.echo(f"note: no figure for {len(keys)} swept keys (one or two are drawn)")
        click.echo(f"wrote {', '.join(files)} to {result.out_dir}")
