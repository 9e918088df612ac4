"""The exact event-history likelihood of the isomorphic model, and what its fits must show."""

from __future__ import annotations

import math

import numpy as np
import pytest

import diffusion
from diffusion.calibration import (
    AdoptionData,
    IsomorphicLikelihood,
    adoption_table,
    fit_likelihood,
    read_adoptions,
    write_adoptions,
)
from diffusion.errors import DiffusionError, ParameterError

MANDATES = [
    {"where": {"region": "north"}, "start": 3, "compliance": 0.5},
    {"where": {"region": ["south", "east"], "size": {"min": 10}}, "start": 6, "compliance": 0.3},
]


def _small_world():
    net = diffusion.generators.smb_network(
        80, mean_degree=5.0, sectors=3, regions=["north", "south", "east", "west"],
        directed=True, weighted=True, seed=5)
    return net


def _brute_force(net, params, steps, T):
    """The log-likelihood by a plain loop over firms, steps and in-neighbours."""
    n = net.n
    w = net.weights if net.weights is not None else np.ones(net.nnz)
    inn = [[] for _ in range(n)]
    for j in range(n):
        for pos in range(net.indptr[j], net.indptr[j + 1]):
            inn[int(net.indices[pos])].append((j, float(w[pos])))
    s = net.attribute(params["prestige"]) if params.get("prestige", "uniform") != "uniform" \
        else np.ones(n)
    u = net.attribute("uncertainty")
    field = net.attribute(params["field"]) if params.get("field", "all") != "all" else np.zeros(n)
    region, size = net.attribute("region"), net.attribute("size")

    def covered(i, where):
        ok = True
        for attr, cond in where.items():
            x = {"region": region, "size": size, "sector": net.attribute("sector")}[attr][i]
            if isinstance(cond, dict):
                ok &= (x >= cond.get("min", -math.inf)) and (x < cond.get("max", math.inf))
            elif isinstance(cond, list):
                ok &= x in cond
            else:
                ok &= x == cond
        return ok

    pc = params.get("partner_coercion", {"probability": 0.0, "level": 0.0})
    rho = params.get("resistant", 0.0)
    resistant = [False] * n
    if isinstance(rho, dict):
        resistant = [covered(i, rho) for i in range(n)]
        rho = 0.0
    total = 0.0
    for i in range(n):
        if steps[i] == 0 or resistant[i]:
            continue
        last = steps[i] if steps[i] > 0 else T
        ll_i = 0.0
        for t in range(1, last + 1):
            def adopted(j, t=t):
                return 0 <= steps[j] <= t - 1
            num = sum(wj * s[j] for j, wj in inn[i] if adopted(j))
            den = sum(wj * s[j] for j, wj in inn[i])
            share = num / den if den > 0 else 0.0
            if share < params.get("mimetic_threshold", 0.0):
                share = 0.0
            stay = 1.0
            for m in params.get("mandates", []):
                if t >= m["start"] and covered(i, m["where"]):
                    stay *= 1.0 - m["compliance"]
            if any(wj >= pc["level"] and adopted(j) for j, wj in inn[i]):
                stay *= 1.0 - pc["probability"]
            same = [k for k in range(n) if field[k] == field[i]]
            level = sum(adopted(k) for k in same) / len(same)
            kappa = params.get("conformity", 1.0)
            kappa = net.attribute(kappa)[i] if isinstance(kappa, str) else kappa
            h = min(1.0, (1.0 - stay) + params["external"] + kappa * u[i] * params["mimetic"] * share
                    + params["normative"] * level)
            h = max(h, 0.0)
            ll_i += math.log(h) if steps[i] == t else (math.log(1.0 - h) if h < 1 else -math.inf)
        if rho > 0:
            ll_i = math.log(1 - rho) + ll_i if steps[i] > 0 else math.log(
                rho + (1 - rho) * math.exp(ll_i))
        total += ll_i
    return total


@pytest.mark.parametrize("resistant", [{"sector": 2}, 0.15])
def test_log_likelihood_equals_a_brute_force_loop(resistant):
    net = _small_world()
    params = {
        "external": 0.02, "mimetic": 0.6, "prestige": "prestige", "mimetic_threshold": 0.1,
        "normative": 0.2, "field": "sector", "mandates": MANDATES, "resistant": resistant,
        "partner_coercion": {"probability": 0.3, "level": 1.0},
    }
    res = diffusion.simulate(net, diffusion.Isomorphic(**params), initial=3, runs=1, seed=9,
                             max_steps=12)
    steps = res.adoption_step[0].astype(int)
    assert 10 < (steps > 0).sum() < net.n - 10  # adoptions and censoring both present
    free = ["cascade.external", "cascade.mimetic", "cascade.normative",
            "cascade.partner_coercion", "cascade.mandates[0].compliance",
            "cascade.mandates[1].compliance"]
    if not isinstance(resistant, dict):
        free.append("cascade.resistant")
    lik = IsomorphicLikelihood(net, params, AdoptionData(steps, 12), free)
    rng = np.random.default_rng(1)
    for trial in range(3):
        values = dict(zip(free, [0.02, 0.6, 0.2, 0.3, 0.5, 0.3, 0.15], strict=False))
        if trial:
            values = {k: v * rng.uniform(0.5, 1.5) for k, v in values.items()}
        p = dict(params, external=values["cascade.external"], mimetic=values["cascade.mimetic"],
                 normative=values["cascade.normative"],
                 partner_coercion={"probability": values["cascade.partner_coercion"], "level": 1.0},
                 mandates=[dict(MANDATES[0], compliance=values["cascade.mandates[0].compliance"]),
                           dict(MANDATES[1], compliance=values["cascade.mandates[1].compliance"])])
        if "cascade.resistant" in values:
            p["resistant"] = values["cascade.resistant"]
        expected = _brute_force(net, p, steps, 12)
        assert lik.loglik(values) == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert lik.evaluate(lik._theta(values), 0)[0] == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_with_a_per_firm_conformity_weight_equals_the_brute_force_loop():
    net = _small_world()
    rng = np.random.default_rng(4)
    net = net.with_attributes(kappa=np.where(rng.random(net.n) < 0.3, -1.0, rng.uniform(0.5, 2.0, net.n)))
    params = {"external": 0.03, "mimetic": 0.8, "normative": 0.1, "field": "sector", "conformity": "kappa"}
    res = diffusion.simulate(net, diffusion.Isomorphic(**params), initial=4, runs=1, seed=3, max_steps=12)
    steps = res.adoption_step[0].astype(int)
    assert 10 < (steps > 0).sum() < net.n - 10
    free = ["cascade.external", "cascade.mimetic", "cascade.normative"]
    lik = IsomorphicLikelihood(net, params, AdoptionData(steps, 12), free)
    for values in ([0.03, 0.8, 0.1], [0.05, 0.4, 0.2]):
        p = dict(params, external=values[0], mimetic=values[1], normative=values[2])
        expected = _brute_force(net, p, steps, 12)
        assert lik.loglik(values) == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert lik.evaluate(np.array(values), 0)[0] == pytest.approx(expected, rel=1e-12)
    # the fit recovers the pressures with the conformity weights known
    assert lik.loglik([0.03, 0.8, 0.1]) > lik.loglik([0.03, 0.0, 0.1])


def test_gradient_and_hessian_match_finite_differences():
    net = _small_world()
    params = {"external": 0.02, "mimetic": 0.5, "normative": 0.1, "mandates": MANDATES,
              "partner_coercion": 0.2, "resistant": 0.1}
    res = diffusion.simulate(net, diffusion.Isomorphic(**params), runs=1, seed=3, max_steps=15)
    free = ["cascade.external", "cascade.mimetic", "cascade.normative",
            "cascade.partner_coercion", "cascade.mandates[0].compliance",
            "cascade.mandates[1].compliance", "cascade.resistant"]
    lik = IsomorphicLikelihood(net, params, AdoptionData(res.adoption_step[0], 15), free)
    theta = np.array([0.03, 0.4, 0.15, 0.25, 0.4, 0.35, 0.12])
    _, g, H = lik.evaluate(theta)
    eps = 1e-6
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = eps
        num = (lik.evaluate(theta + e, 0)[0] - lik.evaluate(theta - e, 0)[0]) / (2 * eps)
        assert g[i] == pytest.approx(num, rel=1e-5, abs=1e-4)
        row = (lik.evaluate(theta + e)[1] - lik.evaluate(theta - e)[1]) / (2 * eps)
        np.testing.assert_allclose(H[i], row, rtol=1e-4, atol=1e-2)


def test_recovery_and_coverage_over_200_populations():
    """200 populations simulated from known (external, mimetic, normative).

    The estimates are unbiased within Monte-Carlo error (|mean − truth| < 4 standard errors
    of the mean) and the 95 % profile intervals cover the truth 93–97 % of the time over the
    600 intervals (each parameter separately: within 4 binomial standard errors, ±0.062).
    """
    truth = {"cascade.external": 0.03, "cascade.mimetic": 0.5, "cascade.normative": 0.1}
    net = diffusion.generators.erdos_renyi(400, mean_degree=8, seed=1)
    model = diffusion.Isomorphic(external=0.03, mimetic=0.5, normative=0.1)
    res = diffusion.simulate(net, model, runs=200, seed=4, max_steps=8)
    est, cover = [], []
    for r in range(res.runs):
        fit = fit_likelihood(net, model, AdoptionData(res.adoption_step[r], 8), tests=False)
        est.append([fit.parameters[k].estimate for k in truth])
        cover.append([fit.parameters[k].ci[0] <= v <= fit.parameters[k].ci[1]
                      for k, v in truth.items()])
    est, cover = np.array(est), np.array(cover)
    z = (est.mean(axis=0) - list(truth.values())) / (est.std(axis=0, ddof=1) / np.sqrt(len(est)))
    assert np.all(np.abs(z) < 4), z
    assert 0.93 <= cover.mean() <= 0.97, cover.mean(axis=0)
    assert np.all(np.abs(cover.mean(axis=0) - 0.95) < 4 * math.sqrt(0.95 * 0.05 / len(est)))


def test_no_spurious_contagion():
    """The LR test of mimetic pressure, with the external term in the model.

    With mimetic = 0 it rejects at 5 % about 5 % of the time (150 populations: within 4
    binomial standard errors, i.e. at most 12 %); with strong mimetic pressure always.
    """
    net = diffusion.generators.erdos_renyi(400, mean_degree=8, seed=2)
    free = ["cascade.external", "cascade.mimetic"]
    rates = {}
    for q in (0.0, 0.5):
        model = diffusion.Isomorphic(external=0.05, mimetic=q)
        res = diffusion.simulate(net, model, runs=150, seed=7, max_steps=8)
        p = [fit_likelihood(net, model, AdoptionData(res.adoption_step[r], 8), free,
                            intervals=False).tests["cascade.mimetic"]["p_value"]
             for r in range(res.runs)]
        rates[q] = float(np.mean(np.array(p) < 0.05))
    assert rates[0.0] <= 0.05 + 4 * math.sqrt(0.05 * 0.95 / 150), rates
    assert rates[0.5] >= 0.98, rates


def test_lr_mixture_p_value_and_impossible_restriction():
    net = diffusion.generators.erdos_renyi(300, mean_degree=6, seed=1)
    model = diffusion.Isomorphic(external=0.02, mimetic=0.4)
    res = diffusion.simulate(net, model, runs=1, seed=1, max_steps=10)
    fit = fit_likelihood(net, model, AdoptionData(res.adoption_step[0], 10))
    # without the external term nobody could have adopted first: ℓ₀ = −∞
    assert fit.tests["cascade.external"] == {"lr": math.inf, "p_value": 0.0}
    lr = fit.tests["cascade.mimetic"]["lr"]
    from scipy.stats import chi2

    assert fit.tests["cascade.mimetic"]["p_value"] == pytest.approx(0.5 * chi2.sf(lr, 1))
    out = fit.to_dict()
    assert set(out) == {"parameters", "log_likelihood", "aic", "tests"}
    assert set(out["parameters"]["cascade.mimetic"]) == {"estimate", "se", "ci"}
    assert out["tests"]["cascade.external"] == {"lr": None, "p_value": 0.0}
    assert fit.aic == pytest.approx(4 - 2 * fit.log_likelihood)


def test_progress_counts_each_interval_side_and_each_test():
    net = diffusion.generators.erdos_renyi(300, mean_degree=6, seed=1)
    model = diffusion.Isomorphic(external=0.02, mimetic=0.4, normative=0.0)
    res = diffusion.simulate(net, model, runs=1, seed=1, max_steps=10)
    free = ["cascade.external", "cascade.mimetic", "cascade.normative"]
    for intervals, tests, calls in ((True, True, 9), (True, False, 6), (False, True, 3), (False, False, 0)):
        done: list[int] = []
        fit_likelihood(net, model, AdoptionData(res.adoption_step[0], 10), free, intervals=intervals,
                       tests=tests, progress=done.append)
        assert done == [1] * calls


def test_profile_interval_reaches_a_bound():
    """A pressure that is absent is estimated near 0 and its interval starts at 0."""
    net = diffusion.generators.erdos_renyi(500, mean_degree=6, seed=3)
    model = diffusion.Isomorphic(external=0.05, mimetic=0.0, normative=0.0)
    res = diffusion.simulate(net, model, runs=1, seed=2, max_steps=10)
    fit = fit_likelihood(net, model, AdoptionData(res.adoption_step[0], 10),
                         ["cascade.external", "cascade.normative"])
    lo, hi = fit.parameters["cascade.normative"].ci
    assert lo == 0.0 < hi
    assert lo <= fit.parameters["cascade.normative"].estimate <= hi


def test_free_parameter_errors():
    net = diffusion.generators.erdos_renyi(50, mean_degree=4, seed=1)
    data = AdoptionData(np.full(50, -1), 5)
    model = diffusion.Isomorphic(external=0.01, mimetic=0.2, mimetic_threshold=0.1)
    with pytest.raises(ParameterError, match="step function"):
        IsomorphicLikelihood(net, model, data, ["cascade.mimetic_threshold"])
    with pytest.raises(ParameterError, match="product"):
        IsomorphicLikelihood(net, model, data, ["cascade.mimetic", "cascade.uncertainty"])
    with pytest.raises(ParameterError, match="mandate"):
        IsomorphicLikelihood(net, model, data, ["cascade.mandates[0].compliance"])
    with pytest.raises(ParameterError, match="cascade"):
        IsomorphicLikelihood(net, model, data, ["network.n"])
    per_firm = diffusion.Isomorphic(external=np.full(50, 0.01), mimetic=0.2)
    with pytest.raises(ParameterError, match="single number"):
        IsomorphicLikelihood(net, per_firm, data, ["cascade.external"])
    drawn = diffusion.Isomorphic(external={"distribution": "uniform", "low": 0, "high": 0.1})
    with pytest.raises(ParameterError, match="distribution"):
        IsomorphicLikelihood(net, drawn, data, ["cascade.mimetic"])
    with pytest.raises(DiffusionError, match="firms"):
        IsomorphicLikelihood(net, model, AdoptionData(np.full(49, -1), 5))
    with pytest.raises(ParameterError, match="no free parameter"):
        IsomorphicLikelihood(net, diffusion.Isomorphic(), data)


def test_adoption_table_round_trip(tmp_path):
    net = diffusion.generators.smb_network(200, seed=2)
    res = diffusion.simulate(net, diffusion.Isomorphic(external=0.05), initial=2, runs=3,
                             seed=1, max_steps=6)
    ids, steps = adoption_table(res, 2)
    path = write_adoptions(tmp_path / "a.csv", ids, steps)
    back = read_adoptions(path, net, last_step=6)
    np.testing.assert_array_equal(back.steps, res.adoption_step[2])
    assert back.last_step == 6
    with pytest.raises(ParameterError, match="replicate"):
        adoption_table(res, 3)


@pytest.mark.parametrize(("text", "match"), [
    ("id,step\n0,1\n1,x\n", r"a\.csv: line 3: step 'x' is not an integer"),
    ("id,step\n0,1\n99,2\n", r"a\.csv: line 3: firm '99' is not in the network"),
    ("id,step\n0,1\n0,2\n", r"a\.csv: line 3: firm '0' is listed twice \(first on line 2\)"),
    ("id,step\n0,1.5\n", r"line 2: step '1\.5' is not an integer"),
    ("id,step\n0,-3\n", r"line 2: step -3 is negative"),
    ("firm,step\n0,1\n", r"a\.csv: line 1: no 'id' column"),
    ("id,when\n0,1\n", r"line 1: the header needs one 'step' column"),
    ("id,step\n0,1\n", r"a\.csv: 3 of the network's 4 firms are not in the table"),
    ("id,date\n0,2024-01-01\n", r"needs a period"),
])
def test_bad_adoption_tables_name_file_and_line(tmp_path, text, match):
    net = diffusion.generators.complete_graph(4)
    path = tmp_path / "a.csv"
    path.write_text(text)
    with pytest.raises(DiffusionError, match=match):
        read_adoptions(path, net)


def test_dates_with_a_period(tmp_path):
    net = diffusion.Network.from_edges(4, [0, 1], [1, 2], node_ids=["a", "b", "c", "d"])
    path = tmp_path / "d.csv"
    path.write_text("id,date\na,2023-12-20\nb,2024-01-05\nc,2024-02-28\nd,\n")
    data = read_adoptions(path, net, period="month", origin="2024-01-01")
    assert data.steps.tolist() == [0, 1, 2, -1]
    weekly = read_adoptions(path, net, period="week")
    assert weekly.steps.tolist() == [1, 3, 11, -1]  # 0, 16 and 70 days after the first date
    assert read_adoptions(path, net, period=14).steps.tolist() == [1, 2, 6, -1]
    with pytest.raises(DiffusionError, match=r"d\.csv: line 4: step 11 is after the last"):
        read_adoptions(path, net, period="week", last_step=5)
    path.write_text("id,date\na,2023-13-40\n")
    with pytest.raises(DiffusionError, match="line 2: date '2023-13-40' is not an ISO date"):
        read_adoptions(path, net, period="day", missing="never")
