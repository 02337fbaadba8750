"""The sheet and config checks as package functions: each bad sheet is one DeepChromeError naming the file, the
line, the problem and the fix, without starting Snakemake."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from deepchrome import settings, sheets, spec
from deepchrome.errors import DeepChromeError

ROOT = Path(__file__).resolve().parents[1]
CELLS = sheets.load_schema(ROOT / "schemas" / "cells.schema.yaml")
SAMPLES = sheets.load_schema(ROOT / "schemas" / "samples.schema.yaml")
CONFIG = sheets.load_schema(ROOT / "schemas" / "config.schema.yaml")


def cell_sheet(tmp_path, text):
    path = tmp_path / "cells.tsv"
    path.write_text(text)
    return path


def read_cells(path):
    return sheets.read_sheet(path, CELLS, "cells.schema.yaml", ["cell"])


def test_rows_keep_their_file_lines(tmp_path):
    path = cell_sheet(tmp_path, "# the cells\ncell\tname\n\ncellA\tA\n# cellB left out\ncellC\tC\n")
    table = read_cells(path)
    assert list(table["cell"]) == ["cellA", "cellC"] and list(table["line"]) == [4, 6]


@pytest.mark.parametrize("text, expected", [
    ("cell\ncellA\ncellB\ncellA\n", ["cell cellA is listed twice (lines 2, 4)", "keep one line per cell"]),
    ("cell\tpublished_auc\ncellA\t0.80 (E003)\n", ["line 2: published_auc '0.80 (E003)' is not a number"]),
    ("cell\tpublished_auc\ncellA\t0.8\ncellB\t81\n", ["line 3 breaks the sheet's schema", "published_auc"]),
    ("cell\ncellA\ncell/C\n", ["line 3 breaks the sheet's schema", "letters, digits"]),
    ("name\nA\n", ["line 2 breaks the sheet's schema", "'cell' is a required property"]),
])
def test_bad_cell_sheet(tmp_path, text, expected):
    path = cell_sheet(tmp_path, text)
    with pytest.raises(DeepChromeError) as err:
        read_cells(path)
    assert err.value.path == str(path)
    for phrase in expected:
        assert phrase in str(err.value)


def test_missing_and_unreadable_sheets(tmp_path):
    with pytest.raises(DeepChromeError, match="does not exist"):
        read_cells(tmp_path / "none.tsv")
    (tmp_path / "bin.tsv").write_bytes(b"\xff\xfe\x00cell\n")
    with pytest.raises(DeepChromeError, match="cannot read the sheet"):
        read_cells(tmp_path / "bin.tsv")


def test_samples_twice_and_missing(tmp_path):
    path = tmp_path / "samples.tsv"
    path.write_text("cell\tmark\tsignal\nA\tm1\ta.bw\nA\tm2\tb.bw\nA\tm1\tc.bw\n")
    with pytest.raises(DeepChromeError, match=r"cell A, mark m1 is listed twice \(lines 2, 4\)"):
        sheets.read_sheet(path, SAMPLES, "samples.schema.yaml", ["cell", "mark"])
    path.write_text("cell\tmark\tsignal\nA\tm1\ta.bw\nA\tm2\t\n")
    table = sheets.read_sheet(path, SAMPLES, "samples.schema.yaml", ["cell", "mark"])
    assert sheets.sample_files(table, path, "signal", ["A"], ["m1"]) == {("A", "m1"): ("a.bw", 2)}
    with pytest.raises(DeepChromeError, match="cell A, mark m2: no line with a 'signal' file"):
        sheets.sample_files(table, path, "signal", ["A"], ["m1", "m2"])
    with pytest.raises(DeepChromeError, match="no 'reads' column"):
        sheets.sample_files(table, path, "reads", ["A"], ["m1"])


@pytest.mark.parametrize("rows, expected", [
    ({"cellC": "cellZ"}, "line 4: predict_with 'cellZ' of cell cellC is not a cell of the sheet"),
    ({"cellB": "cellC", "cellC": "pooled"}, "line 3: predict_with 'cellC' of cell cellB is itself a cell without"),
    ({"cellA": "pooled", "cellB": "pooled", "cellC": "pooled"}, "no cell has expression"),
])
def test_bad_predict_with(tmp_path, rows, expected):
    lines = ["cell\tpredict_with"] + [f"{c}\t{rows.get(c, '')}" for c in ("cellA", "cellB", "cellC")]
    path = cell_sheet(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DeepChromeError, match=expected):
        sheets.predict_models(read_cells(path), path)


def test_predict_with(tmp_path):
    path = cell_sheet(tmp_path, "cell\tpredict_with\ncellA\t\ncellB\tcellA\ncellC\tpooled\n")
    assert sheets.predict_models(read_cells(path), path) == {"cellB": "cellA", "cellC": "pooled"}
    path = cell_sheet(tmp_path, "cell\texpression\tpredict_with\ncellA\tA\t\ncellB\tB\tcellA\n")
    with pytest.raises(DeepChromeError, match="line 3: cell cellB has both an expression column and predict_with"):
        sheets.predict_models(read_cells(path), path)
    path = cell_sheet(tmp_path, "cell\ncellA\npooled\n")
    with pytest.raises(DeepChromeError, match="line 3: the cell ID 'pooled' is reserved"):
        sheets.predict_models(read_cells(path), path)


def test_chosen_cells():
    assert sheets.chosen_cells(["a", "b", "c"], "c,a", "s.tsv") == ["a", "c"]
    assert sheets.chosen_cells(["a", "b"], None, "s.tsv") == ["a", "b"]
    with pytest.raises(DeepChromeError, match="cells not found: z") as err:
        sheets.chosen_cells(["a", "b"], ["z"], "s.tsv")
    assert "choose among a, b" in str(err.value)


def test_names_and_queries():
    table = pd.DataFrame({"cell": ["E1", "E2"], "name": ["K562", None]})
    assert sheets.sheet_names(table) == ["K562", "E2"]
    assert sheets.sheet_names(table, labels=True) == ["K562 (E1)", "E2"]
    assert sheets.query_genes(" ENSG1, ,ENSG2") == ["ENSG1", "ENSG2"] and sheets.query_genes(None) == []
    assert sheets.safe_name("a/b c") == "a_b_c"
    with pytest.raises(DeepChromeError, match="no genes to explain"):
        sheets.gene_figures({})


def demo_config(**changes):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for key, value in changes.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    from jsonschema import Draft202012Validator, validators

    def fill(validator, properties, instance, schema):  # the schema's defaults, as snakemake.utils.validate fills
        for name, sub in properties.items():
            if isinstance(instance, dict) and "default" in sub:
                instance.setdefault(name, sub["default"])
        yield from Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, schema)

    list(validators.extend(Draft202012Validator, {"properties": fill})(CONFIG).iter_errors(config))  # fills only
    return config


@pytest.mark.parametrize("changes, expected", [
    ({"windows": {"flank": 5000, "bin_size": 300}}, ["windows.bin_size", "whole number of bins"]),
    ({"windows": {"flank": 500, "bin_size": 250}}, ["windows.bin_size", "too few"]),
    ({"target": "level", "genes": ["ENSG1"]}, ["`snakemake explain`"]),
])
def test_run_checks(changes, expected):
    config = demo_config(**changes)
    with pytest.raises(DeepChromeError) as err:
        settings.check_run(config, False, {}, {"config.yaml": changes})
    for phrase in expected:
        assert phrase in str(err.value)
    assert err.value.path.startswith("config.yaml")


def test_one_key_for_the_ensemble_size():
    config = demo_config(cnn={"params": {"seeds": 3}})
    with pytest.raises(DeepChromeError, match="cnn.params.seeds: this setting has one key, cnn.seeds") as err:
        settings.check_config(config, CONFIG, {"cnn": {"params": {"seeds": "3"}}}, {})
    assert err.value.path == settings.COMMAND_LINE and '--config "cnn={seeds: VALUE}"' in err.value.fix
    assert spec.run_params({"preset": "default", "params": {}, "seeds": 2})["seeds"] == 2
    assert spec.run_params({"preset": "paper", "params": {}, "seeds": None})["seeds"] == 1
