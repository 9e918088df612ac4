"""From a policy to what runs: checks against the scenario, the policy's model or shock variant, its cost.

Library code; :func:`~diffusion.policies.compare_policies` calls these after
the scenario and the network are checked. Errors are
:class:`~diffusion.errors.ParameterError` naming the policy's key (``level``,
``target.by``, ``platform``, ...); the callers report them at ``policy[i].<key>``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..distributions import is_distribution
from ..engine import Model
from ..errors import DiffusionError, ParameterError
from ..network import Network
from ..shocks.base import PlatformOutage
from ..shocks.exposure import exposure_columns, exposure_matrix
from ..validation import signature
from .spec import Policy
from .stage import ShockVariant

__all__ = ["check_policy", "default_cost", "model_platforms", "policy_model", "shock_variant"]


def model_platforms(cascade: Any) -> tuple[str, ...]:
    """Platform names of a ``[cascade]`` spec's model (``("adopted",)`` for models without platforms)."""
    hold = cascade.build().declare().role("holding")
    return ("adopted",) if hold is None else tuple(hold.labels[1 - hold.start:])


def check_policy(policy: Policy, cascade: Any, shock: Any) -> None:
    """What a policy needs from the scenario's cascade model and shock (no network needed).

    Parameters
    ----------
    policy : Policy
    cascade : CascadeSpec
        The ``[cascade]`` table.
    shock : ShockSpec or None
        The ``[shock]`` table.
    """
    iv = policy.intervention
    model = cascade.model
    if iv in ("multihoming", "share_cap"):
        if model != "platform_competition":
            raise ParameterError("intervention", f"{iv} needs a platform_competition cascade (the model is "
                                 f"{model!r})")
        if iv == "multihoming" and len(model_platforms(cascade)) < 2:
            raise ParameterError("intervention", "multihoming needs at least two platforms")
    if iv == "differentiation":
        if "conformity" not in signature(cascade.model_class.__init__).names:
            raise ParameterError("intervention", f"differentiation sets a per-firm conformity weight, which model "
                                 f"{model!r} does not have (use platform_competition or isomorphic)")
        if is_distribution(cascade.params.get("conformity")):
            raise ParameterError("intervention", "differentiation sets the targets' conformity; the cascade's "
                                 "conformity must be a number, an attribute or per-firm values, not a distribution")
    if iv in ("decoupling", "interoperability"):
        if shock is not None and not isinstance(shock.shock, PlatformOutage):
            raise ParameterError("intervention", f"{iv} changes the hit of a platform outage; the shock is "
                                 f"{shock.shock.kind!r}")
    if policy.platform is not None:
        names = model_platforms(cascade)
        if policy.platform not in names:
            raise ParameterError("platform", f"unknown platform {policy.platform!r} (the model has: "
                                 f"{', '.join(repr(x) for x in names)})")


def _per_firm(network: Network, value: Any, default: float, key: str) -> np.ndarray:
    """A model's per-firm parameter as given in ``[cascade]`` (number, attribute, values), as an array."""
    if value is None:
        return np.full(network.n, default)
    if isinstance(value, str):
        try:
            col = network.attribute(value)
        except DiffusionError as exc:
            raise ParameterError(key, str(exc)) from None
        if not np.issubdtype(col.dtype, np.number):
            raise ParameterError(key, f"firm attribute {value!r} is not numeric")
        return col.astype(np.float64)
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != (network.n,):
            raise ParameterError(key, f"has {arr.size} values but the network has {network.n} firms")
        return arr.copy()
    return np.full(network.n, float(value))


def policy_model(policy: Policy, cascade: Any, mask: np.ndarray, network: Network) -> Model:
    """The cascade model under a policy that changes it (multihoming, differentiation, share_cap)."""
    params = copy.deepcopy(dict(cascade.params))
    iv = policy.intervention
    if iv == "multihoming":
        cost = _per_firm(network, params.get("multihoming_cost"), np.inf, "multihoming_cost")
        cost[mask] = policy.multihoming_cost
        params["multihoming_cost"] = cost
    elif iv == "differentiation":
        kappa = _per_firm(network, params.get("conformity"), 1.0, "conformity")
        kappa[mask] = policy.conformity
        params["conformity"] = kappa
    elif iv == "share_cap":
        params["share_cap"] = policy.level if policy.platform is None else {policy.platform: policy.level}
    else:
        raise ParameterError("intervention", f"{iv} does not change the cascade")
    return cascade.model_class(**params)


def shock_variant(policy: Policy, mask: np.ndarray, network: Network, shock: Any,
                  platforms: tuple[str, ...]) -> ShockVariant:
    """The baseline shock under a policy that changes only the shock (decoupling, buffers, interoperability)."""
    iv = policy.intervention
    if iv == "decoupling":
        return ShockVariant(policy.name, np.where(mask, float(policy.level), 1.0))  # type: ignore[arg-type]
    if iv == "interoperability":
        plat = None if policy.platform is None else platforms.index(policy.platform) + 1
        return ShockVariant(policy.name, np.where(mask, 1.0 - float(policy.level), 1.0),  # type: ignore[arg-type]
                            platform=plat)
    if iv == "buffers":
        opts = dict(shock.exposure)
        size, buffer = exposure_columns(network, opts.get("size"), opts.get("resources"))
        larger = buffer + float(policy.amount) * size * mask  # type: ignore[arg-type]
        opts["resources"] = larger
        W = exposure_matrix(network, **opts)
        return ShockVariant(policy.name, buffer / larger, exposure=W)
    raise ParameterError("intervention", f"{iv} changes the cascade, not only the shock")


def default_cost(policy: Policy, mask: np.ndarray, network: Network, value: np.ndarray, shock: Any,
                 installed: np.ndarray | None, platforms: tuple[str, ...] = ()) -> float:
    """The cost of a policy (see :mod:`diffusion.policies.spec` for the rules).

    ``installed`` is the baseline's fraction of firms on each platform per
    replicate ``(R, K)`` and ``platforms`` their names (for ``share_cap``).
    """
    firms = float(mask.mean())
    vshare = float(value[mask].sum() / value.sum())
    rule = policy.cost
    if isinstance(rule, float | int):
        return float(rule)
    if rule is not None:
        return rule.of(firms, vshare)
    iv = policy.intervention
    if iv in ("multihoming", "differentiation"):
        return firms
    if iv == "decoupling":
        return (1.0 - float(policy.level)) * firms  # type: ignore[arg-type]
    if iv == "interoperability":
        return float(policy.level) * firms  # type: ignore[arg-type]
    if iv == "buffers":
        opts = dict(shock.exposure)
        size, _ = exposure_columns(network, opts.get("size"), opts.get("resources"))
        return float(policy.amount) * float(size[mask].sum()) / float(value.sum())  # type: ignore[arg-type]
    # share_cap: the share of firms the cap must move off the platforms above it, in the baseline
    if installed is None or installed.size == 0:
        return 0.0
    level = np.full(installed.shape[1], float(policy.level))  # type: ignore[arg-type]
    if policy.platform is not None:
        level = np.full(installed.shape[1], np.inf)
        level[list(platforms).index(policy.platform)] = float(policy.level)  # type: ignore[arg-type]
    return float(np.maximum(installed - level, 0.0).sum(axis=1).mean())
