"""Start-up checks of the config: command-line values typed by the schema, unknown keys, where a key came from."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from deepchrome.errors import DeepChromeError
from deepchrome.settings import COMMAND_LINE, check_config, check_run, command_line_form, unknown_keys
from deepchrome.train import PRESETS
from conftest import snakemake

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())


def base_loader(text):
    """What Snakemake makes of a nested --config value: YAML with every scalar a string."""
    return yaml.load(text, Loader=yaml.loader.BaseLoader)


def test_command_line_values_take_the_schema_types():
    # Finding 10 / issue 14 item 5: nested --config values arrive as strings.
    overrides = {"cnn": base_loader("{params: {epochs: 5, lr: 1e-3, patience: null, hidden: [64, 8]}}"),
                 "demo": base_loader("{seed: 0, genes: 19802}")}
    config = {"cnn": {"preset": "default", **overrides["cnn"]}, "demo": dict(overrides["demo"])}
    check_config(config, SCHEMA, overrides, {"config.yaml": {"cnn": {"preset": "default"}}})
    assert config["cnn"]["params"] == {"epochs": 5, "lr": 1e-3, "patience": None, "hidden": [64, 8]}
    assert config["demo"] == {"seed": 0, "genes": 19802}


def test_file_values_are_not_converted_and_name_the_file():
    with pytest.raises(DeepChromeError, match="demo.seed") as err:
        check_config({"demo": {"seed": "0"}}, SCHEMA, {}, {"my.yaml": {"demo": {"seed": "0"}}})
    assert err.value.path == "my.yaml"


def test_malformed_override_says_how_to_give_it():
    overrides = {"cnn": base_loader("{params: {epochs: five}}")}
    with pytest.raises(DeepChromeError) as err:
        check_config({"cnn": overrides["cnn"]}, SCHEMA, overrides, {})
    assert err.value.path == COMMAND_LINE and '--config "cnn={params: {epochs: VALUE}}"' in err.value.fix
    assert command_line_form(["cells"], "E003,E123") == '--config "cells=E003,E123"'


def test_unknown_keys_suggest_the_closest_valid_key():
    assert unknown_keys({"cell": "x", "cnn": {"params": {"epoch": 3}}}, SCHEMA) == [
        (["cell"], ["cells", "cell_sheet"]), (["cnn", "params", "epoch"], ["epochs"])]
    with pytest.raises(DeepChromeError, match="unknown key 'cell'") as err:
        check_config({"cell": "cellA"}, SCHEMA, {"cell": "cellA"}, {"config.yaml": {}})
    assert err.value.path == COMMAND_LINE and "did you mean 'cells'" in err.value.fix


def test_schema_lists_every_training_parameter():
    params = SCHEMA["properties"]["cnn"]["properties"]["params"]["properties"]
    assert all(set(params) | {"seeds"} == set(preset) for preset in PRESETS.values())  # seeds: cnn.seeds alone


def test_overrides_from_the_readme_dry_run(tmp_path):
    out = snakemake("-n", "--config", "cnn={params: {epochs: 5}}", "demo={seed: 0, genes: 19802}", workdir=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def start_up(file: dict, overrides: dict) -> dict:
    """What rules/common.smk does with the config at start-up: ``file`` (config/config.yaml with top-level blocks
    replaced) merged with the ``--config`` ``overrides`` as Snakemake parsed them, checked, defaults filled, checked
    again. Returns the config; raises DeepChromeError."""
    from snakemake.utils import update_config, validate

    content = {**yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), **file}
    config = copy.deepcopy(content)
    update_config(config, copy.deepcopy(overrides))
    files = {"work/config.yaml": content}
    check_config(config, SCHEMA, overrides, files)
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    check_run(config, False, overrides, files)
    return config


# One row per bad setting: (name, config file blocks, --config values as Snakemake parses them, texts the message must
# contain). tests/test_bad_inputs.py runs two of them through the workflow (the file and the command line).
BAD_SETTINGS = [
    ("unknown top-level key on the command line", {}, {"cell": "cellA"},
     ["unknown key 'cell'", "did you mean 'cells'", COMMAND_LINE]),
    ("unknown nested key", {"cnn": {"parms": {"epochs": 5}}}, {}, ["work/config.yaml", "cnn.parms", "cnn.params"]),
    ("unknown CNN parameter", {"cnn": {"params": {"epoch": 5}}}, {}, ["cnn.params.epoch", "cnn.params.epochs"]),
    ("malformed nested override", {}, {"cnn": "{params: {epochs: 5}"},
     [COMMAND_LINE, "cnn", '--config "cnn={key: value}"']),
    ("command-line integer out of range", {}, {"demo": base_loader("{genes: 5}")}, ["demo.genes", COMMAND_LINE]),
    ("file value of the wrong type", {"windows": {"flank": "5 kb"}}, {}, ["windows.flank", "work/config.yaml"]),
    ("bins do not divide the window (finding 8)", {"windows": {"flank": 5000, "bin_size": 300}}, {},
     ["windows.bin_size", "whole number of bins", "work/config.yaml"]),
    ("unknown split method", {"split": {"method": "randm"}}, {}, ["split.method", "randm", "work/config.yaml"]),
]


@pytest.mark.parametrize("name,file,overrides,expected", BAD_SETTINGS, ids=[row[0] for row in BAD_SETTINGS])
def test_bad_setting(name, file, overrides, expected):
    with pytest.raises(DeepChromeError) as err:
        start_up(file, overrides)
    message = str(err.value)
    for phrase in expected:
        assert phrase in message, (phrase, message)
    assert message.count("Fix:") == 1, message


def test_the_demo_config_starts_up():
    assert start_up({}, {})["windows"]["bin_size"] == 100
