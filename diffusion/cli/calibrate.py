"""``diffusion calibrate``: estimate a scenario's free parameters from observed adoptions."""

from __future__ import annotations

from pathlib import Path

import click

from ..calibration.run import calibrate as _calibrate
from ..calibration.run import free_parameters
from ..parallel import get_executor
from ..scenario import load_scenario
from ._common import progress_bar
from .sweep import executor_options

__all__ = ["calibrate"]


def _period(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("adoptions", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--curve", is_flag=True,
              help="Only the adoption curve is used (a curve CSV, or the curve of an adoption "
                   "table): approximate Bayesian computation (ABC-SMC) by simulation instead of "
                   "the exact likelihood.")
@click.option("--free", multiple=True, metavar="KEY",
              help="A free parameter, as a dotted key (repeatable; overrides calibration.free), "
                   "e.g. --free cascade.external --free cascade.mimetic.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory for calibration.json  [default: results/<scenario name>/]")
@click.option("--last-step", type=click.IntRange(min=1),
              help="Last observed step (default: the largest step in the table).")
@click.option("--period", help="Period of one step when the table gives dates: day, week, month, "
              "quarter, year or a number of days.")
@click.option("--origin", help="First day of step 1 (YYYY-MM-DD) when the table gives dates.")
@click.option("--missing", type=click.Choice(["error", "never"]),
              help="Firms absent from the table: an error (default) or never adopted.")
@click.option("--particles", type=click.IntRange(min=10), help="ABC particles per generation.")
@click.option("--generations", type=click.IntRange(min=1), help="ABC generations.")
@executor_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no table.")
def calibrate(scenario: Path, adoptions: Path, curve: bool, free: tuple[str, ...], out: Path | None,
              last_step: int | None, period: str | None, origin: str | None, missing: str | None,
              particles: int | None, generations: int | None, executor: str,
              workers: int | None, scheduler: str | None, quiet: bool) -> None:
    """Estimate SCENARIO's free parameters from the adoptions in ADOPTIONS (CSV).

    ADOPTIONS is an adoption table with columns id,step (empty or -1: never adopted) on the
    scenario's network: the exact likelihood of the isomorphic model gives estimates,
    standard errors, 95 % profile-likelihood intervals, likelihood-ratio tests of each
    pressure against 0 and the AIC. With --curve, ABC-SMC gives posterior summaries and
    samples. Writes calibration.json.
    """
    sc = load_scenario(scenario)
    out_dir = out if out is not None else Path("results") / sc.name
    spec = sc.table("calibration")
    if curve:
        total = generations or (spec.abc.generations if spec is not None else 5)
        label, pool = "ABC-SMC generations", get_executor(executor, workers, scheduler)
    else:  # each side of each profile interval, then each parameter's test
        iso = sc.cascade.model == "isomorphic"  # (otherwise calibrate says why it cannot)
        total = 3 * len(free_parameters(sc, list(free) or None)) if iso else 0
        label, pool = "profile intervals and tests", get_executor("serial")
    with pool as ex, progress_bar(max(total, 1), label, enabled=not quiet) as update:
        result = _calibrate(sc, adoptions, curve=curve, free=list(free) or None,
                            last_step=last_step, period=_period(period), origin=origin,
                            missing=missing, particles=particles, generations=generations,
                            executor=ex, progress=update)
    path = result.write(out_dir)
    if not quiet:
        for line in result.describe():
            click.echo(line)
        click.echo(f"wrote {path.name} to {out_dir}")
