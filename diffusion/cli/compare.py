"""``diffusion compare``: every ``[[policy]]`` of a scenario against its baseline, paired."""

from __future__ import annotations

from pathlib import Path

import click

from ..parallel import get_executor
from ..policies import check_comparison, compare_policies, comparison_runs, criticality_ranking
from ..scenario import load_scenario
from ._common import progress_bar, scenario_options
from .sweep import executor_options

__all__ = ["compare"]


@click.command()
@scenario_options
@executor_options
@click.option("--no-plots", is_flag=True, help="Do not write the figures (figures/*.png, *.svg).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def compare(scenario: Path, out: Path | None, runs: int | None, seed: int | None, executor: str,
            workers: int | None, scheduler: str | None, no_plots: bool, quiet: bool) -> None:
    """Run SCENARIO's baseline and every [[policy]] with common random numbers.

    Writes policies.csv (one row per policy: cost, loss, paired loss change and its
    standard error, the unpaired one, failed firms, HHI, loss averted per unit of cost
    and, with [recovery], the recovery figures), policy_runs.csv (the paired
    outcomes of every replicate), policies.json and figures/policies.png.

    A policy that targets firms by criticality needs every firm's criticality
    first (one shock per firm, on --workers threads); it has a progress line of
    its own, before the simulations.
    """
    sc = load_scenario(scenario).replace(runs=runs, seed=seed)
    out_dir = out if out is not None else Path("results") / sc.name
    total = comparison_runs(sc)
    net = check_comparison(sc)  # every policy checked before anything long; the network built once
    ranking = None
    if any(p.target.needs_criticality for p in sc.table("policy") or ()):
        with progress_bar(net.n, "ranking firms by criticality", enabled=not quiet) as update:
            ranking = criticality_ranking(sc, network=net, threads=workers, progress=update)
    with get_executor(executor, workers, scheduler) as ex, \
            progress_bar(total, "simulating", enabled=not quiet) as update:
        chunk = -(-sc.runs // 10) if update is not None else None
        result = compare_policies(sc, progress=update, chunk_size=chunk, map_chunks=ex, ranking=ranking,
                                  network=net)
    files = result.write(out_dir)
    if not no_plots:
        from ..viz.figures import policy_tradeoff, recovery_paths

        figs = out_dir / "figures"
        policy_tradeoff(result.table, figs / "policies", title=sc.name)
        files["figures/policies.png"] = figs / "policies.png"
        if result.recovery_paths:
            rec = sc.table("recovery")
            recovery_paths(result.recovery_paths, figs / "recovery", title=f"{sc.name}: recovery after the outage",
                           level=rec.recover)
            files["figures/recovery.png"] = figs / "recovery.png"
    if not quiet:
        for line in result.describe():
            click.echo(line)
        click.echo(f"wrote {', '.join(files)} to {out_dir}")
