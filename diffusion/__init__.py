"""smb-diffusion: network diffusion among small and medium-sized businesses.

SMB interaction graphs feed an information-cascade engine (mimetic adoption,
platform network effects) whose outcome feeds a shock-propagation module that
measures the systemic fragility of homogenized networks.

Examples
--------
>>> import diffusion
>>> net = diffusion.generators.erdos_renyi(1000, mean_degree=4, seed=1)
>>> res = diffusion.simulate(net, diffusion.LinearThreshold(0.18), initial=10, runs=50, seed=2)
>>> res.final_fraction.shape
(50,)
"""

from __future__ import annotations

from . import generators
from ._version import __version__
from .engine import Model, SimulationResult, State, simulate
from .errors import DiffusionError, ParameterError, ScenarioError
from .models import MODELS, IndependentCascade, LinearThreshold
from .network import Network
from .scenario import Scenario, ScenarioResult, load_scenario, parse_scenario, run_scenario

__all__ = [
    "MODELS",
    "DiffusionError",
    "IndependentCascade",
    "LinearThreshold",
    "Model",
    "Network",
    "ParameterError",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SimulationResult",
    "State",
    "__version__",
    "generators",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
    "simulate",
]
