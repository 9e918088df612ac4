"""Exceptions raised by :mod:`diffusion`.

Every error that bad *input* can cause (a parameter out of range, a
malformed scenario file, a missing graph file) is a :class:`DiffusionError`.
The command-line interface turns these into one line on stderr and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["DiffusionError", "GraphFormatError", "ParameterError", "ScenarioError"]


class DiffusionError(ValueError):
    """Base class for errors caused by invalid input."""


class ParameterError(DiffusionError):
    """A model, generator or function parameter is invalid.

    Parameters
    ----------
    name : str
        The parameter's name, as written in Python and in scenario files.
    message : str
        What is wrong with it.
    """

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.reason = message
        super().__init__(f"{name}: {message}")

    def __reduce__(self) -> tuple[object, ...]:  # picklable across worker processes
        return (type(self), (self.name, self.reason))


class GraphFormatError(DiffusionError):
    """A graph or node-table file cannot be read."""


class ScenarioError(DiffusionError):
    """A scenario file is invalid.

    Parameters
    ----------
    path : str or None
        The scenario file.
    key : str or None
        Dotted key inside the file (e.g. ``"cascade.threshold"``).
    message : str
        What is wrong.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        self.reason = message
        where = ": ".join(p for p in (str(path) if path else None, key) if p)
        super().__init__(f"{where}: {message}" if where else message)

    def __reduce__(self) -> tuple[object, ...]:  # picklable across worker processes
        return (_rebuild_scenario_error, (type(self), self.reason, self.path, self.key))


def _rebuild_scenario_error(cls: type, message: str, path: str | None, key: str | None) -> ScenarioError:
    return cls(message, path=path, key=key)
