"""Scenario files: parsing, validation, seeding streams, running and atomic outputs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diffusion
from diffusion import Declarations, Output
from diffusion.engine import Model, State
from diffusion.errors import ParameterError, ScenarioError
from diffusion.models import MODELS
from diffusion.outputs import atomic_write, write_csv, write_json
from diffusion.scenario import (
    STREAMS,
    TABLES,
    CascadeSpec,
    NetworkSpec,
    check_scenario,
    load_scenario,
    parse_scenario,
    register_table,
    run_scenario,
    stream_key,
)


def raises(fn, *args: Any) -> ScenarioError:
    """The :class:`ScenarioError` that ``fn(*args)`` raises."""
    with pytest.raises(ScenarioError) as info:
        fn(*args)
    return info.value


def error_of(data: dict[str, Any], path: str | None = "s.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, path=path)
    return info.value


# ----------------------------------------------------------------- parsing
def test_parse_builds_typed_frozen_tree(basic):
    sc = parse_scenario(basic())
    assert (sc.name, sc.seed, sc.runs, sc.max_steps, sc.description) == ("basic", 11, 8, None, "")
    assert isinstance(sc.network, NetworkSpec) and sc.network.generator == "erdos_renyi"
    assert dict(sc.network.params) == {"n": 300, "mean_degree": 4.0}
    assert isinstance(sc.cascade, CascadeSpec) and sc.cascade.model == "linear_threshold"
    assert dict(sc.cascade.params) == {"threshold": 0.18}
    assert sc.cascade.initial.kind == "count" and sc.cascade.initial.value == 2
    with pytest.raises(AttributeError):
        sc.runs = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        sc.network.params["n"] = 5  # type: ignore[index]


def test_defaults_and_optional_keys(basic):
    sc = parse_scenario(basic(scenario__runs=None, scenario__max_steps=7, scenario__description="d"))
    assert sc.runs == 100 and sc.max_steps == 7 and sc.description == "d"


def test_round_trip_through_dict_and_toml(tmp_path, basic):
    data = basic(cascade__threshold={"distribution": "uniform", "low": 0.1, "high": 0.3},
                 cascade__initial={"top": 3, "by": "degree"}, scenario__max_steps=50)
    sc = parse_scenario(data)
    assert parse_scenario(sc.to_dict()) == sc
    path = tmp_path / "again.toml"
    path.write_text(sc.to_toml())
    again = load_scenario(path)
    assert again.to_dict() == sc.to_dict()


def test_replace_applies_overrides_and_ignores_none(basic):
    sc = parse_scenario(basic())
    assert sc.replace(runs=None, seed=None) is sc
    new = sc.replace(runs=3, seed=99, max_steps=4)
    assert (new.runs, new.seed, new.max_steps) == (3, 99, 4)
    assert new.network == sc.network and new.cascade == sc.cascade
    with pytest.raises(ScenarioError, match=r"scenario\.runs"):
        sc.replace(runs=0)
    with pytest.raises(TypeError):
        sc.replace(threshold=0.3)


def test_with_values_sets_dotted_keys_and_validates(basic):
    sc = parse_scenario(basic())
    new = sc.with_values({"cascade.threshold": 0.3, "network.n": 100})
    assert new.cascade.params["threshold"] == 0.3 and new.network.params["n"] == 100
    err = raises(sc.with_values, {"cascade.threshold": 2.0})
    assert err.key == "cascade.threshold"
    err = raises(sc.with_values, {"network.bogus": 1})
    assert err.key == "network.bogus"


@pytest.mark.parametrize(
    ("changes", "key", "fragment"),
    [
        ({"scenario__runs": "ten"}, "scenario.runs", "integer"),
        ({"scenario__runs": 0}, "scenario.runs", ">= 1"),
        ({"scenario__seed": -1}, "scenario.seed", ">= 0"),
        ({"scenario__seed": None}, "scenario.seed", "missing"),
        ({"scenario__name": "a/b"}, "scenario.name", "plain name"),
        ({"scenario__colour": 1}, "scenario.colour", "unknown key"),
        ({"network__generator": "nope"}, "network.generator", "unknown generator"),
        ({"network__generator": None}, "network.generator", "missing"),
        ({"network__colour": 1}, "network.colour", "unknown key"),
        ({"network__n": "big"}, "network.n", "must be int"),
        ({"network__n": None}, "network.n", "required"),
        ({"network__seed": 1}, "network.seed", "scenario.seed"),
        ({"cascade__model": "sir"}, "cascade.model", "unknown model"),
        ({"cascade__thresh": 0.2}, "cascade.thresh", "unknown key"),
        ({"cascade__threshold": 1.5}, "cascade.threshold", "<= 1"),
        ({"cascade__threshold": True}, "cascade.threshold", "number"),
        ({"cascade__weighted": "yes"}, "cascade.weighted", "must be bool"),
        ({"cascade__rule": "majority"}, "cascade.rule", "fraction"),
        ({"cascade__threshold": {"distribution": "cauchy"}}, "cascade.threshold.distribution", "unknown"),
        ({"cascade__initial": None}, "cascade.initial", "needs initial adopters"),
        ({"cascade__initial": {"count": 2, "fraction": 0.1}}, "cascade.initial", "exactly one"),
        ({"cascade__initial": {"fraction": 1.5}}, "cascade.initial.fraction", "[0, 1]"),
        ({"cascade__initial": {"sample": 3}}, "cascade.initial.sample", "unknown key"),
        ({"cascade": None}, "cascade", "missing table"),
        ({"network": 5}, "network", "must be a table"),
        ({"shocks": {"type": "x"}}, "shocks", "unknown table"),
    ],
)
def test_invalid_values_name_file_and_key(changes, key, fragment, basic):
    err = error_of(basic(**changes))
    assert err.key == key
    assert err.path == "s.toml"
    assert fragment in err.reason
    assert str(err).startswith(f"s.toml: {key}: ")


def test_independent_cascade_probability_range(basic):
    data = basic(cascade={"model": "independent_cascade", "probability": 1.5, "initial": {"count": 1}})
    err = error_of(data)
    assert err.key == "cascade.probability" and "<= 1" in err.reason


def test_toml_syntax_error_names_line_and_column(write_scenario):
    path = write_scenario("[scenario]\nname = \"x\"\nseed = = 3\n")
    err = raises(load_scenario, path)
    assert err.path == str(path)
    assert "line 3, column" in str(err) and "malformed TOML" in str(err)


def test_missing_and_unreadable_files(tmp_path):
    err = raises(load_scenario, tmp_path / "absent.toml")
    assert err.path.endswith("absent.toml") and "no such file" in str(err)
    err = raises(load_scenario, tmp_path)
    assert "directory" in str(err)
    bad = tmp_path / "latin.toml"
    bad.write_bytes(b"[scenario]\nname = \"caf\xe9\"\n")
    assert "UTF-8" in str(raises(load_scenario, bad))


def test_file_network_paths_are_relative_to_the_scenario(tmp_path, basic, monkeypatch):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "edges.csv").write_text("source,target\na,b\n")
    sub = tmp_path / "sc"
    sub.mkdir()
    net_table = {"generator": "file", "path": "../data/edges.csv"}
    sc = parse_scenario(basic(network=net_table), path=sub / "s.toml")
    assert sc.network.path == data_dir / "edges.csv"
    # a relative scenario path still gives absolute graph paths (the written-back file works anywhere)
    monkeypatch.chdir(tmp_path)
    sc = parse_scenario(basic(network=net_table), path=Path("sc") / "s.toml")
    assert sc.network.path == data_dir / "edges.csv" and sc.network.path.is_absolute()
    assert sc.network.to_dict()["path"] == str(data_dir / "edges.csv")
    err = error_of(basic(network={"generator": "file", "path": "missing.csv"}))
    assert err.key == "network.path" and "no such file" in err.reason
    err = error_of(basic(network={"generator": "file"}))
    assert err.key == "network.path" and "missing" in err.reason
    err = error_of(basic(network={**net_table, "nodes": "nodes.csv"}), path=str(sub / "s.toml"))
    assert err.key == "network.nodes"


# ----------------------------------------------------------------- running
def test_run_scenario_result_and_summary(basic):
    sc = parse_scenario(basic())
    res = run_scenario(sc)
    assert res.network.n == 300
    assert res.simulation.runs == 8
    s = res.summary
    assert (s["scenario"], s["seed"], s["runs"], s["version"]) == ("basic", 11, 8, diffusion.__version__)
    assert set(s["network"]) >= {"nodes", "edges", "directed", "mean_degree"}
    assert s["network"]["edges"] == res.network.number_of_edges
    c = s["cascade"]
    assert c["model"] == "linear_threshold" and c["params"]["threshold"] == 0.18
    ff = c["final_fraction"]
    assert ff["min"] <= ff["q05"] <= ff["q50"] <= ff["q95"] <= ff["max"]
    assert ff["mean"] == pytest.approx(res.simulation.final_fraction.mean())
    assert c["steps"]["max"] == int(res.simulation.steps.max())
    assert len(res.runs) == 8 and [r["run"] for r in res.runs] == list(range(8))
    assert res.curve[0]["step"] == 0 and len(res.curve) == res.simulation.counts.shape[0]
    assert any(line.startswith("final share adopted: mean ") for line in res.describe())


def test_seed_streams_are_independent_and_stable(basic):
    sc = parse_scenario(basic())
    a, b = run_scenario(sc.replace(runs=3)), run_scenario(sc.replace(runs=6))
    # the graph stream does not depend on runs; replicate r does not depend on runs either
    assert np.array_equal(a.network.indices, b.network.indices)
    assert a.runs == b.runs[:3]
    assert np.array_equal(a.simulation.adoption_step, b.simulation.adoption_step[:3])
    # documented layout: children of SeedSequence(seed)
    kids = np.random.SeedSequence(sc.seed).spawn(3)
    for name, idx in (("network", 0), ("cascade", 1), ("shock", 2)):
        assert STREAMS[name] == idx
        assert sc.seed_sequence(name).generate_state(4).tolist() == kids[idx].generate_state(4).tolist()
    g = diffusion.generators.erdos_renyi(300, mean_degree=4.0, seed=kids[0])
    assert np.array_equal(g.indices, a.network.indices)
    c = run_scenario(sc.replace(runs=3, seed=12))
    assert not np.array_equal(c.network.indices, a.network.indices)


def test_chunking_and_progress_do_not_change_results(basic):
    sc = parse_scenario(basic())
    seen: list[int] = []
    a = run_scenario(sc, progress=seen.append, chunk_size=3)
    assert seen == [3, 3, 2]
    b = run_scenario(sc)
    assert a.runs == b.runs and a.curve == b.curve and a.summary == b.summary


def test_runtime_errors_name_the_key(tmp_path, basic):
    # generator values are checked when the file is read, without building anything
    err = error_of(basic(network={"generator": "erdos_renyi", "n": 100, "p": 1.5}))
    assert err.key == "network.p" and err.path == "s.toml"
    sc = parse_scenario(basic(network={"generator": "complete", "n": 0}), path="s.toml")
    err = raises(check_scenario, sc)
    assert err.key == "network" and "empty" in err.reason
    sc = parse_scenario(basic(cascade__initial={"nodes": [1, 2, 9999]}), path="s.toml")
    err = raises(run_scenario, sc)
    assert err.key == "cascade.initial.nodes" and "9999" in err.reason
    sc = parse_scenario(basic(cascade__initial={"top": 3, "by": "size"}), path="s.toml")
    assert raises(run_scenario, sc).key == "cascade.initial.by"
    sc = parse_scenario(basic(cascade__threshold="resources"), path="s.toml")
    err = raises(check_scenario, sc)
    assert err.key == "cascade" and "resources" in err.reason
    sc = parse_scenario(basic(cascade__initial={"count": 301}), path="s.toml")
    assert raises(run_scenario, sc).key == "cascade.initial.count"


def test_write_outputs(tmp_path, basic):
    res = run_scenario(parse_scenario(basic()))
    files = res.write(tmp_path / "out" / "nested")
    assert sorted(files) == ["curve.csv", "nodes.csv", "runs.csv", "scenario.toml", "summary.json"]
    summary = json.loads(files["summary.json"].read_text())
    assert summary == json.loads(json.dumps(res.summary))
    with files["runs.csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["run", "final_fraction", "final_count", "steps"]
    assert [int(r["final_count"]) for r in rows] == res.simulation.final_count.tolist()
    with files["curve.csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "mean_fraction", "q05", "q95"]
    assert len(rows) == res.simulation.counts.shape[0]
    assert load_scenario(files["scenario.toml"]).to_dict() == res.scenario.to_dict()
    assert not [p for p in files["runs.csv"].parent.iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------- extension points
class _Spontaneous(Model):
    """Every node adopts with probability ``rate`` per step (needs no initial adopters)."""

    name: ClassVar[str] = "spontaneous_test"
    requires_initial: ClassVar[bool] = False
    default_max_steps: ClassVar[int | None] = 5

    def __init__(self, rate: float = 0.5) -> None:
        self.rate = rate

    def params(self) -> dict[str, Any]:
        return {"rate": self.rate}

    def declare(self):
        return Declarations([Output.run_value("never", "nodes that never adopted")])

    def start(self, ctx, network, batch):
        R, n = batch.runs, network.n
        adopted_at = np.full((R, n), -1, dtype=np.int32)
        return State(adopted_at, np.zeros(R, dtype=np.int64), np.ones(R, dtype=bool), batch.rngs)

    def step(self, ctx, network, state, t):
        u = np.stack([g.random(network.n) for g in state.rngs])
        new = (state.adopted_at < 0) & (u < self.rate)
        state.adopted_at[new] = t
        state.count += new.sum(axis=1)
        return new.any(axis=1)

    def outputs(self, ctx, network, state):
        return {"never": (state.adopted_at < 0).sum(axis=1)}


def test_initial_may_be_absent_for_models_that_need_none(monkeypatch, basic):
    monkeypatch.setitem(MODELS, _Spontaneous.name, _Spontaneous)
    data = basic(cascade={"model": "spontaneous_test", "rate": 0.3})
    sc = parse_scenario(data)
    assert sc.cascade.initial.kind == "none"
    res = run_scenario(sc)
    assert res.simulation.steps.max() <= 5
    assert "never" in res.runs[0]  # scalar model outputs become runs.csv columns
    assert error_of(basic(cascade={"model": "spontaneous_test", "rate": "x"})).key == "cascade.rate"


def test_registered_table_parses_dumps_and_runs_a_stage(basic):
    def parse(table, ctx):
        if not 0 <= table.get("severity", 0.5) <= 1:
            raise ctx.error("demo.severity", "must be in [0, 1]")
        assert ctx.tables["cascade"].model == "linear_threshold"  # earlier tables are visible
        return {"severity": table.get("severity", 0.5)}

    seen: list[np.random.SeedSequence] = []

    def stage(scenario, result, seed_seq):
        seen.append(seed_seq)
        rng = np.random.default_rng(seed_seq)
        loss = rng.random(scenario.runs) * scenario.table("demo")["severity"]
        for rec, v in zip(result.runs, loss, strict=True):
            rec["loss"] = float(v)
        result.summary["demo"] = {"mean_loss": float(loss.mean())}

    def check(scenario, network):
        if network.n < 10:
            raise ParameterError("severity", "needs at least 10 firms")

    register_table("demo", parse, dump=dict, stage=stage, check=check,
                   describe=lambda summary: [f"demo: {summary['demo']['mean_loss']:.3f}"])
    try:
        sc = parse_scenario(basic(demo={"severity": 0.2}))
        assert sc.table("demo") == {"severity": 0.2} and sc.to_dict()["demo"] == {"severity": 0.2}
        res = run_scenario(sc)
        assert "loss" in res.runs[0] and res.summary["demo"]["mean_loss"] <= 0.2
        assert res.describe()[-1] == f"demo: {res.summary['demo']['mean_loss']:.3f}"
        # the stage's stream is derived from the table's name, not from the order of registration
        assert seen[0].spawn_key == (stream_key("demo"),) and stream_key("demo") >= 2**63
        assert seen[0].entropy == sc.seed
        assert error_of(basic(demo={"severity": 3})).key == "demo.severity"
        assert parse_scenario(basic()).table("demo") is None
        small = parse_scenario(basic(network__n=5, cascade__initial={"count": 1}, demo={}), path="s.toml")
        assert raises(check_scenario, small).key == "demo.severity"
        assert raises(run_scenario, small).key == "demo.severity"  # checked before simulating
        with pytest.raises(ValueError):
            register_table("cascade", parse)
    finally:
        TABLES.pop("demo", None)


def test_table_streams_do_not_depend_on_registration(basic):
    sc = parse_scenario(basic())
    before = sc.seed_sequence("later_table").generate_state(4).tolist()
    register_table("another", lambda table, ctx: dict(table), stage=lambda *a: None)
    try:
        assert sc.seed_sequence("later_table").generate_state(4).tolist() == before
    finally:
        TABLES.pop("another", None)
    keys = {stream_key(name) for name in ("a", "b", "demo", "output", "sweep", "frontier")}
    assert len(keys) == 6 and not keys & set(STREAMS.values())
    assert [stream_key(name) for name in ("network", "cascade", "shock")] == [0, 1, 2]


# ----------------------------------------------------------------- atomic outputs
def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "runs.csv"
    write_csv(target, [{"run": 0, "x": 1}])
    before = target.read_bytes()

    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("disk on fire")

    records = [{"run": i, "x": i} for i in range(5000)] + [{"run": 5000, "x": Boom()}]
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_csv(target, records)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]

    with pytest.raises(KeyboardInterrupt), atomic_write(target) as f:
        f.write("half")
        raise KeyboardInterrupt
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


def test_json_is_strict_and_directories_are_created(tmp_path):
    path = write_json(tmp_path / "a" / "b" / "s.json", {"x": np.float64("nan"), "y": np.arange(2)})
    assert json.loads(path.read_text()) == {"x": None, "y": [0, 1]}
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not left with mkstemp's private mode


def test_killed_writer_never_leaves_a_truncated_file(tmp_path):
    target = tmp_path / "summary.json"
    write_json(target, {"complete": True})
    script = textwrap.dedent(f"""
        import sys, time
        from diffusion.outputs import atomic_write
        with atomic_write({str(target)!r}) as f:
            f.write('{{"complete": fal')
            f.flush()
            print("writing", flush=True)
            time.sleep(30)
            f.write('se}}')
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(diffusion.__file__).parent.parent)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert json.loads(target.read_text()) == {"complete": True}
    # a later successful write replaces it and (being in the same directory) stays atomic
    time.sleep(0)
    write_json(target, {"complete": "again"})
    assert json.loads(target.read_text()) == {"complete": "again"}


# ----------------------------------------------------------------- round trip (property)
_names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_unit = st.floats(0.0, 1.0, allow_nan=False)
_thresholds = st.one_of(
    _unit,
    st.tuples(_unit, _unit).map(lambda t: {"distribution": "uniform", "low": min(t), "high": max(t)}),
    st.builds(lambda m, s: {"distribution": "normal", "mean": m, "sd": s}, _unit, st.floats(0, 1)),
    st.sampled_from(["size", "resources"]),
)
_initials = st.one_of(
    st.builds(lambda k: {"count": k}, st.integers(0, 50)),
    st.builds(lambda f: {"fraction": f}, _unit),
    st.builds(lambda k, by: {"top": k, "by": by}, st.integers(0, 50), st.sampled_from(["degree", "size"])),
    st.builds(lambda ids: {"nodes": ids}, st.lists(st.integers(0, 99), min_size=1, max_size=5)),
)
_networks = st.one_of(
    st.builds(lambda n, z: {"generator": "erdos_renyi", "n": n, "mean_degree": min(z, n - 1.0)},
              st.integers(1, 10_000), st.floats(0, 20)),
    st.builds(lambda n, m: {"generator": "barabasi_albert", "n": n, "m": m}, st.integers(10, 1000),
              st.integers(1, 5)),
    st.builds(lambda n, h: {"generator": "smb", "n": n, "homophily": h, "sectors": ["a", "b"]},
              st.integers(1, 1000), _unit),
)


@settings(max_examples=40, deadline=None)
@given(name=_names, seed=st.integers(0, 2**63 - 1), runs=st.integers(1, 10_000),
       max_steps=st.none() | st.integers(0, 1000), network=_networks, threshold=_thresholds,
       rule=st.sampled_from(["fraction", "count"]), initial=_initials)
def test_scenarios_round_trip_through_toml(tmp_path_factory, name, seed, runs, max_steps, network,
                                           threshold, rule, initial):
    settings_table = {"name": name, "seed": seed, "runs": runs}
    if max_steps is not None:
        settings_table["max_steps"] = max_steps
    data = {"scenario": settings_table, "network": network,
            "cascade": {"model": "linear_threshold", "threshold": threshold, "rule": rule,
                        "initial": initial}}
    sc = parse_scenario(data)
    path = tmp_path_factory.mktemp("rt") / "s.toml"
    path.write_text(sc.to_toml())
    again = load_scenario(path)
    assert again.to_dict() == sc.to_dict()
    assert (again.name, again.seed, again.runs, again.max_steps) == (name, seed, runs, max_steps)
    assert again.cascade.initial == sc.cascade.initial


def test_describe_calls_the_model_and_table_hooks(basic):
    from diffusion.models import BayesianCascade, Isomorphic, LinearThreshold, PlatformCompetition

    stats = {"mean": 0.5, "q05": 0.1, "q95": 0.9}
    summary = {
        "cascade": {"platforms": {"final_shares": {"A": stats, "B": stats}, "hhi": stats,
                                  "lock_in": {"probability": 0.25, "step_mean": 12.0},
                                  "winner_counts": {"A": 1, "B": 0}},
                    "cascades": {"correct": 0.6, "wrong": 0.3, "none": 0.1, "step_mean": 3.25},
                    "adoptions_by_pressure": {"mimetic": {"share": 0.75}, "external": {"share": 0.25}}},
        "fragility": {"systemic_loss": stats, "total_loss": {"mean": 0.6, "q05": 0.2, "q95": 1.0},
                      "failed_fraction": stats, "systemic_event_probability": 0.2, "level": 0.1},
    }
    assert PlatformCompetition.describe(summary) == [
        "final platform shares (mean over runs): A 50.0%, B 50.0%",
        "concentration (HHI; 1/2 = even split, 1 = one platform): mean 0.500 [5-95% of runs: 0.100, 0.900]",
        "locked in to one platform: 25% of runs (from step 12.0 on average); winners: A 1 run, B 0 runs"]
    assert BayesianCascade.describe(summary) == [
        "cascades (the herd's direction against the true state): correct 60%, wrong 30%, none 10% of runs; "
        "herding from step 3.2 on average (runs with a cascade)"]
    assert Isomorphic.describe(summary) == [
        "adoptions by pressure (share of the adoptions after the initial ones): mimetic 75%, external 25%"]
    assert LinearThreshold.describe(summary) == []
    assert TABLES["shock"].describe(summary) == [
        "shock: total loss mean 0.600 [5-95%: 0.200, 1.000]; systemic loss (beyond the initial hit) "
        "mean 0.500 [5-95%: 0.100, 0.900]; failed firms mean 0.500 [5-95%: 0.100, 0.900]; "
        "systemic events (total loss > 0.1) in 20% of runs"]
    assert PlatformCompetition.describe({"cascade": {}}) == [] and TABLES["shock"].describe({}) == []

    res = run_scenario(parse_scenario(basic(
        cascade={"model": "platform_competition", "platforms": ["A", "B"], "revision_rate": 0.5},
        scenario__max_steps=5, shock={"type": "platform_outage", "platform": "A"})))
    lines = res.describe()
    assert lines[0].startswith("basic: 8 runs of platform_competition on 300 nodes")
    assert lines[1].startswith("final platform shares (mean over runs): A ")
    assert lines[-1].startswith("shock: total loss ")
    assert not [line for line in lines if "final share adopted" in line or line.startswith("reached")]
    res.summary["cascade"]["platforms"] = {"broken": {}}  # a hand-edited summary: the hook adds nothing
    assert not [line for line in res.describe() if line.startswith("final platform shares")]
