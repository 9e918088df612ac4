"""Shared fixtures: shipped scenarios, a scenario-file writer and a click runner."""

from __future__ import annotations

import os
import textwrap
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests explore new examples on a developer's machine, but in continuous integration
# (CI set in the environment) they replay a fixed, derandomized sequence so a run never flakes.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: A small, fast, valid scenario that tests modify.
BASIC_SCENARIO = """
[scenario]
name = "basic"
seed = 11
runs = 8

[network]
generator = "erdos_renyi"
n = 300
mean_degree = 4.0

[cascade]
model = "linear_threshold"
threshold = 0.18

[cascade.initial]
count = 2
"""


def _set_keys(data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


@pytest.fixture
def basic() -> Callable[..., dict[str, Any]]:
    """``basic(**changes)``: :data:`BASIC_SCENARIO` as a mapping with keys changed.

    Keys are table paths joined by ``__`` (``cascade__initial``); ``None`` deletes a key.
    """
    return lambda **changes: _set_keys(tomllib.loads(BASIC_SCENARIO), changes)


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write TOML text (dedented) to ``tmp_path/<name>`` and return the path."""

    def write(text: str = BASIC_SCENARIO, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def runner():
    """A click test runner (stdout and stderr kept apart)."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from inside ``tmp_path`` (so default ``results/`` lands there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
