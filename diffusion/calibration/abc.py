"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC, ABC-PMC).

When only an aggregate adoption curve is observed (or the network itself is
synthetic), the likelihood of the individual adoption times is unavailable;
ABC replaces it by simulation (Toni et al. 2009; Beaumont, Cornuet, Marin &
Robert 2009, "Adaptive approximate Bayesian computation"):

1. Generation 0 draws ``N`` particles ``θ`` from the prior ``π`` and
   simulates one replicate of the model for each.
2. The tolerance of generation ``g`` is the ``quantile`` (default ½) of the
   distances accepted in generation ``g − 1``.
3. Generation ``g`` proposes ``θ*`` by drawing a particle ``θ_j`` of
   generation ``g − 1`` with its weight and perturbing it with a Gaussian
   kernel ``K`` of twice the weighted covariance of that generation; it keeps
   ``θ*`` when its simulated curve lies within the tolerance of the observed
   one, until ``N`` are kept. Each kept particle gets the importance weight
   ``w ∝ π(θ*) / Σ_j w_j K(θ* | θ_j)``.
4. It stops after ``generations`` generations, or earlier when fewer than
   ``min_acceptance`` of the proposals of a generation are kept (the last
   complete generation is returned).

The distance is the root-mean-square difference between the simulated and the
observed adoption fraction over steps ``1 .. T`` — plus, for platform
competition, the root-mean-square difference between the final platform
shares sorted from the largest (which platform wins is itself random when
platforms are alike; the concentration is what the data pin down).

Simulations run through the package's engine (:func:`diffusion.simulate`,
one replicate per particle) in batches handed to an executor
(:func:`diffusion.parallel.get_executor`). Candidate ``c`` of generation ``g``
draws its proposal and its replicate from its own
:class:`~numpy.random.SeedSequence` child ``(g, c)`` of the run's seed, and
the particles kept are the first ``N`` accepted in candidate order — so the
result does not depend on the executor, the number of workers or the batch
sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from .._random import SeedLike, as_seed_sequence
from ..distributions import Distribution
from ..engine import simulate
from ..errors import DiffusionError, ParameterError
from ..initial import parse_initial
from ..models import MODELS
from ..network import Network
from .data import AdoptionCurve
from .params import FreeParameter, parse_key, with_values

__all__ = ["ABCResult", "CurveSimulator", "Prior", "abc_smc"]


# ----------------------------------------------------------------- priors
@dataclass(frozen=True)
class Prior:
    """Independent priors of the free parameters, truncated to their bounds.

    Parameters
    ----------
    keys : sequence of str
        Dotted keys, in the order of the parameter vector.
    dists : sequence of Distribution
        One prior per key (uniform, normal, beta or lognormal).
    low, high : sequence of float
        Bounds (the prior is truncated to them).

    Examples
    --------
    >>> import numpy as np
    >>> from diffusion.distributions import Distribution
    >>> from diffusion.calibration.abc import Prior
    >>> p = Prior(("a",), (Distribution("uniform", (("low", 0.0), ("high", 2.0))),), (0.0,), (1.0,))
    >>> x = p.sample(np.random.default_rng(0), 1000)
    >>> bool(x.max() < 1.0), round(float(np.exp(p.logpdf(np.array([[0.5]])))[0]), 3)
    (True, 0.5)
    """

    keys: tuple[str, ...]
    dists: tuple[Distribution, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Log density (up to the truncation constant) of each row of ``theta`` (-inf outside)."""
        theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
        out = np.zeros(theta.shape[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, d in enumerate(self.dists):
                x = theta[:, i]
                p = dict(d.params)
                if d.kind == "uniform":
                    inside = (x >= p["low"]) & (x <= p["high"])
                    lp = np.where(inside, -math.log(p["high"] - p["low"]), -np.inf)
                elif d.kind == "normal":
                    z = (x - p["mean"]) / p["sd"]
                    lp = -0.5 * z * z - math.log(p["sd"] * math.sqrt(2 * math.pi))
                elif d.kind == "beta":
                    a, b = p["a"], p["b"]
                    lp = np.where((x > 0) & (x < 1), (a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
                                  - float(special.betaln(a, b)), -np.inf)
                else:  # lognormal
                    z = (np.log(x) - p["mean"]) / p["sigma"]
                    lp = np.where(x > 0, -0.5 * z * z - np.log(x * p["sigma"] * math.sqrt(
                        2 * math.pi)), -np.inf)
                out += lp
                out[(x < self.low[i]) | (x > self.high[i])] = -np.inf
        return out

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws (rows), each coordinate redrawn until it falls within its bounds."""
        out = np.empty((size, len(self.keys)))
        for i, d in enumerate(self.dists):
            col = d.sample(rng, size)
            for _ in range(1000):
                bad = (col < self.low[i]) | (col > self.high[i])
                if not bad.any():
                    break
                col[bad] = d.sample(rng, int(bad.sum()))
            else:
                raise ParameterError(self.keys[i], "the prior puts (almost) no mass within the "
                                     f"parameter's bounds [{self.low[i]}, {self.high[i]}]")
            out[:, i] = col
        return out


# ----------------------------------------------------------------- the simulator
@dataclass(frozen=True)
class CurveSimulator:
    """Simulates the adoption curve (and final platform shares) of a model at given parameters.

    Attributes
    ----------
    model : str
        Registered model name.
    params : Mapping
        The model's parameters (the ``[cascade]`` table without ``model`` and ``initial``).
    free : tuple of FreeParameter
        What each coordinate of ``θ`` sets.
    initial : Any
        Initial adopters (as for :func:`diffusion.simulate`).
    steps : int
        Steps to simulate (the observed ``T``).
    shares : bool
        Whether to return the final platform shares.
    """

    model: str
    params: Mapping[str, Any]
    free: tuple[FreeParameter, ...]
    initial: Any
    steps: int
    shares: bool = False

    def build(self, theta: Sequence[float]) -> Any:
        """The model at ``θ`` (raises :class:`ParameterError` if a value is invalid for it)."""
        values = with_values(self.params, list(zip(self.free, (float(v) for v in theta),
                                                   strict=True)))
        return MODELS[self.model](**values)

    def run(self, network: Network, theta: Sequence[float], seed: np.random.SeedSequence
            ) -> tuple[np.ndarray, np.ndarray | None]:
        """One replicate: the adoption fraction after steps ``0 .. steps`` (and sorted shares)."""
        try:
            model = self.build(theta)
        except (ParameterError, TypeError, ValueError):
            return np.full(self.steps + 1, np.nan), None
        res = simulate(network, model, initial=self.initial, runs=1, seed=seed,
                       max_steps=self.steps, check_memory=False, keep="summary")
        curve = res.curve[:, 0]
        if curve.size < self.steps + 1:
            curve = np.concatenate([curve, np.full(self.steps + 1 - curve.size, curve[-1])])
        shares = None
        if self.shares:
            shares = np.sort(np.asarray(res.final("share")[0], dtype=np.float64))[::-1]
        return curve[: self.steps + 1], shares


def _run_batch(network: Network, sim: CurveSimulator, thetas: np.ndarray,
               seeds: list[np.random.SeedSequence], start: int
               ) -> tuple[int, list[tuple[np.ndarray, np.ndarray | None]]]:
    """A batch of particles (the unit of work an executor receives), tagged with its start."""
    return start, [sim.run(network, th, s) for th, s in zip(thetas, seeds, strict=True)]


def _distance(obs: AdoptionCurve, curve: np.ndarray, shares: np.ndarray | None) -> float:
    if not np.all(np.isfinite(curve)):
        return math.inf
    d = float(np.sqrt(np.mean((curve[1:] - obs.fraction[1:]) ** 2))) if obs.last_step else 0.0
    if obs.shares is not None and shares is not None:
        k = min(obs.shares.size, shares.size)
        d += float(np.sqrt(np.mean((shares[:k] - obs.shares[:k]) ** 2)))
    return d


# ----------------------------------------------------------------- result
def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> np.ndarray:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    return np.interp(q, cw - 0.5 * w[order] / w.sum(), x[order])


@dataclass(frozen=True)
class ABCResult:
    """The ABC-SMC posterior: the last generation's particles and weights.

    Attributes
    ----------
    keys : tuple of str
        Dotted keys of the parameters (columns of :attr:`samples`).
    samples : ndarray, shape (N, k)
        Posterior particles.
    weights : ndarray, shape (N,)
        Normalized importance weights.
    distances : ndarray, shape (N,)
        Distance of each particle's simulated curve to the observed one.
    tolerances : list of float
        Tolerance of each generation (the first is ``inf``: the prior sample).
    acceptance : list of float
        Fraction of the proposals kept in each generation.
    simulations : int
        Number of simulated replicates.
    stopped : str
        Why sampling stopped.
    """

    keys: tuple[str, ...]
    samples: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    tolerances: list[float]
    acceptance: list[float]
    simulations: int
    stopped: str = ""
    observed: Any = field(default=None, repr=False)

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size ``1 / Σ w²`` of the weighted particles."""
        return float(1.0 / np.sum(self.weights ** 2))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per key: posterior mean, sd, median and the central 95 % credible interval."""
        out = {}
        w = self.weights
        for i, key in enumerate(self.keys):
            x = self.samples[:, i]
            mean = float(np.sum(w * x))
            sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
            lo, med, hi = _weighted_quantile(x, w, [0.025, 0.5, 0.975])
            out[key] = {"mean": mean, "sd": sd, "median": float(med), "ci": [float(lo), float(hi)]}
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: posterior summaries, the weighted samples and the sampler's history."""
        return {
            "method": "abc-smc",
            "parameters": self.summary(),
            "samples": {k: self.samples[:, i].tolist() for i, k in enumerate(self.keys)},
            "weights": self.weights.tolist(),
            "distances": self.distances.tolist(),
            "tolerances": [None if not math.isfinite(t) else t for t in self.tolerances],
            "acceptance": self.acceptance,
            "simulations": self.simulations,
            "effective_sample_size": self.effective_sample_size,
            "stopped": self.stopped,
        }

    def describe(self) -> list[str]:
        """A printable table of the posterior summaries."""
        width = max([9, *(len(k) for k in self.keys)])
        lines = [f"{'parameter':<{width}}  {'mean':>10}  {'sd':>9}  {'median':>10}  "
                 f"{'95% credible interval':>25}"]
        for key, s in self.summary().items():
            ci = f"[{s['ci'][0]:.5g}, {s['ci'][1]:.5g}]"
            lines.append(f"{key:<{width}}  {s['mean']:>10.5g}  {s['sd']:>9.3g}  {s['median']:>10.5g}"
                         f"  {ci:>25}")
        tol = ", ".join(f"{t:.4g}" for t in self.tolerances[1:]) or "none"
        lines.append(f"ABC-SMC: {len(self.tolerances)} generations of {len(self.weights)} particles, "
                     f"{self.simulations:,} simulations; tolerances {tol}; effective sample size "
                     f"{self.effective_sample_size:.0f}; {self.stopped}")
        return lines


# ----------------------------------------------------------------- the sampler
def _child(root: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *key),
                                  pool_size=root.pool_size)


def abc_smc(
    network: Network,
    simulator: CurveSimulator,
    observed: AdoptionCurve,
    prior: Prior,
    *,
    particles: int = 200,
    generations: int = 5,
    quantile: float = 0.5,
    min_acceptance: float = 0.02,
    seed: SeedLike = None,
    executor: Callable[..., Iterable[Any]] | None = None,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ABCResult:
    """Posterior samples of the free parameters given an observed adoption curve.

    Parameters
    ----------
    network : Network
        The network to simulate on.
    simulator : CurveSimulator
        The model, its fixed parameters, what the free coordinates set, the initial
        adopters and the number of steps.
    observed : AdoptionCurve
        The observed curve (and final platform shares).
    prior : Prior
        Independent priors of the free parameters.
    particles : int, default 200
        Particles per generation ``N``.
    generations : int, default 5
        Maximum number of generations (the first samples the prior).
    quantile : float, default 0.5
        Each tolerance is this quantile of the previous generation's distances.
    min_acceptance : float, default 0.02
        Stop when fewer than this fraction of a generation's proposals are kept.
    seed : int or SeedSequence
        Root of every random draw.
    executor : callable, optional
        A ``map_chunks`` executor (:mod:`diffusion.parallel`) that runs batches of particles.
    batch_size : int, optional
        Particles per task (default: enough for a few tasks per worker).
    progress : callable, optional
        Called with 1 after each generation.

    Returns
    -------
    ABCResult

    Examples
    --------
    >>> import numpy as np
    >>> import diffusion
    >>> from diffusion.calibration.abc import CurveSimulator, Prior, abc_smc
    >>> from diffusion.calibration.data import AdoptionCurve
    >>> from diffusion.calibration.params import parse_key
    >>> from diffusion.distributions import Distribution
    >>> net = diffusion.generators.erdos_renyi(200, mean_degree=6, seed=1)
    >>> sim = CurveSimulator("isomorphic", {"external": 0.02, "mimetic": 0.5},
    ...                      (parse_key("cascade.mimetic"),), None, 12)
    >>> curve, _ = sim.run(net, [0.5], np.random.SeedSequence(9))
    >>> prior = Prior(("cascade.mimetic",), (Distribution("uniform", (("low", 0.0), ("high", 2.0))),),
    ...               (0.0,), (2.0,))
    >>> post = abc_smc(net, sim, AdoptionCurve(curve), prior, particles=50, generations=3, seed=2)
    >>> lo, hi = post.summary()["cascade.mimetic"]["ci"]
    >>> bool(lo < 0.5 < hi)
    True
    """
    for name, value, low in (("particles", particles, 2), ("generations", generations, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(name, f"must be an integer >= {low}, got {value!r}")
    if not 0 < quantile < 1:
        raise ParameterError("quantile", f"must be in (0, 1), got {quantile!r}")
    if not 0 < min_acceptance <= 1:
        raise ParameterError("min_acceptance", f"must be in (0, 1], got {min_acceptance!r}")
    if observed.last_step != simulator.steps:
        raise ParameterError("steps", f"the simulator runs {simulator.steps} steps but the "
                             f"observed curve has {observed.last_step}")
    root = as_seed_sequence(seed)
    workers = int(getattr(executor, "workers", 1)) if executor is not None else 1
    k = len(prior.keys)
    N = int(particles)
    total_sims = 0

    def simulate_candidates(g: int, first: int, count: int, propose: Callable[
            [np.random.Generator], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Propose and simulate candidates ``first .. first + count − 1`` of generation ``g``."""
        nonlocal total_sims
        thetas = np.empty((count, k))
        seeds = []
        for c in range(count):
            seq = _child(root, g, first + c)
            prop_seq, sim_seq = seq.spawn(2)
            thetas[c] = propose(np.random.default_rng(prop_seq))
            seeds.append(sim_seq)
        size = batch_size or max(1, min(64, -(-count // (4 * workers))))
        tasks = [(network, simulator, thetas[a:a + size], seeds[a:a + size], a)
                 for a in range(0, count, size)]
        runner = executor(_run_batch, tasks) if executor is not None else (
            _run_batch(*t) for t in tasks)
        done = sorted(runner, key=lambda r: r[0])  # executors may yield batches in any order
        dist = np.array([_distance(observed, c_, s_) for _, batch in done for c_, s_ in batch])
        total_sims += count
        return thetas, dist

    # generation 0: the prior
    def from_prior(rng: np.random.Generator) -> np.ndarray:
        return prior.sample(rng, 1)[0]

    theta, dist = simulate_candidates(0, 0, N, from_prior)
    finite = np.isfinite(dist)
    if not finite.any():
        raise DiffusionError("no prior draw gave a valid simulation: check the priors' ranges")
    weights = np.where(finite, 1.0, 0.0)
    weights /= weights.sum()
    tolerances = [math.inf]
    acceptance = [1.0]
    if progress is not None:
        progress(1)
    stopped = f"reached {generations} generation{'s' if generations > 1 else ''}"
    for g in range(1, generations):
        eps = float(np.quantile(dist[finite], quantile))
        live = weights > 0
        mean = np.average(theta[live], axis=0, weights=weights[live])
        cov = 2.0 * np.atleast_2d(np.cov(theta[live], rowvar=False, aweights=weights[live]))
        cov += np.eye(k) * 1e-12 * (1.0 + np.abs(mean)) ** 2
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            chol = np.diag(np.sqrt(np.maximum(np.diag(cov), 1e-24)))
        inv_cov = np.linalg.inv(chol @ chol.T)
        cdf = np.cumsum(weights)
        prev_theta, prev_w = theta, weights

        def perturb(rng: np.random.Generator, prev_theta: np.ndarray = prev_theta,
                    cdf: np.ndarray = cdf, chol: np.ndarray = chol) -> np.ndarray:
            for _ in range(10_000):
                j = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")),
                        len(cdf) - 1)
                cand = prev_theta[j] + chol @ rng.standard_normal(k)
                if np.isfinite(prior.logpdf(cand[None, :])[0]):
                    return cand
            raise DiffusionError("the perturbation kernel keeps leaving the prior's support")

        kept_theta: list[np.ndarray] = []
        kept_dist: list[float] = []
        tried = 0
        budget = math.ceil(N / min_acceptance)
        rate = 0.5
        while len(kept_theta) < N and tried < budget:
            need = N - len(kept_theta)
            count = int(min(budget - tried, max(workers, math.ceil(1.2 * need / max(rate, 1e-3)))))
            th, d = simulate_candidates(g, tried, count, perturb)
            ok = d <= eps
            for c in np.nonzero(ok)[0]:
                if len(kept_theta) < N:
                    kept_theta.append(th[c])
                    kept_dist.append(float(d[c]))
            tried += count
            rate = max(len(kept_theta), 1) / tried
        if len(kept_theta) < N:
            stopped = (f"stopped after generation {g - 1}: fewer than {min_acceptance:g} of the "
                       f"proposals met tolerance {eps:.4g}")
            break
        # the kept candidates are the first N accepted in candidate order
        new_theta = np.array(kept_theta)
        diff = new_theta[:, None, :] - prev_theta[None, :, :]
        mahal = np.einsum("nmi,ij,nmj->nm", diff, inv_cov, diff)
        kernel = np.exp(-0.5 * mahal) @ prev_w
        logw = prior.logpdf(new_theta) - np.log(np.maximum(kernel, 1e-300))
        w = np.exp(logw - logw.max())
        theta, dist, weights = new_theta, np.array(kept_dist), w / w.sum()
        finite = np.isfinite(dist)
        tolerances.append(eps)
        acceptance.append(N / tried)
        if progress is not None:
            progress(1)
    return ABCResult(tuple(prior.keys), theta, weights, dist, tolerances, acceptance, total_sims,
                     stopped, observed)


def make_prior(free: Sequence[FreeParameter], priors: Mapping[str, Distribution],
               bounds: Mapping[str, tuple[float, float]] | None = None) -> Prior:
    """A :class:`Prior` for ``free`` from ``{key: distribution}`` (bounds narrow the support).

    Raises
    ------
    ParameterError
        Naming ``priors.<key>`` when a free parameter has no prior and no finite bounds.
    """
    dists, lows, highs = [], [], []
    for f in free:
        lo, hi = f.low, f.high
        if bounds and f.key in bounds:
            lo, hi = max(lo, bounds[f.key][0]), min(hi, bounds[f.key][1])
        if f.key in priors:
            dists.append(priors[f.key])
        elif math.isfinite(lo) and math.isfinite(hi):
            dists.append(Distribution("uniform", (("low", lo), ("high", hi))))
        else:
            raise ParameterError(f"priors.{f.key}", "missing: ABC needs a prior for every free "
                                 "parameter (a range [low, high] or a distribution)")
        lows.append(lo)
        highs.append(hi)
    return Prior(tuple(f.key for f in free), tuple(dists), tuple(lows), tuple(highs))


def curve_simulator(model: str, params: Mapping[str, Any], free: Sequence[str], initial: Any,
                    steps: int, shares: bool | None = None) -> CurveSimulator:
    """A :class:`CurveSimulator` for dotted ``cascade.*`` keys (shares for platform competition)."""
    parsed = tuple(parse_key(k) for k in free)
    if shares is None:
        shares = model == "platform_competition"
    return CurveSimulator(model, dict(params), parsed, parse_initial(initial), int(steps), shares)
