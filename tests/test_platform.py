"""Platform competition: logit shares, lock-in (Arthur / Pólya), switching, multi-homing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import diffusion
from diffusion import ParameterError, PlatformCompetition
from diffusion.generators import complete_graph, erdos_renyi, watts_strogatz
from diffusion.metrics import assortativity


def softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max())
    return e / e.sum()


def test_no_network_effects_gives_logit_shares_with_outside_option():
    n, R, tau = 4000, 10, 0.5
    fit, cost, u0 = np.array([0.5, 0.0, -0.5]), np.array([0.0, 0.2, 0.0]), 0.1
    model = PlatformCompetition(
        ["A", "B", "C"],
        fit=fit.tolist(),
        cost=cost.tolist(),
        noise=tau,
        revision_rate=1.0,
        outside_option=u0,
    )
    res = diffusion.simulate(
        erdos_renyi(n, mean_degree=4, seed=1), model, runs=R, seed=2, max_steps=1
    )
    # P(k) = exp((fit_k - cost_k)/tau) / (exp(u0/tau) + sum_l exp((fit_l - cost_l)/tau))
    probs = softmax(np.r_[u0, fit - cost] / tau)
    off = 1 - res.final_fraction
    assert abs(off.mean() - probs[0]) < 4 * np.sqrt(probs[0] * (1 - probs[0]) / (n * R))
    # shares are over firms on a platform: the conditional logit (IIA) softmax of the platforms only
    cond = softmax((fit - cost) / tau)
    shares = res.final("share").mean(axis=0)
    se = np.sqrt(cond * (1 - cond) / (n * R * (1 - probs[0])))
    assert np.all(np.abs(shares - cond) < 4 * se)  # multinomial, 4 standard errors


def test_every_firm_picks_a_platform_without_outside_option():
    model = PlatformCompetition(["A", "B"], revision_rate=1.0)
    res = diffusion.simulate(complete_graph(50), model, runs=3, seed=1, max_steps=2)
    assert np.all(res.final_count == 50) and np.all(res.outputs["platform"] > 0)
    assert res.adoption_step.max() == 1 and res.adoption_step.min() == 1


def test_switching_cost_in_one_revision():
    # everyone starts on A; with switching cost s, P(switch to B) = 1 / (1 + exp(s / tau))
    n, R, s = 3000, 10, 1.0
    model = PlatformCompetition(
        ["A", "B"], switching_cost=s, revision_rate=1.0, initial_shares=[1.0, 0.0]
    )
    res = diffusion.simulate(
        erdos_renyi(n, mean_degree=3, seed=3), model, runs=R, seed=4, max_steps=1
    )
    pb = 1 / (1 + np.exp(s))
    b = res.final("share")[:, 1].mean()
    assert abs(b - pb) < 4 * np.sqrt(pb * (1 - pb) / (n * R))
    assert np.all(res.adoption_step == 0)  # nobody left the market: spells started at step 0


@pytest.mark.parametrize("p", [5e-324, 1e-12, 0.001, 0.1, 0.3, 1 / 3 - 1e-15, 1 / 3, 0.5, 0.97])
def test_revision_gaps_are_numpys_geometric_draws_from_the_same_stream(p):
    # the revising firms are drawn by geometric skips: the same integers as numpy's geometric, and the
    # generator left where numpy's leaves it (so every later draw is unchanged)
    from diffusion.models.platform import _gaps

    n = 1000
    a, b = np.random.default_rng(17), np.random.default_rng(17)
    got = _gaps(a, p, 5000, n)
    assert got.dtype == np.int64
    assert np.array_equal(got, np.minimum(b.geometric(p, size=5000), n + 1))
    assert a.bit_generator.state == b.bit_generator.state


@pytest.mark.parametrize("batch", [None, 3])
@pytest.mark.parametrize(("n", "r"), [(1, 0.2), (7, 0.01), (500, 1e-9), (500, 0.1), (2000, 0.3), (300, 1 / 3 - 1e-12)])
def test_compiled_revisers_draw_the_same_firms_and_uniforms(monkeypatch, batch, n, r):
    # the compiled sums of skips and the numpy ones: the same firms, the same uniforms, the same streams
    # after (batch=3 forces many batches of skips per replicate)
    pytest.importorskip("numba")
    from diffusion.models import platform as P

    if batch is not None:
        monkeypatch.setattr(P, "_batch_size", lambda n, r: batch)
    model = PlatformCompetition(["A", "B"], revision_rate=r)
    active = np.array([True, False, True, True])
    rngs = [[np.random.default_rng(s) for s in range(4)] for _ in range(2)]
    a = model._revisers(rngs[0], active, n)
    b = model._revisers(rngs[1], active, n, compiled=True)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert [g.bit_generator.state for g in rngs[0]] == [g.bit_generator.state for g in rngs[1]]
    assert not np.isin(a[0], [1]).any() and (np.diff(a[0] * n + a[1]) > 0).all()


def test_revision_rate_is_the_fraction_revising():
    n, R, r = 5000, 5, 0.2
    model = PlatformCompetition(
        ["A", "B"], fit=[0.0, -50.0], revision_rate=r, initial_shares=[0.0, 1.0]
    )
    res = diffusion.simulate(
        erdos_renyi(n, mean_degree=3, seed=3), model, runs=R, seed=4, max_steps=1
    )
    moved = res.final("share")[:, 0]
    assert abs(moved.mean() - r) < 4 * np.sqrt(r * (1 - r) / (n * R))


def test_beta_zero_with_revision_converges_to_logit_shares():
    n, R = 2000, 5
    model = PlatformCompetition(
        ["A", "B"], fit=[0.4, 0.0], revision_rate=0.2, initial_shares=[0.0, 1.0]
    )
    res = diffusion.simulate(
        erdos_renyi(n, mean_degree=4, seed=5), model, runs=R, seed=6, max_steps=60
    )
    target = softmax(np.array([0.4, 0.0]))[0]
    # the share of A relaxes geometrically at rate (1 - r): after 60 steps the gap is 0.8^60 ~ 2e-6
    late = res.series["share"][-10:, :, 0]
    assert abs(late.mean() - target) < 4 * np.sqrt(target * (1 - target) / (n * R))
    early = res.series["share"][1, :, 0].mean()
    assert early == pytest.approx(0.2 * target, abs=4 * np.sqrt(0.2 * target / (n * R)))


def test_strong_global_effects_lock_in_with_symmetric_winners():
    R = 200
    model = PlatformCompetition(["A", "B"], global_effect=10.0, revision_rate=0.2)
    res = diffusion.simulate(
        erdos_renyi(300, mean_degree=4, seed=7), model, runs=R, seed=8, max_steps=80
    )
    winner = res.outputs["winner"]
    assert np.mean(winner > 0) >= 0.97
    a = np.mean(winner[winner > 0] == 1)
    assert abs(a - 0.5) < 4 * np.sqrt(0.25 / np.count_nonzero(winner > 0))  # binomial, 4 SE
    s = res.summary()["platforms"]
    assert s["names"] == ["A", "B"]
    assert s["lock_in"]["probability"] == pytest.approx(np.mean(winner > 0))
    assert sum(s["winner_counts"].values()) == np.count_nonzero(winner > 0)
    assert s["hhi"]["mean"] > 0.9 and 1 <= s["effective_number"]["mean"] < 1.2
    assert set(s["final_shares"]) == {"A", "B"}


def test_weak_effects_keep_a_diverse_market():
    model = PlatformCompetition(["A", "B", "C"], global_effect=0.5, revision_rate=0.2, fit_sd=0.5)
    res = diffusion.simulate(
        erdos_renyi(300, mean_degree=4, seed=7), model, runs=20, seed=8, max_steps=50
    )
    assert np.all(res.outputs["winner"] == 0)
    assert np.all(res.final("hhi") < 0.4)


def test_lock_in_step_definition_with_history():
    model = PlatformCompetition(
        ["A", "B"], global_effect=10.0, revision_rate=0.3, record_history=True, lock_in_share=0.9
    )
    res = diffusion.simulate(
        erdos_renyi(200, mean_degree=4, seed=9), model, runs=20, seed=10, max_steps=60
    )
    hist = res.series["platform_history"]
    assert hist.dtype == np.int8 and hist.shape == (61, 20, 200)
    assert np.array_equal(hist[-1], res.outputs["platform"])
    shares = res.series["share"]
    for r in range(20):  # the definition, replicate by replicate
        w, s = res.outputs["winner"][r], res.outputs["lock_in_step"][r]
        if w == 0:
            assert s == -1 and shares[-1, r].max() < 0.9
            continue
        assert np.all(shares[s:, r, w - 1] >= 0.9)
        assert s == 0 or shares[s - 1, r, w - 1] < 0.9
    # the recorded shares are those of the recorded platforms
    from diffusion.metrics import shares_from_labels

    assert np.allclose(shares_from_labels(hist[-1].astype(np.int64), 2), shares[-1])


def _multihoming_probability(c: float) -> float:
    """P(min(e1, e2) - c > e0) for i.i.d. standard Gumbel e0, e1, e2."""

    def integrand(x: float) -> float:
        return np.exp(-x - np.exp(-x)) * (1 - np.exp(-np.exp(-(x + c)))) ** 2

    return quad(integrand, -20, 40)[0]


def test_multihoming_probability_and_shares():
    n, R, c = 4000, 5, 0.5
    model = PlatformCompetition(["A", "B"], multihoming_cost=c, revision_rate=1.0)
    res = diffusion.simulate(
        erdos_renyi(n, mean_degree=3, seed=1), model, runs=R, seed=2, max_steps=1
    )
    second = res.outputs["platform_second"]
    first = res.outputs["platform"]
    pm = _multihoming_probability(c)
    frac = np.count_nonzero(second, axis=1).mean() / n
    assert abs(frac - pm) < 4 * np.sqrt(pm * (1 - pm) / (n * R))
    assert np.all((second == 0) | (second != first)) and np.all(first > 0)
    # shares weight a multi-homer 1/2 on each platform: recompute them from the firm arrays
    for r in range(R):
        w = np.zeros(2)
        single = second[r] == 0
        np.add.at(w, first[r][single] - 1, 1.0)
        np.add.at(w, first[r][~single] - 1, 0.5)
        np.add.at(w, second[r][~single] - 1, 0.5)
        assert np.allclose(res.final("share")[r], w / w.sum())
    assert "multihoming" in res.series


def test_per_sector_fit_and_local_effects():
    rng = np.random.default_rng(0)
    net = watts_strogatz(600, 6, 0.05, seed=1)
    net = net.with_attributes(sector=rng.choice(["retail", "manufacturing"], net.n))
    model = PlatformCompetition(
        ["A", "B"], fit={"retail": [2.0, 0.0], "manufacturing": [0.0, 2.0]}, revision_rate=1.0
    )
    res = diffusion.simulate(net, model, runs=4, seed=3, max_steps=1)
    retail = net.attribute("sector") == "retail"
    on_a = res.outputs["platform"] == 1
    assert on_a[:, retail].mean() > 0.8 and on_a[:, ~retail].mean() < 0.2
    local = PlatformCompetition(["A", "B"], local_effect=4.0, revision_rate=0.3)
    res = diffusion.simulate(net, local, runs=4, seed=3, max_steps=40)
    assert np.all(assortativity(net, res.outputs["platform"].astype(np.int64)) > 0.3)
    none = PlatformCompetition(["A", "B"], revision_rate=0.3)
    res0 = diffusion.simulate(net, none, runs=4, seed=3, max_steps=40)
    assert np.all(np.abs(assortativity(net, res0.outputs["platform"].astype(np.int64))) < 0.15)


def test_records_and_curve_columns():
    model = PlatformCompetition(["alpha", "beta"], global_effect=2.0, revision_rate=0.5)
    res = diffusion.simulate(complete_graph(30), model, runs=4, seed=1, max_steps=5)
    rec = res.to_records()[0]
    assert {"share_alpha", "share_beta", "hhi", "winner", "lock_in_step"} <= set(rec)
    cur = res.curve_records()
    assert len(cur) == 6 and {"share_alpha", "share_beta", "hhi"} <= set(cur[-1])
    assert cur[0]["share_alpha"] == 0 and cur[0]["hhi"] == 0  # empty market at step 0
    assert model.platforms == ("alpha", "beta")
    out = res.outputs
    assert out["platform"].dtype == np.int16 and out["platform_second"].dtype == np.int16


def test_initial_adopters_are_rejected():
    with pytest.raises(ParameterError) as err:
        diffusion.simulate(complete_graph(10), PlatformCompetition(), initial=2, runs=1, seed=0)
    assert err.value.name == "initial"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"platforms": []}, "platforms"),
        ({"platforms": ["A", "A"]}, "platforms"),
        ({"fit": [1.0]}, "fit"),
        ({"fit": {"C": 1.0}}, "fit.C"),
        ({"cost": "x"}, "cost"),
        ({"fit_sd": -1}, "fit_sd"),
        ({"noise": 0}, "noise"),
        ({"revision_rate": 1.5}, "revision_rate"),
        ({"global_effect": float("nan")}, "global_effect"),
        ({"initial_shares": [0.8, 0.8]}, "initial_shares"),
        ({"lock_in_share": 0.4}, "lock_in_share"),
        ({"multihoming_cost": [0.0, float("nan")]}, "multihoming_cost"),
        ({"multihoming_cost": True}, "multihoming_cost"),
        ({"share_cap": 1.5}, "share_cap"),
        ({"share_cap": {"C": 0.5}}, "share_cap.C"),
        ({"conformity": float("nan")}, "conformity"),
        ({"record_history": 1}, "record_history"),
    ],
)
def test_invalid_parameters_name_the_key(kwargs, name):
    with pytest.raises(ParameterError) as err:
        PlatformCompetition(**kwargs)
    assert err.value.name == name


def test_per_sector_fit_needs_the_attribute():
    model = PlatformCompetition(["A", "B"], fit={"retail": [1.0, 0.0]})
    with pytest.raises(ParameterError) as err:
        diffusion.simulate(complete_graph(5), model, runs=1, seed=0)
    assert err.value.name == "fit"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beta=st.floats(0, 8),
    local=st.floats(0, 3),
    switch=st.floats(0, 2),
    r=st.floats(0.05, 1),
    mh=st.one_of(st.none(), st.floats(0, 2)),
    outside=st.one_of(st.none(), st.floats(-2, 2)),
    seed=st.integers(0, 2**32 - 1),
)
def test_properties(beta, local, switch, r, mh, outside, seed):
    net = erdos_renyi(80, mean_degree=4, seed=seed % 997)
    model = PlatformCompetition(
        ["A", "B", "C"],
        global_effect=beta,
        local_effect=local,
        switching_cost=switch,
        revision_rate=r,
        multihoming_cost=mh,
        outside_option=outside,
        fit_sd=0.3,
    )
    a = diffusion.simulate(net, model, runs=3, seed=seed, max_steps=15)
    b = diffusion.simulate(net, model, runs=3, seed=seed, max_steps=15, chunk_size=1)
    assert np.array_equal(a.outputs["platform"], b.outputs["platform"])
    assert np.array_equal(a.series["share"], b.series["share"])
    sums = a.series["share"].sum(axis=2)
    on = a.counts > 0
    assert np.allclose(sums[on], 1.0) and np.all(sums[~on] == 0)
    assert np.all(a.counts <= net.n)
    assert np.array_equal(np.count_nonzero(a.outputs["platform"], axis=1), a.final_count)
    assert np.array_equal(a.adoption_step >= 0, a.outputs["platform"] > 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "global_effect": 6.0,
            "local_effect": 2.0,
            "switching_cost": 0.5,
            "fit_sd": 0.4,
            "revision_rate": 0.3,
        },
        {
            "global_effect": 1.0,
            "local_effect": 1.0,
            "outside_option": 0.2,
            "revision_rate": 0.5,
            "initial_shares": [0.2, 0.3, 0.1],
        },
        {
            "global_effect": 2.0,
            "local_effect": 1.5,
            "multihoming_cost": 0.5,
            "switching_cost": 0.3,
            "outside_option": -0.5,
            "fit": [0.2, 0.0, -0.1],
            "cost": [0.0, 0.1, 0.0],
        },
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_numba_and_numpy_backends_agree(kwargs, weighted):
    net = erdos_renyi(400, mean_degree=5, seed=11)
    if weighted:
        rng = np.random.default_rng(0)
        src, dst = net.edges()
        net = diffusion.Network.from_edges(net.n, src, dst, weights=rng.uniform(0.1, 2.0, len(src)))
    runs = {}
    for backend in ("numpy", "numba"):
        model = PlatformCompetition(["A", "B", "C"], backend=backend, **kwargs)
        runs[backend] = diffusion.simulate(net, model, runs=4, seed=5, max_steps=25)
    a, b = runs["numpy"], runs["numba"]
    for key in ("platform", "platform_second", "winner", "lock_in_step"):
        assert np.array_equal(a.outputs[key], b.outputs[key]), key
    assert np.array_equal(a.series["share"], b.series["share"])
    assert np.array_equal(a.adoption_step, b.adoption_step)
    assert np.array_equal(a.counts, b.counts)


SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize("name", ["platform_lockin", "platform_diverse"])
def test_example_scenarios_run_and_write_platform_summaries(name, tmp_path):
    scenario = diffusion.load_scenario(SCENARIOS / f"{name}.toml")
    small = scenario.with_values({"network.n": 1000}).replace(runs=6, max_steps=60)
    res = diffusion.run_scenario(small)
    written = res.write(tmp_path)
    summary = json.loads(written["summary.json"].read_text())["cascade"]["platforms"]
    names = ["storefront", "marketplace", "social_shop"]
    assert summary["names"] == names
    assert set(summary["final_shares"]) == set(names)
    assert {"mean", "q05", "q95"} <= set(summary["hhi"]) | set(
        summary["final_shares"]["marketplace"]
    )
    assert {"probability", "step_mean"} == set(summary["lock_in"])
    assert set(summary["winner_counts"]) == set(names)
    assert "effective_number" in summary
    runs_header = written["runs.csv"].read_text().splitlines()[0].split(",")
    assert {
        "share_storefront",
        "share_marketplace",
        "share_social_shop",
        "hhi",
        "winner",
        "lock_in_step",
    } <= set(runs_header)
    curve_header = written["curve.csv"].read_text().splitlines()[0].split(",")
    assert {"share_storefront", "hhi"} <= set(curve_header)
    if name == "platform_lockin":
        assert summary["lock_in"]["probability"] >= 0.5
    else:
        assert summary["lock_in"]["probability"] == 0 and summary["hhi"]["mean"] < 0.5


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["revision_rate", "lock_in_share", "noise", "fit_sd", "switching_cost"]),
    value=st.one_of(st.floats(-1e6, -1e-9), st.floats(1 + 1e-9, 1e6), st.just(float("inf"))),
)
def test_out_of_range_values_name_the_parameter(name, value):
    if name in ("noise", "fit_sd", "switching_cost") and np.isfinite(value):
        if name == "switching_cost":
            value = float("nan")  # any finite switching cost is valid
        else:
            value = -abs(value)
    with pytest.raises(ParameterError) as err:
        PlatformCompetition(**{name: value})
    assert err.value.name == name


# ----------------------------------------------------------------- conformity, per-firm multi-homing, share cap
def _backends_agree(net, **kwargs):
    out = {}
    for backend in ("numpy", "numba"):
        model = PlatformCompetition(["A", "B", "C"], backend=backend, **kwargs)
        out[backend] = diffusion.simulate(net, model, runs=4, seed=5, max_steps=25)
    a, b = out["numpy"], out["numba"]
    for key in ("platform", "platform_second", "winner", "lock_in_step"):
        assert np.array_equal(a.outputs[key], b.outputs[key]), key
    for key in a.series:
        assert np.array_equal(a.series[key], b.series[key]), key
    assert np.array_equal(a.counts, b.counts)
    return a


@pytest.mark.parametrize(
    "kwargs",
    [
        {"global_effect": 4.0, "local_effect": 2.0, "conformity": -0.5},
        {"global_effect": 4.0, "local_effect": 2.0, "fit_sd": 0.5,
         "conformity": {"distribution": "normal", "mean": 0.5, "sd": 1.0}},
        {"global_effect": 3.0, "local_effect": 1.0, "multihoming_cost": "mh", "switching_cost": 0.2},
        {"global_effect": 6.0, "share_cap": 0.4, "revision_rate": 0.4},
        {"global_effect": 6.0, "local_effect": 1.0, "share_cap": {"A": 0.3}, "multihoming_cost": 0.2,
         "outside_option": -1.0, "conformity": "kappa"},
    ],
)
def test_numba_and_numpy_agree_with_conformity_multihoming_costs_and_caps(kwargs):
    net = erdos_renyi(400, mean_degree=5, seed=11)
    rng = np.random.default_rng(3)
    mh = np.where(rng.random(net.n) < 0.3, 0.0, np.inf)
    net = net.with_attributes(mh=mh, kappa=rng.uniform(-1, 1, net.n))
    _backends_agree(net, **kwargs)


def test_conformity_one_and_zero_costs_for_everyone_change_nothing():
    net = erdos_renyi(300, mean_degree=5, seed=2)
    base = dict(global_effect=4.0, local_effect=2.0, fit_sd=0.3, revision_rate=0.3)
    ref = diffusion.simulate(net, PlatformCompetition(["A", "B"], **base), runs=3, seed=4, max_steps=20)
    one = diffusion.simulate(net, PlatformCompetition(["A", "B"], conformity=1.0, **base), runs=3, seed=4,
                             max_steps=20)
    assert np.array_equal(ref.outputs["platform"], one.outputs["platform"])
    mh = dict(base, multihoming_cost=0.7)
    ref = diffusion.simulate(net, PlatformCompetition(["A", "B"], **mh), runs=3, seed=4, max_steps=20)
    per_firm = dict(base, multihoming_cost=np.full(net.n, 0.7))
    same = diffusion.simulate(net, PlatformCompetition(["A", "B"], **per_firm), runs=3, seed=4, max_steps=20)
    assert np.array_equal(ref.outputs["platform_second"], same.outputs["platform_second"])


def test_negative_conformity_lowers_concentration_against_the_same_seeds():
    net = erdos_renyi(600, mean_degree=6, seed=1)
    kw = dict(global_effect=5.0, local_effect=2.0, revision_rate=0.3)
    hhi = {}
    for kappa in (1.0, 0.0, -1.0):
        res = diffusion.simulate(net, PlatformCompetition(["A", "B", "C"], conformity=kappa, **kw), runs=10,
                                 seed=7, max_steps=60)
        hhi[kappa] = res.final("hhi")
    # the same seeds: paired differences, each replicate less concentrated
    assert (hhi[0.0] < hhi[1.0]).all() and hhi[-1.0].mean() < hhi[0.0].mean() + 0.02
    assert hhi[1.0].mean() > 0.8 and hhi[0.0].mean() < 0.45


def test_per_firm_infinite_multihoming_cost_forbids_a_second_platform():
    net = erdos_renyi(400, mean_degree=5, seed=1)
    allowed = np.arange(net.n) % 2 == 0
    model = PlatformCompetition(["A", "B"], fit=2.0, multihoming_cost=np.where(allowed, 0.0, np.inf),
                                revision_rate=1.0)
    res = diffusion.simulate(net, model, runs=3, seed=2, max_steps=3)
    second = res.outputs["platform_second"]
    assert (second[:, ~allowed] == 0).all()
    # a second platform of fit 2 beats the outside option's 0 + Gumbel noise most of the time
    assert (second[:, allowed] > 0).mean() > 0.6


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize(("cap", "platforms", "mh"), [(0.5, 2, None), (0.4, 3, None), (0.35, 3, 0.0)])
def test_share_cap_holds_at_every_step(backend, cap, platforms, mh):
    net = erdos_renyi(501, mean_degree=6, seed=3)
    names = ["A", "B", "C"][:platforms]
    model = PlatformCompetition(names, global_effect=8.0, local_effect=1.0, revision_rate=0.5,
                                share_cap=cap, multihoming_cost=mh, backend=backend)
    res = diffusion.simulate(net, model, runs=6, seed=9, max_steps=40)
    installed = res.series["installed_base"]  # (T + 1, runs, K)
    assert installed.max() <= cap + 1e-12
    # without the cap the market locks in; with it, it stays spread (the same seeds)
    free = PlatformCompetition(names, global_effect=8.0, local_effect=1.0, revision_rate=0.5,
                               multihoming_cost=mh, backend=backend)
    locked = diffusion.simulate(net, free, runs=6, seed=9, max_steps=40)
    assert (res.final("hhi") < locked.final("hhi") - 0.1).all()
    # every step's counts agree with the firms' final holdings
    plat, sec = res.outputs["platform"], res.outputs["platform_second"]
    for k in range(1, platforms + 1):
        held = ((plat == k) | (sec == k)).sum(axis=1) / net.n
        assert np.allclose(held, installed[-1, :, k - 1])


def test_share_cap_on_one_platform_and_initial_shares_over_the_cap():
    net = erdos_renyi(400, mean_degree=5, seed=3)
    model = PlatformCompetition(["A", "B"], global_effect=8.0, revision_rate=0.5, share_cap={"A": 0.25},
                                fit=[1.0, 0.0])
    res = diffusion.simulate(net, model, runs=4, seed=1, max_steps=30)
    assert res.series["installed_base"][:, :, 0].max() <= 0.25
    assert res.series["installed_base"][-1, :, 1].min() > 0.7  # the rest go to B
    bad = PlatformCompetition(["A", "B"], share_cap=0.3, initial_shares=[0.5, 0.0])
    with pytest.raises(ParameterError) as err:
        diffusion.simulate(net, bad, runs=1, seed=1, max_steps=2)
    assert err.value.name == "share_cap"


def test_resume_replays_the_fit_and_continues_from_given_holdings():
    from diffusion.engine import Batch
    from diffusion.initial import Initial

    net = erdos_renyi(200, mean_degree=5, seed=3)
    model = PlatformCompetition(["A", "B"], fit_sd=1.0, global_effect=2.0, revision_rate=0.5)
    ctx = model.prepare(net)
    seed = np.random.SeedSequence(4)
    batch = Batch(seed, 2, 3, 10, Initial("none"), net)
    start = model.start(ctx, net, batch)
    primary = np.ones((3, net.n), dtype=np.int16)
    second = np.zeros_like(primary)
    rngs = [np.random.default_rng(s) for s in range(3)]
    st = model.resume(ctx, net, Batch(seed, 2, 3, 10, Initial("none"), net), primary, second, rngs)
    assert np.array_equal(st.fit, start.fit)
    assert (st.holders[:, 0] == net.n).all() and (st.holders[:, 1] == 0).all()
    st.closed = np.zeros((3, 2), dtype=np.int8)
    st.closed[:, 0] = 2  # platform A fails: nobody may stay on it
    st.frozen = np.zeros((3, net.n), dtype=bool)
    st.frozen[:, :50] = True
    for t in range(1, 30):
        model.step(ctx, net, st, t)
    assert (st.primary[:, :50] == 1).all()  # frozen firms did not move
    assert (st.primary[:, 50:] == 2).mean() > 0.99
