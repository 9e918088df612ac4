"""``diffusion fit-bass``: fit the discrete Bass model to an adoption series in a CSV file."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import DiffusionError, ParameterError
from ..fitting import fit_bass as _fit_bass
from ..fitting import read_curve_csv
from ..outputs import write_json

__all__ = ["fit_bass"]


@click.command("fit-bass")
@click.argument("curve", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--column", help="Column holding the series (default: mean_fraction, cumulative, "
              "adopters, fraction, count, value, or the only non-time column).")
@click.option("--per-period", is_flag=True,
              help="The series counts adoptions per period, not cumulative adopters.")
@click.option("--market", "m", type=click.FloatRange(min=0, min_open=True),
              help="Known market potential m (default: estimated).")
@click.option("--se", "se", type=click.Choice(["hc1", "classical"]), default="hc1", show_default=True,
              help="Standard errors: heteroscedasticity-robust sandwich (HC1) or homoscedastic.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the estimates to this JSON file.")
def fit_bass(curve: Path, column: str | None, per_period: bool, m: float | None, se: str,
             json_out: Path | None) -> None:
    """Estimate Bass p, q and m (with standard errors) from the series in CURVE.

    CURVE is a CSV file with a header row: a simulated curve.csv written by
    `diffusion run`, or an empirical series (e.g. year,adopters).
    """
    try:
        series = read_curve_csv(curve, column)
        fit = _fit_bass(series, m=m, cumulative=not per_period, se=se)
    except ParameterError as exc:  # the file's series is at fault: name the file (and column)
        where = f"{curve}: {exc.name}" if exc.name == "column" else str(curve)
        raise DiffusionError(f"{where}: {exc.reason}") from None
    click.echo(f"{curve}: {fit.n_obs} periods ({'HC1 robust' if se == 'hc1' else 'classical'} "
               "standard errors)")
    click.echo(f"  p (innovation)  = {fit.p:.6g} ± {fit.se_p:.3g}")
    click.echo(f"  q (imitation)   = {fit.q:.6g} ± {fit.se_q:.3g}")
    click.echo(f"  m (market size) = {fit.m:.6g} ± {fit.se_m:.3g}")
    if json_out is not None:
        write_json(json_out, fit.to_dict())
        click.echo(f"wrote {json_out}")
