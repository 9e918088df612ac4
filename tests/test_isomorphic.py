"""Isomorphic adoption: Bass limit, coercive mandates and partners, resistance, attribution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binom

import diffusion
from diffusion import Batch, Isomorphic, Network, ParameterError
from diffusion.fitting import bass_curve, fit_bass
from diffusion.generators import complete_graph, erdos_renyi

PRESSURES = ("coercive", "external", "mimetic", "normative")


def exact_chain(n: int, p: float, q: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of the adoption fraction on the complete graph K_n.

    With only ``external = p`` and ``mimetic = q`` every non-adopter has hazard
    ``h(A) = p + q A / (n - 1)`` when ``A`` firms have adopted, so ``A_t`` is a
    Markov chain with ``A_{t+1} - A_t ~ Binomial(n - A_t, h(A_t))``; we propagate
    its distribution exactly.
    """
    a = np.arange(n + 1)
    h = np.minimum(p + q * a / (n - 1), 1.0)
    P = np.zeros((n + 1, n + 1))
    for k in range(n + 1):  # one row of the transition matrix per state (test-side reference)
        P[k, k:] = binom.pmf(np.arange(n - k + 1), n - k, h[k])
    dist = np.zeros(n + 1)
    dist[0] = 1.0
    mean, var = [0.0], [0.0]
    for _ in range(steps):
        dist = dist @ P
        f = a / n
        mean.append(dist @ f)
        var.append(dist @ f**2 - mean[-1] ** 2)
    return np.array(mean), np.array(var)


def test_complete_graph_matches_exact_chain_and_bass_recursion():
    n, p, q, T, R = 200, 0.03, 0.4, 25, 400
    res = diffusion.simulate(
        complete_graph(n), Isomorphic(external=p, mimetic=q), runs=R, seed=11, max_steps=T
    )
    mean, var = exact_chain(n, p, q, T)
    curve = res.mean_curve()
    assert len(curve) == T + 1
    # the simulated mean curve is the exact chain's mean: 4 standard errors sqrt(var / R)
    assert np.all(np.abs(curve - mean) <= 4 * np.sqrt(var / R) + 1e-9)
    # the chain tends to the discrete Bass recursion with q' = q n / (n - 1) at rate 1/n
    dev = {}
    for size in (200, 2000):
        m_exact, _ = exact_chain(size, p, q, T)
        dev[size] = np.abs(m_exact - bass_curve(p, q * size / (size - 1), T)).max()
    assert dev[2000] <= 2.0 / 2000
    assert 8 < dev[200] / dev[2000] < 12  # O(1/n)
    # fit_bass recovers p and q from the (near-Bass) mean curve of a large population
    m_exact, _ = exact_chain(2000, p, q, T)
    fit = fit_bass(m_exact)
    assert fit.p == pytest.approx(p, rel=0.01)
    assert fit.q == pytest.approx(q * 2000 / 1999, rel=0.01)
    assert fit.m == pytest.approx(1.0, abs=1e-3)


def test_summary_has_pressures_and_bass_fit():
    res = diffusion.simulate(
        complete_graph(100), Isomorphic(external=0.05, mimetic=0.5), runs=20, seed=1, max_steps=40
    )
    s = res.summary()
    assert set(s["adoptions_by_pressure"]) == set(PRESSURES)
    assert s["adoptions_by_pressure"]["coercive"]["mean"] == 0
    assert s["bass_fit"]["form"] == "discrete"
    assert 0 < s["bass_fit"]["p"] < 0.2 and 0.2 < s["bass_fit"]["q"] < 0.8
    rec = res.to_records()[0]
    assert {f"adopted_by_{k}" for k in PRESSURES} <= set(rec)
    assert "adopted_by_mimetic" in res.curve_records()[-1]


def _regional(n: int = 300, seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    net = erdos_renyi(n, mean_degree=6, seed=seed)
    return net.with_attributes(
        region=rng.integers(1, 4, n),
        sector=rng.choice(["retail", "services"], n),
        size=rng.lognormal(2, 1, n),
    )


def test_mandates_only_adopt_exactly_the_mandated_set_at_start():
    net = _regional()
    model = Isomorphic(
        mandates=[
            {"where": {"region": 2}, "start": 3},
            {"where": {"sector": "retail", "size": {"min": 20}}, "start": 5},
        ]
    )
    res = diffusion.simulate(net, model, runs=5, seed=2)
    region = net.attribute("region")
    second = (net.attribute("sector") == "retail") & (net.attribute("size") >= 20) & (region != 2)
    expected = np.where(region == 2, 3, np.where(second, 5, -1))
    assert np.array_equal(res.adoption_step, np.broadcast_to(expected, res.adoption_step.shape))
    assert np.all(res.final("adopted_by")[:, 0] == np.count_nonzero(expected >= 0))
    assert np.all(res.outputs["cause"][:, expected >= 0] == 1)


def test_compliance_gives_geometric_delays():
    net = complete_graph(50).with_attributes(region=np.r_[np.ones(25), np.zeros(25)].astype(int))
    c, R = 0.3, 400
    res = diffusion.simulate(
        net,
        Isomorphic(mandates=[{"where": {"region": 1}, "start": 2, "compliance": c}]),
        runs=R,
        seed=3,
    )
    delay = res.adoption_step[:, :25].ravel() - 2 + 1  # geometric on 1, 2, ... with mean 1 / c
    assert np.all(res.adoption_step[:, 25:] == -1) and np.all(delay >= 1)
    se = np.sqrt((1 - c) / c**2 / delay.size)
    assert abs(delay.mean() - 1 / c) < 4 * se


def test_partner_coercion_follows_directed_dependency_edges():
    # 0 -> 1, 0 -> 2 (1 and 2 depend on 0), 3 -> 0 (0 depends on 3), 4 isolated; 1 -> 5 weak tie
    net = Network.from_edges(
        6, [0, 0, 3, 1], [1, 2, 0, 5], weights=[1.0, 1.0, 1.0, 0.2], directed=True
    )
    model = Isomorphic(partner_coercion={"probability": 1.0, "level": 0.5})
    res = diffusion.simulate(net, model, initial=[0], runs=3, seed=0)
    assert res.adoption_step.tolist() == [[0, 1, 1, -1, -1, -1]] * 3
    assert np.all(res.final("adopted_by")[:, 0] == 2)
    weak = diffusion.simulate(net, Isomorphic(partner_coercion=1.0), initial=[0], runs=1, seed=0)
    assert weak.adoption_step[0].tolist() == [0, 1, 1, -1, -1, 2]


def test_resistant_firms_never_adopt():
    net = _regional(200)
    frac = 0.3
    res = diffusion.simulate(net, Isomorphic(external=0.5, resistant=frac), runs=50, seed=4)
    never = np.count_nonzero(res.adoption_step < 0, axis=1)
    se = np.sqrt(frac * (1 - frac) * net.n / 50)
    assert abs(never.mean() - frac * net.n) < 4 * se  # binomial count, 4 standard errors
    region1 = net.attribute("region") == 1
    model = Isomorphic(
        external=0.5, mandates=[{"where": {"region": [1, 2]}}], resistant={"region": 1}
    )
    res = diffusion.simulate(net, model, runs=5, seed=5)
    assert np.all(res.adoption_step[:, region1] == -1)
    assert np.all(res.adoption_step[:, ~region1] >= 0)


def test_attribution_sums_and_is_proportional_to_terms():
    # hazard = coercive 0.1 (mandate on everyone) + external 0.1: each adoption is a fair coin
    net = complete_graph(100).with_attributes(region=np.ones(100, dtype=int))
    model = Isomorphic(external=0.1, mandates=[{"where": {"region": 1}, "compliance": 0.1}])
    R = 100
    res = diffusion.simulate(net, model, runs=R, seed=6)
    by = res.final("adopted_by").T
    assert np.array_equal(by.sum(axis=0), res.final_count)
    total = by.sum()
    share = by[0].sum() / total
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / total)  # binomial, 4 standard errors
    assert by[2:].sum() == 0
    cause = res.outputs["cause"]
    assert np.array_equal(np.count_nonzero(cause == 1, axis=1), by[0])


def test_mimetic_prestige_threshold_and_uncertainty_terms():
    # node 0 hears from 1 (prestige 3, adopted) and 2 (prestige 1, not adopted): m_0 = 3/4
    net = Network.from_edges(4, [0, 0, 3], [1, 2, 1]).with_attributes(
        success=[1.0, 3.0, 1.0, 1.0], uncertainty=[0.5, 1.0, 1.0, 1.0]
    )
    model = Isomorphic(mimetic=0.8, prestige="success")
    ctx = model.prepare(net)
    state = model.start(ctx, net, Batch.of(net, [np.array([1])], [np.random.default_rng(0)]))
    rep, node = np.zeros(3, dtype=np.int64), np.array([0, 2, 3])
    terms = model.terms(ctx, state, 1, rep, node)
    assert terms[2].tolist() == pytest.approx([0.8 * 0.5 * 0.75, 0.0, 0.8 * 1.0 * 1.0])
    thr = Isomorphic(mimetic=0.8, prestige="success", mimetic_threshold=0.8)
    ctx = thr.prepare(net)
    state = thr.start(ctx, net, Batch.of(net, [np.array([1])], [np.random.default_rng(0)]))
    assert thr.terms(ctx, state, 1, rep, node)[2].tolist() == pytest.approx([0.0, 0.0, 0.8])


def test_mimetic_threshold_blocks_small_seed_sets():
    net = complete_graph(100)
    low = diffusion.simulate(
        net, Isomorphic(mimetic=1.0, mimetic_threshold=0.2), initial=10, runs=3, seed=1
    )
    assert np.all(low.final_count == 10)
    high = diffusion.simulate(
        net, Isomorphic(mimetic=1.0, mimetic_threshold=0.2), initial=30, runs=3, seed=1
    )
    assert np.all(high.final_count == 100)


def test_normative_pull_stays_within_the_field():
    net = _regional(200)
    retail = net.attribute("sector") == "retail"
    seeds = np.nonzero(retail)[0][:5].tolist()
    res = diffusion.simulate(
        net, Isomorphic(normative=0.5, field="sector"), initial=seeds, runs=5, seed=7, max_steps=30
    )
    assert np.all(res.adoption_step[:, ~retail] == -1)
    assert np.all(res.final_count > 5)
    assert np.all(res.final("adopted_by")[:, 3] == res.final_count - 5)


def test_chunking_does_not_change_results():
    net = _regional(150)
    model = Isomorphic(
        external=0.02,
        mimetic=0.3,
        normative=0.1,
        field="sector",
        resistant=0.1,
        uncertainty={"distribution": "uniform", "low": 0.5, "high": 1.0},
        mandates=[{"where": {"region": 3}, "start": 4, "compliance": 0.5}],
    )
    a = diffusion.simulate(net, model, runs=7, seed=9)
    b = diffusion.simulate(net, model, runs=7, seed=9, chunk_size=2)
    assert np.array_equal(a.adoption_step, b.adoption_step)
    assert np.array_equal(a.outputs["cause"], b.outputs["cause"])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"external": 1.5}, "external"),
        ({"mimetic": -0.1}, "mimetic"),
        ({"normative": "x"}, "normative"),
        ({"mimetic_threshold": 2}, "mimetic_threshold"),
        ({"resistant": 1.2}, "resistant"),
        ({"field": 3}, "field"),
        ({"mandates": [{"where": {"region": 1}, "start": 0}]}, "mandates[0].start"),
        ({"mandates": [{"where": {"region": 1}, "compliance": 2}]}, "mandates[0].compliance"),
        ({"mandates": [{"start": 2}]}, "mandates[0].where"),
        ({"mandates": [{"where": {"region": 1}, "when": 2}]}, "mandates[0].when"),
        ({"partner_coercion": -1}, "partner_coercion"),
        ({"partner_coercion": {"probability": 0.5, "lvl": 1}}, "partner_coercion.lvl"),
    ],
)
def test_invalid_parameters_name_the_key(kwargs, name):
    with pytest.raises(ParameterError) as err:
        Isomorphic(**kwargs)
    assert err.value.name == name


def test_network_dependent_errors_name_the_key():
    net = complete_graph(5)
    for model, name in [
        (Isomorphic(mandates=[{"where": {"region": 1}}]), "mandates[0].where.region"),
        (Isomorphic(mimetic=0.1, prestige="success"), "prestige"),
        (Isomorphic(normative=0.1, field="sector"), "field"),
        (Isomorphic(resistant={"niche": True}), "resistant.niche"),
    ]:
        with pytest.raises(ParameterError) as err:
            diffusion.simulate(net, model, runs=1, seed=0)
        assert err.value.name == name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=st.floats(0, 0.3),
    q=st.floats(0, 2),
    nu=st.floats(0, 1),
    resist=st.floats(0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_properties(p, q, nu, resist, seed):
    net = erdos_renyi(60, mean_degree=4, seed=seed % 1000)
    model = Isomorphic(external=p, mimetic=q, normative=nu, resistant=resist)
    a = diffusion.simulate(net, model, initial=2, runs=3, seed=seed, max_steps=30)
    b = diffusion.simulate(net, model, initial=2, runs=3, seed=seed, max_steps=30, chunk_size=1)
    assert np.array_equal(a.adoption_step, b.adoption_step)
    assert np.all(a.counts <= net.n) and np.all(np.diff(a.counts, axis=0) >= 0)
    by = a.final("adopted_by").sum(axis=1) + a.outputs["adopted_initial"]
    assert np.array_equal(by, a.final_count)
    assert np.array_equal(np.count_nonzero(a.adoption_step >= 0, axis=1), a.final_count)


SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize("name", ["einvoicing_mandate", "retail_mimetic"])
def test_example_scenarios_run_and_write_pressure_summaries(name, tmp_path):
    scenario = diffusion.load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.cascade.model == "isomorphic"
    small = scenario.with_values({"network.n": 800}).replace(runs=4)
    res = diffusion.run_scenario(small)
    written = res.write(tmp_path)
    summary = json.loads(written["summary.json"].read_text())["cascade"]
    assert set(summary["adoptions_by_pressure"]) == set(PRESSURES)
    assert {"p", "q", "m", "se_p", "se_q", "se_m"} <= set(summary["bass_fit"])
    runs_header = written["runs.csv"].read_text().splitlines()[0].split(",")
    assert {f"adopted_by_{k}" for k in PRESSURES} <= set(runs_header)
    curve_header = written["curve.csv"].read_text().splitlines()[0].split(",")
    assert "adopted_by_mimetic" in curve_header
    if name == "einvoicing_mandate":
        assert summary["adoptions_by_pressure"]["coercive"]["mean"] > 0
    else:
        sector = res.network.attribute("sector")
        assert np.all(res.simulation.adoption_step[:, sector != "retail"] == -1)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["external", "mimetic_threshold", "resistant", "mimetic", "normative"]),
    value=st.one_of(st.floats(-1e6, -1e-9), st.floats(1 + 1e-9, 1e6), st.just(float("nan"))),
)
def test_out_of_range_values_name_the_parameter(name, value):
    if name in ("mimetic", "normative") and value > 1:
        value = -value  # any non-negative strength is valid
    with pytest.raises(ParameterError) as err:
        Isomorphic(**{name: value})
    assert err.value.name == name


def test_conformity_weight_scales_the_mimetic_term():
    net = diffusion.generators.erdos_renyi(400, mean_degree=8, seed=1)
    kw = dict(external=0.01, mimetic=0.6)
    ref = diffusion.simulate(net, diffusion.Isomorphic(**kw), runs=6, seed=2, max_steps=30)
    one = diffusion.simulate(net, diffusion.Isomorphic(conformity=1.0, **kw), runs=6, seed=2, max_steps=30)
    assert np.array_equal(ref.adoption_step, one.adoption_step)  # weight 1: the same model, draw for draw
    deaf = diffusion.simulate(net, diffusion.Isomorphic(conformity=0.0, **kw), runs=6, seed=2, max_steps=30)
    assert (deaf.final("adopted_by")[:, 2] == 0).all()  # no firm brought in by imitation
    # anti-conformists (half the firms, kappa = -1) adopt less, and never by imitation
    anti = np.arange(net.n) % 2 == 0
    net2 = net.with_attributes(kappa=np.where(anti, -1.0, 1.0))
    res = diffusion.simulate(net2, diffusion.Isomorphic(conformity="kappa", **kw), runs=6, seed=2,
                             max_steps=30)
    cause = res.outputs["cause"]
    assert not (cause[:, anti] == 3).any()
    assert (res.adoption_step[:, anti] >= 0).mean() < (ref.adoption_step[:, anti] >= 0).mean()
    by = res.final("adopted_by")
    assert np.array_equal(by.sum(axis=1), res.final_count)
    # a distribution is drawn per firm and replicate
    dist = diffusion.Isomorphic(conformity={"distribution": "uniform", "low": 0.0, "high": 1.0}, **kw)
    res = diffusion.simulate(net, dist, runs=6, seed=2, max_steps=30)
    assert deaf.final_count.mean() < res.final_count.mean() < ref.final_count.mean()
