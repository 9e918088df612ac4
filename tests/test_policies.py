"""Mitigation policies: the closed forms they must reproduce, common random numbers, recovery, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import diffusion
from diffusion.cli import main
from diffusion.errors import ParameterError, ScenarioError
from diffusion.parallel import ProcessExecutor, SerialExecutor
from diffusion.policies import (
    Policy,
    RecoverySpec,
    Target,
    check_comparison,
    compare_policies,
    criticality_ranking,
    recovery_measures,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _scenario(policies, *, runs=8, n=400, cascade=None, shock=None, recovery=None, **extra):
    data = {
        "scenario": {"name": "policies_test", "seed": 11, "runs": runs, "max_steps": 30},
        "network": {"generator": "smb", "n": n, "mean_degree": 6.0, "sectors": 3, "regions": 2},
        "cascade": cascade or {"model": "platform_competition", "platforms": ["A", "B", "C"], "fit_sd": 1.0,
                               "global_effect": 4.0, "local_effect": 1.0, "revision_rate": 0.3,
                               "multihoming_cost": 3.0},
        "shock": shock or {"type": "platform_outage", "exposure": {"loss_given_default": 0.25}},
        "policy": policies,
        **extra,
    }
    if recovery is not None:
        data["recovery"] = recovery
    return diffusion.parse_scenario(data)


def _rows(cmp):
    return {r["policy"]: r for r in cmp.table}


def _per_replicate(cmp, name, key="total_loss"):
    return np.array([r[key] for r in cmp.runs if r["policy"] == name])


# ----------------------------------------------------------------- closed forms
def test_multihoming_for_every_firm_halves_the_direct_loss_exactly():
    # every firm prefers A by far and keeps B as a second platform once multi-homing is free;
    # no propagation (loss given default 0): the outage of A hits each firm with reliance 1/2
    cascade = {"model": "platform_competition", "platforms": ["A", "B"], "fit": [60.0, 30.0],
               "revision_rate": 1.0, "multihoming_cost": 1000.0}
    sc = _scenario([{"name": "all", "intervention": "multihoming"}], cascade=cascade,
                   shock={"type": "platform_outage", "platform": "A",
                          "exposure": {"loss_given_default": 0.0}})
    cmp = compare_policies(sc)
    base, pol = _per_replicate(cmp, "baseline", "initial_loss"), _per_replicate(cmp, "all", "initial_loss")
    assert (base == 1.0).all()
    assert (pol == 0.5).all()
    assert np.array_equal(_per_replicate(cmp, "all"), pol)  # nothing propagates
    row = _rows(cmp)["all"]
    assert row["loss_change_mean"] == -0.5 and row["loss_change_se"] == 0.0
    assert row["failed_fraction_mean"] == 0.0 and row["cost"] == 1.0 and row["treated"] == 1.0


@pytest.mark.parametrize("level", [0.0, 0.25, 0.5, 1.0])
def test_interoperability_scales_the_direct_hit_by_one_minus_level(level):
    sc = _scenario([{"name": "interop", "intervention": "interoperability", "level": level},
                    {"name": "interop_other", "intervention": "interoperability", "level": level,
                     "platform": "C"}],
                   shock={"type": "platform_outage", "platform": "A", "severity": 0.8,
                          "exposure": {"loss_given_default": 0.0}})
    cmp = compare_policies(sc)
    base = _per_replicate(cmp, "baseline", "initial_loss")
    assert base.min() > 0.05  # A has firms in every replicate
    np.testing.assert_allclose(_per_replicate(cmp, "interop", "initial_loss"), (1 - level) * base,
                               rtol=1e-12, atol=1e-15)
    # a mandate on another platform does nothing when A fails
    assert np.array_equal(_per_replicate(cmp, "interop_other", "initial_loss"), base)
    assert _rows(cmp)["interop"]["cost"] == pytest.approx(level)


def test_decoupling_scales_the_targets_hit_and_buffers_shrink_it_in_proportion():
    sc = _scenario([{"name": "decouple", "intervention": "decoupling", "level": 0.3},
                    {"name": "buffer", "intervention": "buffers", "amount": 1.0}],
                   shock={"type": "platform_outage", "platform": "B", "severity": 0.6, "value": "equal",
                          "exposure": {"loss_given_default": 0.0, "resources": "size"}})
    cmp = compare_policies(sc)
    base = _per_replicate(cmp, "baseline", "initial_loss")
    np.testing.assert_allclose(_per_replicate(cmp, "decouple", "initial_loss"), 0.3 * base, rtol=1e-12)
    # buffers equal to the size: one more unit per unit of size halves every hit
    np.testing.assert_allclose(_per_replicate(cmp, "buffer", "initial_loss"), 0.5 * base, rtol=1e-12)


def _star(tmp_path, leaves=100):
    edges = tmp_path / "star.csv"
    edges.write_text("source,target\n" + "".join(f"hub,f{i}\n" for i in range(leaves)))
    nodes = tmp_path / "firms.csv"
    sectors = ["a"] + ["a" if i < leaves // 2 else "b" for i in range(leaves)]
    nodes.write_text("id,sector\n" + "".join(f"{nid},{s}\n" for nid, s in
                                               zip(["hub", *[f"f{i}" for i in range(leaves)]], sectors,
                                                   strict=True)))
    return {"generator": "file", "path": str(edges), "nodes": str(nodes)}


def test_criticality_targets_the_hub_of_a_star_and_averts_more_than_random_targets(tmp_path):
    # the hub and half the leaves are on platform A, the others on B; A fails; a failed hub takes
    # down every leaf (each leaf's whole business is with the hub)
    cascade = {"model": "platform_competition", "platforms": ["A", "B"], "fit": {"a": [10.0, 0.0],
               "b": [0.0, 10.0]}, "revision_rate": 1.0}
    pols = [{"name": f"{by}_{iv}", "intervention": iv, "target": {"by": by, "count": 1}, **extra}
            for by in ("criticality", "random")
            for iv, extra in (("decoupling", {"level": 0.0}), ("buffers", {"amount": 5.0}))]
    data = {
        "scenario": {"name": "star", "seed": 3, "runs": 6, "max_steps": 3},
        "network": _star(tmp_path),
        "cascade": cascade,
        "shock": {"type": "platform_outage", "platform": "A", "value": "equal",
                  "exposure": {"loss_given_default": 1.0}},
        "policy": pols,
    }
    cmp = compare_policies(diffusion.parse_scenario(data))
    rows = _rows(cmp)
    assert rows["baseline"]["total_loss_mean"] == pytest.approx(1.0)
    for iv in ("decoupling", "buffers"):
        crit, rand = rows[f"criticality_{iv}"], rows[f"random_{iv}"]
        assert crit["treated"] == rand["treated"] == 1 / 101
        # saving the hub saves the leaves on B (about half the value); a random leaf saves itself
        assert crit["loss_change_mean"] < -0.45
        assert rand["loss_change_mean"] > -0.02
        assert crit["loss_change_mean"] < rand["loss_change_mean"] - 10 * rand["loss_change_se"] - 0.4


def _star_hub_buffers(tmp_path, **shock):
    """The star scenario with one policy: buffers for the 3 firms most critical to an outage of A."""
    return {
        "scenario": {"name": "star", "seed": 3, "runs": 4, "max_steps": 3},
        "network": _star(tmp_path),
        "cascade": {"model": "platform_competition", "platforms": ["A", "B"], "revision_rate": 1.0},
        "shock": {"type": "platform_outage", "platform": "A", "exposure": {"loss_given_default": 1.0}, **shock},
        "policy": [{"name": "hub", "intervention": "buffers", "amount": 5.0,
                    "target": {"by": "criticality", "count": 3}}],
    }


def test_the_criticality_ranking_runs_on_threads_without_changing_the_comparison(tmp_path):
    sc = diffusion.parse_scenario(_star_hub_buffers(tmp_path))
    one, two = (compare_policies(sc, threads=t).table for t in (1, 2))
    assert one == two
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match="threads"):
            compare_policies(sc, threads=bad)


def test_a_ranking_computed_once_is_reused_and_gives_the_same_comparison(tmp_path):
    data = _star_hub_buffers(tmp_path, propagation="debtrank")
    sc = diffusion.parse_scenario(data)
    done = []
    scores = criticality_ranking(sc, threads=1, progress=done.append)
    assert scores.shape == (101,) and sum(done) == 101
    assert scores.argmax() == 0  # the hub's failure costs the most
    fresh = compare_policies(sc)
    np.testing.assert_array_equal(fresh.ranking, scores)
    reused = compare_policies(sc, ranking=scores, network=check_comparison(sc))
    assert reused.table == fresh.table
    np.testing.assert_array_equal(reused.ranking, scores)
    assert reused.ranking is not scores  # a copy: changing the scores later does not change the result
    # the ranking decides the targets: the reverse order treats other firms (as many, at the same cost)
    other = compare_policies(sc, ranking=-scores)
    assert other.table[1]["cost"] == fresh.table[1]["cost"] and other.table[1] != fresh.table[1]
    for bad, match in ((scores[:5], "one score per firm"), (np.full(101, np.nan), "finite"),
                       ("high", "numbers")):
        with pytest.raises(ParameterError, match=match) as err:
            compare_policies(sc, ranking=bad)
        assert err.value.name == "ranking"
    without = {k: v for k, v in data.items() if k != "policy"}
    assert compare_policies(sc, [{"name": "all", "intervention": "buffers", "amount": 1.0}]).ranking is None
    with pytest.raises(ScenarioError) as err:
        criticality_ranking(diffusion.parse_scenario({k: v for k, v in without.items() if k != "shock"}))
    assert err.value.key == "shock"


def test_check_comparison_reports_a_bad_target_before_anything_runs(tmp_path):
    data = {
        "scenario": {"name": "star", "seed": 3, "runs": 2, "max_steps": 3},
        "network": _star(tmp_path),
        "cascade": {"model": "platform_competition", "platforms": ["A", "B"]},
        "shock": {"type": "platform_outage", "platform": "A"},
        "policy": [{"name": "p", "intervention": "buffers", "amount": 1.0,
                    "target": {"by": "criticality", "count": 1, "sector": "nowhere"}}],
    }
    with pytest.raises(ScenarioError) as err:
        check_comparison(diffusion.parse_scenario(data))
    assert err.value.key == "policy[0].target.sector"
    data["policy"][0]["target"].pop("sector")
    assert check_comparison(diffusion.parse_scenario(data)).n == 101


def test_share_cap_holds_at_every_step_and_differentiation_lowers_concentration():
    sc = _scenario([{"name": "cap", "intervention": "share_cap", "level": 0.45},
                    {"name": "cap_A", "intervention": "share_cap", "level": 0.2, "platform": "A"},
                    {"name": "differ", "intervention": "differentiation", "conformity": -0.5,
                     "target": {"by": "random", "fraction": 0.2}}], runs=10)
    cmp = compare_policies(sc)
    installed = cmp.simulations["cap"].series["installed_base"]
    assert installed.max() <= 0.45 + 1e-12
    assert cmp.simulations["cap_A"].series["installed_base"][:, :, 0].max() <= 0.2 + 1e-12
    base_hhi, diff_hhi = _per_replicate(cmp, "baseline", "hhi"), _per_replicate(cmp, "differ", "hhi")
    # the same seeds: concentration falls in every replicate
    assert (diff_hhi < base_hhi).all()
    assert _rows(cmp)["differ"]["hhi_mean"] < _rows(cmp)["baseline"]["hhi_mean"] - 0.1
    # the cap's cost: the share of firms it must move off the platforms above it in the baseline
    inst = np.asarray(cmp.simulations["baseline"].outputs["policy_installed"])
    assert _rows(cmp)["cap"]["cost"] == pytest.approx(np.maximum(inst - 0.45, 0).sum(axis=1).mean())


def test_paired_standard_errors_are_smaller_than_unpaired_ones():
    # shock-only policies are paired exactly (the same cascade, the same draws); a policy that
    # changes the cascade a little keeps the replicates correlated through the shared seeds
    sc = _scenario([{"name": "interop", "intervention": "interoperability", "level": 0.3},
                    {"name": "buffers", "intervention": "buffers", "amount": 0.3,
                     "target": {"by": "degree", "fraction": 0.2}},
                    {"name": "differ", "intervention": "differentiation", "conformity": 0.0,
                     "target": {"by": "random", "fraction": 0.1}}],
                   runs=12)
    cmp = compare_policies(sc)
    for name in ("interop", "buffers", "differ"):
        row = _rows(cmp)[name]
        assert row["loss_change_se"] < row["loss_change_se_unpaired"], name
        d = _per_replicate(cmp, name) - _per_replicate(cmp, "baseline")
        assert row["loss_change_se"] == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)))
        assert row["loss_change_ci_low"] < row["loss_change_mean"] < row["loss_change_ci_high"]


def test_results_are_identical_across_executors_and_chunkings():
    sc = _scenario([{"name": "interop", "intervention": "interoperability", "level": 0.5},
                    {"name": "subsidy", "intervention": "multihoming", "target": {"by": "random", "count": 40}}],
                   runs=6, n=300, recovery={"horizon": 6})
    ref = compare_policies(sc)
    with SerialExecutor() as ex:
        serial = compare_policies(sc, map_chunks=ex, chunk_size=2)
    with ProcessExecutor(workers=2) as ex:
        pooled = compare_policies(sc, map_chunks=ex, chunk_size=4)
    for other in (serial, pooled):
        assert other.table == ref.table
        assert other.runs == ref.runs
        assert other.recovery_paths == ref.recovery_paths


def test_results_are_identical_on_dask():
    pytest.importorskip("dask.distributed")
    from diffusion.parallel import DaskExecutor

    sc = _scenario([{"name": "interop", "intervention": "interoperability", "level": 0.5},
                    {"name": "cap", "intervention": "share_cap", "level": 0.5}],
                   runs=4, n=300, recovery={"horizon": 4})
    ref = compare_policies(sc)
    with DaskExecutor(workers=2, processes=False) as ex:
        other = compare_policies(sc, map_chunks=ex, chunk_size=2)
    assert other.table == ref.table and other.runs == ref.runs


def test_policies_on_an_adoption_model():
    # isomorphic adoption: the adopters hold one platform, "adopted"; its obsolescence hits them
    cascade = {"model": "isomorphic", "external": 0.02, "mimetic": 0.8, "initial": {"count": 5}}
    sc = _scenario([{"name": "differ", "intervention": "differentiation", "conformity": -1.0,
                     "target": {"by": "random", "fraction": 0.5}},
                    {"name": "decouple", "intervention": "decoupling", "level": 0.4,
                     "target": {"by": "size", "fraction": 0.2}}],
                   cascade=cascade, shock={"type": "platform_outage", "platform": "adopted", "value": "equal",
                                           "exposure": {"loss_given_default": 0.0}})
    cmp = compare_policies(sc)
    rows = _rows(cmp)
    assert rows["baseline"]["hhi_mean"] is None  # no concentration index for a single practice
    # anti-conformists adopt less: fewer firms hold what fails
    assert rows["differ"]["loss_change_mean"] < -5 * rows["differ"]["loss_change_se"]
    base = _per_replicate(cmp, "baseline", "initial_loss")
    dec = _per_replicate(cmp, "decouple", "initial_loss")
    assert (dec < base).all() and (dec >= 0.4 * base - 1e-12).all()


def test_policies_from_code_and_a_round_trip_through_toml(tmp_path):
    sc = _scenario([{"name": "cap", "intervention": "share_cap", "level": 0.5, "cost": {"fixed": 0.2}},
                    {"name": "buffers", "intervention": "buffers", "amount": 0.5,
                     "target": {"by": "size", "fraction": 0.1, "sector": [0, 1]}, "cost": 0.7}],
                   recovery={"horizon": 10, "reentry": 0.2})
    path = tmp_path / "s.toml"
    path.write_text(sc.to_toml())
    back = diffusion.load_scenario(path)
    assert back.table("policy") == sc.table("policy")
    assert back.table("recovery") == RecoverySpec(10, 0.2)
    pol = [Policy("interop", "interoperability", level=0.5, target=Target("degree", fraction=0.5))]
    cmp = compare_policies(sc.replace(runs=3), pol)
    assert [r["policy"] for r in cmp.table] == ["baseline", "interop"]
    assert cmp.table[1]["treated"] == pytest.approx(0.5)


# ----------------------------------------------------------------- recovery
def test_failed_firms_re_enter_geometrically():
    # a single platform everyone holds fails: every firm fails, none relies on a second one;
    # with re-entry probability p the value back after t steps is 1 - (1 - p)^t on average
    cascade = {"model": "platform_competition", "platforms": ["A", "B"], "fit": [20.0, 0.0],
               "revision_rate": 1.0}
    p = 0.2
    sc = _scenario([{"name": "interop", "intervention": "interoperability", "level": 0.5}], runs=20,
                   cascade=cascade, recovery={"horizon": 12, "reentry": p, "recover": 0.9},
                   shock={"type": "platform_outage", "platform": "A", "value": "equal",
                          "exposure": {"loss_given_default": 0.0}})
    cmp = compare_policies(sc)
    paths = {r["policy"]: [] for r in cmp.table}
    for rec in cmp.recovery_paths:
        paths[rec["policy"]].append(rec["value_mean"])
    base = np.array(paths["baseline"])
    t = np.arange(len(base))
    expected = 1 - (1 - p) ** t
    # n = 400 firms x 20 runs: the binomial standard error of the mean is below 0.005
    np.testing.assert_allclose(base, expected, atol=0.015)
    # interoperability: nobody fails, each firm is half down until it leaves A (revision rate 1)
    interop = np.array(paths["interop"])
    assert interop[0] == pytest.approx(0.5) and interop[1:] == pytest.approx(1.0, abs=1e-12)
    row = _rows(cmp)["interop"]
    assert row["time_to_recover_mean"] == 1.0 and row["resilience_loss_mean"] == pytest.approx(0.25)
    assert _rows(cmp)["baseline"]["recovered_fraction"] == 1.0  # 1 - 0.8^12 = 0.93 >= 0.9


def test_recovery_measures_and_the_run_stage(tmp_path):
    m = recovery_measures(np.array([[0.2, 0.6, 0.96, 0.99]]), 0.95)
    assert m["time_to_recover"].tolist() == [2.0]
    assert m["resilience_loss"][0] == pytest.approx((0.8 + 0.4) / 2 + (0.4 + 0.04) / 2 + (0.04 + 0.01) / 2)
    sc = _scenario([], recovery={"horizon": 5})
    res = diffusion.run_scenario(sc, keep="summary")
    files = res.write(tmp_path)
    header = files["runs.csv"].read_text().splitlines()[0].split(",")
    assert {"time_to_recover", "resilience_loss", "recovery_path_0", "recovery_path_5"} <= set(header)
    rec = json.loads(files["summary.json"].read_text())["recovery"]
    assert rec["horizon"] == 5 and 0 <= rec["value_after_shock"]["mean"] <= 1
    assert any(line.startswith("recovery:") for line in res.describe())
    path = np.asarray(res.simulation.outputs["recovery_path"])
    # Q(0) counts the failed firms out and the survivors on the failed platform at 1 - hit
    failed_value = 1 - path[:, 0]
    assert (failed_value <= np.asarray(res.simulation.outputs["total_loss"]) + 1e-12).all()


# ----------------------------------------------------------------- bad input
def _write(tmp_path, policies, **kw):
    sc = {
        "scenario": {"name": "bad", "seed": 1, "runs": 2, "max_steps": 5},
        "network": {"generator": "smb", "n": 200, "mean_degree": 4.0},
        "cascade": {"model": "platform_competition", "platforms": ["A", "B"], "global_effect": 2.0},
        "shock": {"type": "platform_outage"},
        **kw,
    }
    import tomli_w

    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps({**sc, "policy": policies}))
    return path


@pytest.mark.parametrize(
    ("policy", "key", "build"),
    [
        ({"name": "x", "intervention": "bailout"}, "policy[1].intervention", False),
        ({"name": "x", "intervention": "bailout", "level": 0.5}, "policy[1].intervention", False),
        ({"name": "x", "intervention": "share_cap", "level": 1.5}, "policy[1].level", False),
        ({"name": "x", "intervention": "interoperability", "level": -0.1}, "policy[1].level", False),
        ({"name": "x", "intervention": "share_cap", "level": 0.5, "platform": "Z"}, "policy[1].platform", False),
        ({"name": "x", "intervention": "buffers", "amount": 1.0, "target": {"by": "turnover", "count": 3}},
         "policy[1].target.by", True),
        ({"name": "x", "intervention": "buffers", "amount": 1.0, "target": {"by": "degree", "count": 5000}},
         "policy[1].target.count", True),
        ({"name": "x", "intervention": "decoupling", "target": {"by": "degree", "fraction": 0.1,
                                                                 "sector": "mining"}},
         "policy[1].target.sector", True),
        ({"name": "x", "intervention": "buffers"}, "policy[1].amount", False),
        ({"name": "x", "intervention": "buffers", "amount": 1.0, "level": 0.5}, "policy[1].level", False),
        ({"name": "x", "intervention": "decoupling", "target": {"by": "degree"}}, "policy[1].target.count", False),
        ({"name": "x", "intervention": "decoupling", "target": {"by": "all", "kind": 1}},
         "policy[1].target.kind", False),
        ({"name": "x", "intervention": "share_cap", "level": 0.5, "target": {"by": "degree", "count": 2}},
         "policy[1].target", False),
        ({"name": "ok", "intervention": "decoupling"}, "policy[1].name", False),
        ({"name": "baseline", "intervention": "decoupling"}, "policy[1].name", False),
        ({"name": "x", "intervention": "buffers", "amount": 1.0, "cost": {"per_firm": 1}},
         "policy[1].cost.per_firm", False),
    ],
)
def test_bad_policies_exit_2_naming_the_key(tmp_path, policy, key, build):
    path = _write(tmp_path, [{"name": "ok", "intervention": "decoupling"}, policy])
    runner = CliRunner()
    res = runner.invoke(main, ["validate", str(path), *(["--build"] if build else [])])
    assert res.exit_code == 2, res.output
    assert f"{key}:" in res.output and "Traceback" not in res.output
    if build:  # the plain validation passes; compare refuses before any simulation
        assert runner.invoke(main, ["validate", str(path)]).exit_code == 0
    res = runner.invoke(main, ["compare", str(path), "-o", str(tmp_path / "out"), "-e", "serial", "-q"])
    assert res.exit_code == 2 and f"{key}:" in res.output
    assert not (tmp_path / "out").exists()


def test_policies_that_the_model_or_shock_cannot_take(tmp_path):
    cases = [
        ({"cascade": {"model": "linear_threshold", "threshold": 0.3, "initial": {"count": 5}}},
         {"name": "x", "intervention": "multihoming"}, "policy[0].intervention"),
        ({"cascade": {"model": "linear_threshold", "threshold": 0.3, "initial": {"count": 5}}},
         {"name": "x", "intervention": "differentiation"}, "policy[0].intervention"),
        ({"shock": {"type": "random", "fraction": 0.1}},
         {"name": "x", "intervention": "decoupling"}, "policy[0].intervention"),
        ({"shock": {"type": "random", "fraction": 0.1}, "recovery": {"horizon": 5}},
         {"name": "x", "intervention": "buffers", "amount": 1.0}, "recovery"),
        ({"recovery": {"horizon": 0}}, {"name": "x", "intervention": "buffers", "amount": 1.0}, "recovery.horizon"),
    ]
    for extra, policy, key in cases:
        path = _write(tmp_path, [policy], **extra)
        res = CliRunner().invoke(main, ["validate", str(path)])
        assert res.exit_code == 2 and f"{key}:" in res.output, (key, res.output)
    with pytest.raises(ScenarioError) as err:
        diffusion.parse_scenario({"scenario": {"name": "x", "seed": 1}, "network": {"generator": "complete", "n": 5},
                                  "cascade": {"model": "platform_competition"},
                                  "policy": [{"name": "x", "intervention": "decoupling"}]})
    assert err.value.key == "policy"  # no [shock] to mitigate
    with pytest.raises(ParameterError):
        Target("random")


def test_compare_cli_writes_the_table_the_json_and_the_figures(tmp_path):
    path = _write(tmp_path, [{"name": "interop", "intervention": "interoperability", "level": 0.5},
                             {"name": "subsidy", "intervention": "multihoming",
                              "target": {"by": "criticality", "fraction": 0.1}}],
                  recovery={"horizon": 4})
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["compare", str(path), "-o", str(out), "-e", "serial", "-r", "3"])
    assert res.exit_code == 0, res.output
    with (out / "policies.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["policy"] for r in rows] == ["baseline", "interop", "subsidy"]
    issue_columns = ["policy", "cost", "total_loss_mean", "total_loss_se", "loss_change_mean", "loss_change_se",
                     "failed_fraction_mean", "hhi_mean", "loss_averted_per_cost"]
    assert list(rows[0])[:len(issue_columns)] == issue_columns
    assert {"time_to_recover_mean", "resilience_loss_mean", "resilience_loss_change_se"} <= set(rows[0])
    summary = json.loads((out / "policies.json").read_text())
    assert summary["runs"] == 3 and summary["policies"][2]["spec"]["target"]["by"] == "criticality"
    assert (out / "figures" / "policies.png").stat().st_size > 0
    assert (out / "figures" / "recovery.svg").stat().st_size > 0
    assert "interop" in res.output and "wrote policies.csv" in res.output


def test_compare_cli_shows_the_criticality_ranking_on_a_line_of_its_own(tmp_path, monkeypatch):
    path = _write(tmp_path, [{"name": "hubs", "intervention": "buffers", "amount": 1.0,
                              "target": {"by": "criticality", "fraction": 0.1}}])
    quiet = CliRunner().invoke(main, ["compare", str(path), "-o", str(tmp_path / "q"), "-e", "serial", "-q",
                                      "--no-plots"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    monkeypatch.setattr("diffusion.cli._common._stderr_is_terminal", lambda: True)
    import diffusion.scenario.runner as runner

    builds = []
    build = runner.build_network
    monkeypatch.setattr(runner, "build_network", lambda sc: builds.append(sc.name) or build(sc))
    res = CliRunner().invoke(main, ["compare", str(path), "-o", str(tmp_path / "t"), "-e", "serial", "-w", "1",
                                    "--no-plots"])
    assert res.exit_code == 0, res.output
    assert builds == ["bad"]  # the network is built once, for the ranking and the simulations
    lines = [ln.rsplit("\r", 1)[-1] for ln in res.stderr.split("\n")]
    assert lines[0].startswith("ranking firms by criticality") and "200/200" in lines[0]
    assert lines[1].startswith("simulating") and "2/2" in lines[1]  # buffers change the shock only
    for name in ("policies.csv", "policy_runs.csv"):
        assert (tmp_path / "q" / name).read_bytes() == (tmp_path / "t" / name).read_bytes()
    # a bad target is reported before the ranking runs
    bad = _write(tmp_path, [{"name": "hubs", "intervention": "buffers", "amount": 1.0,
                             "target": {"by": "criticality", "fraction": 0.1, "sector": "nowhere"}}])
    res = CliRunner().invoke(main, ["compare", str(bad), "-o", str(tmp_path / "b"), "-e", "serial"])
    assert res.exit_code == 2 and "policy[0].target.sector" in res.stderr and "ranking" not in res.stderr


def test_the_shipped_scenario_validates_and_runs_small():
    sc = diffusion.load_scenario(SCENARIOS / "mitigation_policies.toml")
    names = [p.name for p in sc.table("policy")]
    assert len(names) == 8
    for iv in ("multihoming", "differentiation", "buffers", "interoperability", "share_cap", "decoupling"):
        assert iv in {p.intervention for p in sc.table("policy")}
    small = sc.with_values({"network.n": 400}).replace(runs=3, max_steps=15)
    cmp = compare_policies(small)
    assert [r["policy"] for r in cmp.table] == ["baseline", *names]
