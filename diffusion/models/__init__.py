"""Cascade models. Each is one short module supplying a vectorized step.

:data:`MODELS` maps the scenario-file name of every model to its class.
"""

from __future__ import annotations

from ..engine import Model
from .bayesian import BayesianCascade
from .cascade import IndependentCascade
from .isomorphic import Isomorphic
from .platform import PlatformCompetition
from .threshold import LinearThreshold

__all__ = [
    "MODELS",
    "BayesianCascade",
    "IndependentCascade",
    "Isomorphic",
    "LinearThreshold",
    "PlatformCompetition",
    "register_model",
]

#: Scenario-file ``model`` name -> model class.
MODELS: dict[str, type[Model]] = {}


def register_model(cls: type[Model]) -> type[Model]:
    """Register a model class under its :attr:`Model.name` (usable as a decorator)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    MODELS[cls.name] = cls
    return cls


for _cls in (LinearThreshold, IndependentCascade, Isomorphic, PlatformCompetition, BayesianCascade):
    register_model(_cls)
