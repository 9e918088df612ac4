"""``diffusion info``: version, models, generators and optional scenario tables."""

from __future__ import annotations

import platform

import click

__all__ = ["info"]


@click.command()
def info() -> None:
    """Show the package version and what scenario files can use."""
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
