"""Calibration: estimate a model's parameters from observed adoptions.

* :mod:`~diffusion.calibration.data` — adoption tables (``id,step``) and curves;
* :mod:`~diffusion.calibration.likelihood` — the exact event-history likelihood of
  the isomorphic model, maximum-likelihood fits with standard errors, profile
  intervals and likelihood-ratio tests;
* :mod:`~diffusion.calibration.params` — free parameters as dotted scenario keys.
"""

from __future__ import annotations

from .data import (
    AdoptionCurve,
    AdoptionData,
    adoption_table,
    read_adoption_curve,
    read_adoptions,
    write_adoptions,
)
from .likelihood import IsomorphicLikelihood, LikelihoodFit, ParameterEstimate, fit_likelihood

__all__ = [
    "AdoptionCurve",
    "AdoptionData",
    "IsomorphicLikelihood",
    "LikelihoodFit",
    "ParameterEstimate",
    "adoption_table",
    "fit_likelihood",
    "read_adoption_curve",
    "read_adoptions",
    "write_adoptions",
]
