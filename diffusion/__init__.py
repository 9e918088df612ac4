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

from . import fitting, generators, metrics, policies, readwrite, shocks
from ._version import __version__
from .calibration.tables import CALIBRATION_TABLE as _CALIBRATION_TABLE
from .calibration.tables import SENSITIVITY_TABLE as _SENSITIVITY_TABLE
from .declarations import Declarations, Output
from .engine import Batch, Model, Stage, State, simulate
from .errors import DiffusionError, ParameterError, ScenarioError
from .fitting import BassFit, fit_bass, read_curve_csv
from .models import (
    MODELS,
    BayesianCascade,
    IndependentCascade,
    Isomorphic,
    LinearThreshold,
    PlatformCompetition,
)
from .network import Network
from .policies import tables as _policy_tables
from .readwrite import read_network, write_network
from .result import NotKeptError, SimulationResult
from .scenario import (
    Scenario,
    ScenarioResult,
    load_scenario,
    parse_scenario,
    register_table,
    run_scenario,
)
from .shocks import tables as _shock_tables
from .sweep import SWEEP_TABLE as _SWEEP_TABLE

__all__ = [
    "MODELS",
    "BassFit",
    "Batch",
    "BayesianCascade",
    "Declarations",
    "DiffusionError",
    "IndependentCascade",
    "Isomorphic",
    "LinearThreshold",
    "Model",
    "Network",
    "NotKeptError",
    "Output",
    "ParameterError",
    "PlatformCompetition",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SimulationResult",
    "Stage",
    "State",
    "__version__",
    "fit_bass",
    "fitting",
    "generators",
    "load_scenario",
    "metrics",
    "parse_scenario",
    "policies",
    "read_curve_csv",
    "read_network",
    "readwrite",
    "run_scenario",
    "shocks",
    "simulate",
    "write_network",
]

# The package's optional scenario tables, in the order their stages run.
register_table("sweep", _SWEEP_TABLE)
register_table("shock", _shock_tables.SHOCK_TABLE)
register_table("frontier", _shock_tables.FRONTIER_TABLE)
register_table("calibration", _CALIBRATION_TABLE)
register_table("sensitivity", _SENSITIVITY_TABLE)
register_table("policy", _policy_tables.POLICY_TABLE)
register_table("recovery", _policy_tables.RECOVERY_TABLE)
