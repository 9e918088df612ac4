"""The ``diffusion`` command line: a click group with one short module per subcommand.

Every subcommand loads a scenario, applies command-line overrides, calls one
library function and writes its outputs; the logic lives in the library.
Invalid input (any :class:`~diffusion.errors.DiffusionError`) is reported as one
line on stderr, ``error: <file>: <key>: <message>``, with exit status 2; any
other exception as one line with exit status 1. ``--debug`` adds the traceback.

To add a subcommand, write ``diffusion/cli/<name>.py`` defining a
:func:`click.command` and add it to :data:`COMMANDS` below.

Examples
--------
>>> from click.testing import CliRunner
>>> from diffusion.cli import main
>>> CliRunner().invoke(main, ["--version"]).output.startswith("diffusion, version")
True
"""

from __future__ import annotations

import click

from .._version import __version__
from . import (
    calibrate,
    compare,
    export_html,
    fit_bass,
    fragility,
    info,
    run,
    schema,
    sensitivity,
    sweep,
    validate,
)
from ._common import ErrorHandlingGroup

__all__ = ["COMMANDS", "main"]

#: The subcommands, in the order ``--help`` lists them.
COMMANDS: list[click.Command] = [run.run, sweep.sweep, fragility.fragility, compare.compare,
                                  export_html.export_html, fit_bass.fit_bass, calibrate.calibrate,
                                  sensitivity.sensitivity, validate.validate, info.info, schema.schema]


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="diffusion",
                      message="%(prog)s, version %(version)s")
@click.option("--debug", is_flag=True, help="Show the full traceback of any error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Network diffusion among small and medium-sized businesses.

    Run a scenario file (TOML) with `diffusion run SCENARIO`; check one with
    `diffusion validate SCENARIO`.
    """
    ctx.obj = {"debug": debug}


for _cmd in COMMANDS:
    main.add_command(_cmd)
