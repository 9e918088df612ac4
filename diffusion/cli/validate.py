"""``diffusion validate``: check a scenario file without running it."""

from __future__ import annotations

from pathlib import Path

import click

from ..scenario import check_scenario, load_scenario
from ..sweep import check_sweep

__all__ = ["validate"]


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--build", is_flag=True,
              help="Also build the network and check the initial adopters and model against it.")
def validate(scenario: Path, build: bool) -> None:
    """Check SCENARIO (keys, types, ranges, files) and print OK or the error."""
    sc = load_scenario(scenario)
    detail = f"{sc.cascade.model} on {sc.network.generator}, {sc.runs} runs, seed {sc.seed}"
    if build:
        net = check_scenario(sc)
        detail += f"; network: {net.n:,} nodes, {net.number_of_edges:,} edges"
    if sc.table("sweep") is not None:
        detail += f"; sweep: {len(check_sweep(sc))} valid points"
    click.echo(f"OK: {scenario}: {sc.name} ({detail})")
