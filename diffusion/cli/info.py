"""``diffusion info``: version and names, or every key of a model, generator or table."""

from __future__ import annotations

import platform

import click

__all__ = ["info"]


@click.command()
@click.argument("name", required=False)
def info(name: str | None) -> None:
    """Show the package version and what scenario files can use; with NAME, every key of it.

    NAME is a model (the [cascade] table's `model`), a generator (the [network]
    table's `generator`) or a table (scenario, shock, sweep, ...). Each key is
    listed with its type, default, range and meaning, read from the code: the
    signatures and docstrings, the checks every value passes, and (for a
    model) the outputs it declares.
    """
    if name is not None:
        from ..reference import describe

        for line in describe(name):
            click.echo(line)
        return
    import numpy
    import scipy

    from .. import __version__
    from ..generators import GENERATORS
    from ..models import MODELS
    from ..scenario import TABLES

    click.echo(f"smb-diffusion {__version__} (Python {platform.python_version()}, "
               f"numpy {numpy.__version__}, scipy {scipy.__version__})")
    click.echo(f"models:     {', '.join(sorted(MODELS))}")
    click.echo(f"generators: {', '.join(sorted([*GENERATORS, 'file']))}")
    click.echo(f"tables:     {', '.join(['scenario', 'network', 'cascade', *TABLES])}")
    click.echo("every key of one of them: diffusion info NAME (e.g. diffusion info platform_competition); "
               "a JSON Schema for editors: diffusion schema")
