"""Shared pieces of the subcommands: error reporting and the progress line."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ..errors import DiffusionError
from ..progress import Progress

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "ErrorHandlingGroup", "progress_bar", "scenario_options"]

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or bool((root.obj or {}).get("debug"))


class ErrorHandlingGroup(click.Group):
    """A click group that turns exceptions into one line on stderr and an exit status.

    :class:`~diffusion.errors.DiffusionError` (bad input) exits 2; an
    :class:`OSError` (say, an output directory that cannot be written) and
    anything else exit 1. The traceback is printed only with ``--debug``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except DiffusionError as exc:
            self._report(ctx, f"error: {exc}", EXIT_BAD_INPUT)
        except OSError as exc:  # e.g. an output directory that cannot be written
            where = f"{exc.filename}: " if exc.filename else ""
            self._report(ctx, f"error: {where}{exc.strerror or exc}", EXIT_FAILURE)
        except Exception as exc:
            name = type(exc).__name__
            hint = "" if _debug(ctx) else " (run with --debug for the traceback)"
            self._report(ctx, f"error: unexpected {name}: {exc}{hint}", EXIT_FAILURE)

    @staticmethod
    def _report(ctx: click.Context, line: str, code: int) -> None:
        if _debug(ctx):
            click.echo(traceback.format_exc().rstrip(), err=True)
        click.echo(" ".join(line.split()), err=True)
        ctx.exit(code)


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(total: int, label: str, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress line on stderr over ``total`` items; yields its update callback (or ``None``).

    Shown only when ``enabled`` and stderr is a terminal. Call the callback with
    the number of items just finished (replicates, points, generations). The
    estimate of the time left excludes start-up (worker processes, compiled
    kernels, the first network) and counts the throughput of all workers (see
    :mod:`diffusion.progress`), so it is honest from the second result on.

    A command that runs several stages (say, ``compare`` running each policy's
    ensemble) opens one bar over the total and passes the same callback to
    every stage::

        with progress_bar(runs * len(policies), "replicates", enabled=not quiet) as update:
            for policy in policies:
                simulate(..., progress=update)
    """
    if not enabled or not _stderr_is_terminal():
        yield None
        return
    bar = Progress(total, label, stream=sys.stderr, force=True)
    try:
        yield bar
    finally:
        bar.close()


def scenario_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The argument and options every command that runs a scenario's replicates shares.

    ``SCENARIO``, ``-o/--out`` (a directory), ``-r/--runs`` and ``-s/--seed``
    (both override the file).
    """
    for option in reversed([
        click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
                     help="Output directory  [default: results/<scenario name>/]"),
        click.option("-r", "--runs", type=click.IntRange(min=1), help="Number of replicates (overrides the file)."),
        click.option("-s", "--seed", type=click.IntRange(min=0), help="Root random seed (overrides the file)."),
    ]):
        f = option(f)
    return f
