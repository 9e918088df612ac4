"""``diffusion validate``: check a scenario file without running it."""

from __future__ import annotations

from pathlib import Path

import click

from ..scenario import check_resources, check_scenario, load_scenario
from ..sweep import check_sweep

__all__ = ["validate"]


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--build", is_flag=True,
              help="Also build the network and check the initial adopters, the model and the tables against it.")
def validate(scenario: Path, build: bool) -> None:
    """Check SCENARIO and print OK or the error.

    Without --build: everything that does not need the network (tables, keys,
    types, the range of every generator, model and shock parameter, graph files
    exist, every sweep point, and that the network fits in memory). With --build
    also what does: node ids, node attributes, the platforms a shock names.
    """
    sc = load_scenario(scenario)
    size = check_resources(sc)
    detail = f"{sc.cascade.model} on {sc.network.generator}, {sc.runs} runs, seed {sc.seed}"
    if build:
        net = check_scenario(sc)
        detail += f"; network: {net.n:,} nodes, {net.number_of_edges:,} edges"
    elif size is not None:
        detail += f"; network: {size.nodes:,} nodes, about {size.edges:,.0f} edges"
    if sc.table("policy"):
        detail += f"; {len(sc.table('policy'))} policies"
    if sc.table("sweep") is not None:
        detail += f"; sweep: {check_sweep(sc)} valid points"
    click.echo(f"OK: {scenario}: {sc.name} ({detail})")
