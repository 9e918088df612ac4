"""Fragility metrics over replicates: quantiles, systemic events, expected shortfall.

Per replicate, a propagation gives the value-weighted losses
(:class:`~diffusion.shocks.PropagationResult`): ``initial_loss`` (the shock
itself), ``total_loss`` (after propagation), ``systemic_loss`` (the loss the
propagation added, ``total - initial``: the DebtRank of Battiston et al.
2012), ``failed_fraction`` and ``amplification`` (``total / initial``). The
functions here summarize such per-replicate arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = [
    "distribution_summary",
    "expected_shortfall",
    "fragility_summary",
    "systemic_event_probability",
]


def _losses(losses: Any) -> np.ndarray:
    x = np.asarray(losses, dtype=np.float64).ravel()
    if x.size == 0:
        raise ParameterError("losses", "no replicates to summarize")
    return x


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.number) or not 0 < alpha < 1:
        raise ParameterError("alpha", f"must be in (0, 1), got {alpha!r}")
    return float(alpha)


def expected_shortfall(losses: Any, alpha: float = 0.95) -> float:
    """Mean loss in the worst ``1 - alpha`` share of replicates (CVaR).

    Computed on the empirical distribution: the mean of the ``ceil((1 - alpha) R)``
    largest losses of ``R`` replicates.

    Examples
    --------
    >>> from diffusion.shocks import expected_shortfall
    >>> expected_shortfall([0.0, 0.1, 0.2, 0.3, 1.0], alpha=0.6)
    0.65
    """
    x = np.sort(_losses(losses))
    a = _check_alpha(alpha)
    k = max(1, int(np.ceil((1 - a) * len(x) - 1e-9)))
    return float(x[-k:].mean())


def systemic_event_probability(losses: Any, level: float = 0.1) -> float:
    """Share of replicates whose loss exceeds ``level``.

    Examples
    --------
    >>> from diffusion.shocks import systemic_event_probability
    >>> systemic_event_probability([0.0, 0.05, 0.2, 0.5], level=0.1)
    0.5
    """
    if isinstance(level, bool) or not isinstance(level, int | float | np.number) or not 0 <= level <= 1:
        raise ParameterError("level", f"must be in [0, 1], got {level!r}")
    return float(np.mean(_losses(losses) > level))


def distribution_summary(x: Any) -> dict[str, float]:
    """``{mean, std, se, q05, q50, q95}`` of per-replicate values (NaNs ignored).

    ``se`` is the standard error of the mean (``std / sqrt(R)``).

    Examples
    --------
    >>> from diffusion.shocks import distribution_summary
    >>> distribution_summary([1.0, 2.0, 3.0])["q50"]
    2.0
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    a = a[~np.isnan(a)]
    if a.size == 0:
        return {k: float("nan") for k in ("mean", "std", "se", "q05", "q50", "q95")}
    q = np.quantile(a, [0.05, 0.5, 0.95])
    sd = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return {"mean": float(a.mean()), "std": sd, "se": float(sd / np.sqrt(a.size)),
            "q05": float(q[0]), "q50": float(q[1]), "q95": float(q[2])}


def fragility_summary(result: Any, *, level: float = 0.1, alpha: float = 0.95) -> dict[str, Any]:
    """The ``fragility`` block of a run's summary.

    Parameters
    ----------
    result : PropagationResult
    level : float, default 0.1
        A replicate is a *systemic event* when its total loss exceeds ``level``.
    alpha : float, default 0.95
        Level of the expected shortfall of the total loss.

    Returns
    -------
    dict
        ``initial_loss`` (mean), ``systemic_loss``, ``total_loss``,
        ``failed_fraction``, ``amplification``, ``rounds`` (each
        ``{mean, std, se, q05, q50, q95}``), ``systemic_event_probability``,
        ``expected_shortfall``, ``level``, ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.shocks import debtrank, fragility_summary
    >>> W = np.array([[0, 0.5], [0.5, 0]])
    >>> res = debtrank(W, np.array([[1.0, 0], [0, 1.0]]))
    >>> fragility_summary(res)["systemic_loss"]["mean"]
    0.25
    """
    total = np.atleast_1d(result.total_loss)
    return {
        "initial_loss": float(np.mean(result.initial_loss)),
        "systemic_loss": distribution_summary(result.systemic_loss),
        "total_loss": distribution_summary(total),
        "failed_fraction": distribution_summary(result.failed_fraction),
        "amplification": distribution_summary(result.amplification),
        "rounds": distribution_summary(result.rounds),
        "systemic_event_probability": systemic_event_probability(total, level),
        "expected_shortfall": expected_shortfall(total, alpha),
        "level": float(level),
        "alpha": float(alpha),
    }
