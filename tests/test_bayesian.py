"""Observational learning (BHW 1992): cascade probabilities on a complete graph; mechanics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffusion
from diffusion import BayesianCascade, ParameterError
from diffusion.generators import complete_graph, erdos_renyi


def bhw(p: float, n: int) -> tuple[float, float, float]:
    """BHW (1992): P(correct cascade), P(wrong cascade), P(no cascade) after ``n`` firms (n even).

    Derivation. The true state is "adopt is good"; each signal is right with
    probability ``p``. Before a cascade every action reveals its actor's signal
    (a firm indifferent at a tie flips a fair coin), and a cascade starts as soon
    as adoptions lead rejections by two (``d = ±2``): every later firm then
    follows the herd whatever its signal. From ``d = 0`` take the next two firms:

    * first firm H (prob ``p``), adopts; second firm H (``p``) adopts, or L
      (``1 − p``) flips a coin and adopts with 1/2: ``P(AA) = p (p + (1 − p)/2) = p (1 + p)/2``;
    * first firm L, rejects; second L rejects, or H with a coin:
      ``P(RR) = (1 − p)(1 − p + p/2) = (1 − p)(2 − p)/2``;
    * otherwise (AR or RA) ``d`` is back at 0: ``P = p(1 − p) + ... = p − p²``
      (check: ``p(1 + p)/2 + (1 − p)(2 − p)/2 = 1 − p + p²``).

    So after ``n = 2k`` firms ``P(no cascade) = (p − p²)^k``, and the cascade, if
    any, started at pair ``j ≤ k`` with probability ``(p − p²)^{j−1}`` times
    ``P(AA)`` (correct) or ``P(RR)`` (wrong):

    ``P(correct) = p(1 + p)/2 · (1 − (p − p²)^k) / (1 − p + p²)``,
    ``P(wrong) = (1 − p)(2 − p)/2 · (1 − (p − p²)^k) / (1 − p + p²)``.
    """
    k = n // 2
    z = p - p * p
    geo = (1 - z**k) / (1 - z)
    return p * (1 + p) / 2 * geo, (1 - p) * (2 - p) / 2 * geo, z**k


def test_closed_form_sums_to_one():
    for p in (0.55, 0.7, 0.9):
        for n in (2, 6, 20):
            assert sum(bhw(p, n)) == pytest.approx(1.0)


def test_complete_graph_matches_bhw_closed_form():
    p, N, R = 0.6, 9, 20000
    res = diffusion.simulate(complete_graph(N), BayesianCascade(precision=p), runs=R, seed=12)
    action = res.outputs["action"].astype(np.int64)
    seq = np.take_along_axis(action, np.argsort(res.outputs["acted_at"], axis=1), axis=1)
    d = np.cumsum(seq, axis=1)  # public evidence after each firm
    for n in (2, 4, 6, 8):
        hit = np.abs(d[:, :n]) >= 2
        started = hit.any(axis=1)
        first = np.where(started, d[np.arange(R), np.argmax(hit, axis=1)], 0)
        correct, wrong, none = bhw(p, n)
        for est, prob in (
            (np.mean(~started), none),
            (np.mean(first > 0), correct),
            (np.mean(first < 0), wrong),
        ):
            assert abs(est - prob) < 4 * np.sqrt(
                prob * (1 - prob) / R
            )  # binomial, 4 standard errors
    # the model's own classification: with N = n + 1 firms, "a firm herded" = "cascade after n"
    correct, wrong, none = bhw(p, N - 1)
    s = res.summary()["cascades"]
    for key, prob in (("correct", correct), ("wrong", wrong), ("none", none)):
        assert abs(s[key] - prob) < 4 * np.sqrt(prob * (1 - prob) / R)
    # once a cascade starts, every later firm follows it
    c = res.outputs["cascade"]
    step = res.outputs["cascade_step"]
    for r in np.nonzero(c != 0)[0][:50]:
        later = seq[r, step[r] - 1 :]
        assert np.all(later == later[0])


def test_wrong_state_mirrors_and_random_state():
    p, N, R = 0.7, 7, 5000
    res = diffusion.simulate(
        complete_graph(N), BayesianCascade(precision=p, true_state=0), runs=R, seed=3
    )
    correct, wrong, _ = bhw(p, N - 1)
    c = res.outputs["cascade"]
    assert abs(np.mean(c == 1) - correct) < 4 * np.sqrt(correct * (1 - correct) / R)
    assert abs(np.mean(c == -1) - wrong) < 4 * np.sqrt(wrong * (1 - wrong) / R)
    # correct cascades under state 0 are rejection herds
    herd_adopt = (res.outputs["action"] > 0).mean(axis=1)
    assert herd_adopt[c == 1].mean() < 0.5
    rnd = diffusion.simulate(
        complete_graph(N), BayesianCascade(precision=p, true_state="random"), runs=2000, seed=4
    )
    ts = rnd.outputs["true_state"]
    assert abs(ts.mean() - 0.5) < 4 * np.sqrt(0.25 / 2000)
    assert abs(np.mean(rnd.outputs["cascade"] == 1) - correct) < 4 * np.sqrt(
        correct * (1 - correct) / 2000
    )


def test_simultaneous_moves_follow_own_signals():
    n, p = 400, 0.7
    res = diffusion.simulate(
        complete_graph(n), BayesianCascade(precision=p, per_step=n), runs=10, seed=5
    )
    assert res.steps.max() == 1
    frac = res.outputs["correct_fraction"].mean()
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / (10 * n))
    assert np.all(res.outputs["cascade"] == 0)


def test_order_by_attribute_and_initial_adopters():
    net = complete_graph(30).with_attributes(founded=np.arange(30)[::-1].astype(float))
    res = diffusion.simulate(net, BayesianCascade(order="founded"), runs=3, seed=6)
    assert np.array_equal(res.outputs["acted_at"][0], 30 - np.arange(30))
    # two committed early adopters make every other firm herd into adoption (a wrong cascade if bad)
    res = diffusion.simulate(
        complete_graph(20), BayesianCascade(precision=0.9, true_state=0), initial=2, runs=20, seed=7
    )
    assert np.all(res.final_count == 20) and np.all(res.outputs["cascade"] == -1)
    assert np.all(res.outputs["cascade_step"] == 1) and np.all(res.outputs["herders"] == 18)


def test_general_network_runs_and_is_chunk_invariant():
    net = erdos_renyi(300, mean_degree=5, seed=1)
    model = BayesianCascade(precision=0.65, per_step=3)
    a = diffusion.simulate(net, model, runs=6, seed=2)
    b = diffusion.simulate(net, model, runs=6, seed=2, chunk_size=4)
    assert np.array_equal(a.outputs["action"], b.outputs["action"])
    assert a.steps.max() == 100
    assert np.all(a.outputs["action"] != 0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"precision": 0.5}, "precision"),
        ({"precision": 1.2}, "precision"),
        ({"true_state": 2}, "true_state"),
        ({"true_state": 0.5}, "true_state"),
        ({"order": ""}, "order"),
        ({"per_step": 0}, "per_step"),
    ],
)
def test_invalid_parameters_name_the_key(kwargs, name):
    with pytest.raises(ParameterError) as err:
        BayesianCascade(**kwargs)
    assert err.value.name == name


def test_order_attribute_must_exist():
    with pytest.raises(ParameterError) as err:
        diffusion.simulate(complete_graph(4), BayesianCascade(order="age"), runs=1, seed=0)
    assert err.value.name == "order"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=st.floats(0.51, 1.0), per_step=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_properties(p, per_step, seed):
    net = erdos_renyi(40, mean_degree=4, seed=seed % 991)
    model = BayesianCascade(precision=p, per_step=per_step)
    a = diffusion.simulate(net, model, runs=3, seed=seed)
    b = diffusion.simulate(net, model, runs=3, seed=seed, chunk_size=1)
    assert np.array_equal(a.outputs["action"], b.outputs["action"])
    assert np.all(a.counts <= net.n) and np.all(np.diff(a.counts, axis=0) >= 0)
    assert np.array_equal(np.count_nonzero(a.outputs["action"] > 0, axis=1), a.final_count)


def test_example_scenario_runs_and_writes_cascade_summary(tmp_path):
    path = Path(__file__).resolve().parent.parent / "scenarios" / "bhw_herd.toml"
    res = diffusion.run_scenario(diffusion.load_scenario(path))  # 2000 runs of 50 firms: fast
    written = res.write(tmp_path)
    summary = json.loads(written["summary.json"].read_text())["cascade"]["cascades"]
    correct, wrong, none = bhw(0.7, 48)
    runs = res.simulation.runs
    # some firm among 50 herds iff the evidence hit +-2 within the first 49, i.e. (parity) 48
    assert summary["none"] == 0.0 and none < 1e-15
    assert abs(summary["correct"] - correct) < 4 * np.sqrt(correct * (1 - correct) / runs)
    assert abs(summary["wrong"] - wrong) < 4 * np.sqrt(wrong * (1 - wrong) / runs)
    assert summary["correct"] + summary["wrong"] + summary["none"] == pytest.approx(1.0)
    header = written["runs.csv"].read_text().splitlines()[0].split(",")
    assert {"cascade", "cascade_step", "herders", "correct_fraction"} <= set(header)


@settings(max_examples=40, deadline=None)
@given(
    precision=st.one_of(st.floats(-1e3, 0.5), st.floats(1 + 1e-9, 1e3)),
    per_step=st.integers(-100, 0),
)
def test_out_of_range_values_name_the_parameter(precision, per_step):
    with pytest.raises(ParameterError) as err:
        BayesianCascade(precision=precision)
    assert err.value.name == "precision"
    with pytest.raises(ParameterError) as err:
        BayesianCascade(per_step=per_step)
    assert err.value.name == "per_step"
