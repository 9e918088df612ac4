"""The key reference (`diffusion info NAME`) and the JSON Schema (`diffusion schema`), generated from the code."""

from __future__ import annotations

import inspect
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from diffusion.cli import main
from diffusion.generators import GENERATORS
from diffusion.models import MODELS
from diffusion.reference import describe, docstring_parameters, json_schema, keys_of

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_parameter_is_listed_with_its_default_and_meaning(name):
    cls = MODELS[name]
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    keys = {k.name: k for k in keys_of("model", name)}
    assert list(keys) == [p.name for p in params]
    documented = docstring_parameters(cls)
    for p in params:
        if p.default is not inspect.Parameter.empty and p.default is not None and not isinstance(p.default, str):
            assert keys[p.name].default, p.name
        if p.name in documented:
            assert keys[p.name].meaning == documented[p.name][1]
    lines = describe(name)
    for o in cls().declare():  # the declared outputs, as the model states them
        assert any(line.startswith(f"  {o.name}: {o.kind}") and o.description in line for line in lines)


def test_ranges_are_those_the_checks_enforce():
    lt = {k.name: k for k in keys_of("model", "linear_threshold")}
    assert lt["threshold"].range == "[0, 1]"
    pc = {k.name: k for k in keys_of("model", "platform_competition")}
    assert pc["revision_rate"].range == "[0, 1]" and pc["noise"].range == ">= 0"
    er = {k.name: k for k in keys_of("generator", "erdos_renyi")}
    assert er["n"].required and er["n"].range == ">= 0"
    sc = {k.name: k for k in keys_of("table", "scenario")}
    assert sc["runs"].range == ">= 1" and sc["seed"].required
    # a check that changes changes the reference: the recorded bounds are the code's
    from diffusion.validation import check_number, recorded_checks

    with recorded_checks() as seen:
        check_number("x", 0.5, 0.1, 0.9, open_high=True)
    assert seen["x"] == {"type": "number", "low": 0.1, "high": 0.9, "open_low": False, "open_high": True}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_generator_parameter_is_listed(name):
    fn = GENERATORS[name]
    params = [p.name for p in inspect.signature(fn).parameters.values()
              if p.name != "seed" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert [k.name for k in keys_of("generator", name)] == params


def test_cli_info_name_and_unknown_name(runner):
    res = runner.invoke(main, ["info", "platform_competition"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert 'keys of [cascade] with model = "platform_competition":' in out
    assert "  revision_rate  (float; default 0.1; range [0, 1])" in out
    assert "winner: run_category [none, A, B] (role winner)" in out
    res = runner.invoke(main, ["info", "shock"])
    assert res.exit_code == 0 and "keys of a 'platform_outage' shock" in res.stdout
    assert "keys of [shock.exposure]" in res.stdout and "loss_given_default" in res.stdout
    res = runner.invoke(main, ["info", "threads"])
    assert res.exit_code == 2 and "unknown name 'threads'" in res.stderr
    res = runner.invoke(main, ["info"])
    assert "diffusion info NAME" in res.stdout


# ----------------------------------------------------------------- the schema
def _check(value: Any, schema: Any, where: str = "") -> list[str]:
    """The subset of JSON Schema the generated schema uses (a structural validator)."""
    if schema is True or schema == {}:
        return []
    errors: list[str] = []
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float),
             "integer": int}
    t = schema.get("type")
    if t is not None:
        ok = isinstance(value, types[t]) and not (t in ("number", "integer") and isinstance(value, bool))
        if not ok:
            return [f"{where}: expected {t}, got {value!r}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):  # range keywords: numbers only
        for key, bad in (("minimum", value < schema.get("minimum", value)),
                         ("maximum", value > schema.get("maximum", value)),
                         ("exclusiveMinimum", "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]),
                         ("exclusiveMaximum", "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"])):
            if bad:
                errors.append(f"{where}: {value!r} violates {key}")
    if "anyOf" in schema and all(_check(value, s, where) for s in schema["anyOf"]):
        errors.append(f"{where}: {value!r} matches none of anyOf")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors += _check(v, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing {key}")
        for key, v in value.items():
            if key in props:
                errors += _check(v, props[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unknown key {key}")
        for rule in schema.get("allOf", []):
            if not _check(value, rule["if"], where):
                errors += _check(value, rule["then"], where)
    return errors


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_satisfies_the_schema(path):
    data = tomllib.loads(path.read_text())
    assert _check(data, json_schema()) == []


def test_schema_rejects_wrong_values_and_unknown_keys():
    schema = json_schema()
    base = {"scenario": {"name": "x", "seed": 1}, "network": {"generator": "erdos_renyi", "n": 10},
            "cascade": {"model": "linear_threshold", "threshold": 0.3, "initial": {"count": 1}}}
    assert _check(base, schema) == []
    bad = json.loads(json.dumps(base))
    bad["cascade"]["threshold"] = 1.5
    bad["cascade"]["treshold"] = 0.3
    bad["network"]["mean_degre"] = 3
    bad["scenario"]["runs"] = 0
    errors = _check(bad, schema)
    assert any("threshold" in e and "maximum" in e for e in errors)
    assert any("unknown key treshold" in e for e in errors) and any("unknown key mean_degre" in e for e in errors)
    assert any("runs" in e and "minimum" in e for e in errors)


def test_schema_with_a_json_schema_validator_when_installed(tmp_path, runner):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    res = runner.invoke(main, ["schema", "--out", str(tmp_path / "s.json")])
    assert res.exit_code == 0
    schema = json.loads((tmp_path / "s.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in SCENARIOS:
        jsonschema.validate(tomllib.loads(path.read_text()), schema)


def test_cli_schema_writes_json(runner, tmp_path):
    res = runner.invoke(main, ["schema"])
    assert res.exit_code == 0 and json.loads(res.stdout)["title"] == "smb-diffusion scenario file"
    res = runner.invoke(main, ["schema", "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 0 and json.loads((tmp_path / "x.json").read_text()) == json.loads(
        runner.invoke(main, ["schema"]).stdout)
