"""The HTML report, opened in a real headless Chromium (Debian's package, installed when missing): the landing
page says what was run and the headline AUCs, the results are grouped by topic and cell, every result shows its
caption, and the AUC table renders as a table. A screenshot of the landing page goes to results/report/."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from browser import Browser, ensure_chromium
from conftest import HOSTILE_NAME, ROOT, copy_run, snakemake
from deepchrome.overview import headline
from deepchrome.spec import model_long_name

LANDING_FILES = {"workflow.rst", "before_summary.rst"}
PUBLISHED = "results/summary/figures/published.png"


def plain(text: str) -> str:
    """Whitespace collapsed, for comparing rendered text with its source."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hostile_run(demo_run, tmp_path_factory):
    """A copy of the demo run, whose cell sheet names cellA with markup (conftest's HOSTILE_NAME)."""
    return copy_run(demo_run, tmp_path_factory.mktemp("hostile") / "run")


@pytest.fixture(scope="module")
def report(hostile_run, tmp_path_factory):
    html = tmp_path_factory.mktemp("report") / "report.html"
    out = snakemake("--configfile", str(hostile_run / "config.yaml"), "--report", str(html), workdir=hostile_run)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return html


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = ensure_chromium()
    b = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def opened(report, browser):
    browser.open(report.as_uri(), "typeof app !== 'undefined' && document.body.innerText.includes('Headline')")
    return browser


def test_landing_page_tells_what_ran_and_the_headline(opened, hostile_run):
    text = plain(opened.evaluate("document.body.innerText"))
    auc = pd.read_csv(hostile_run / "results" / "summary" / "auc.tsv", sep="\t")
    assert "DeepChrome reproduction" in text
    assert "What was run." in text and "CNN preset default" in text
    # Snakemake centres the landing page in a box of the window's height, where an overflowing top cannot
    # be scrolled to: the page must fit a 900-pixel-high window, its title included.
    top, bottom = opened.evaluate("(() => { const r = document.querySelector('.document').getBoundingClientRect();"
                                  " return [r.top, r.bottom]; })()")
    assert top >= 0 and bottom <= 900, f"the landing page spans {top:.0f}..{bottom:.0f} px of a 900 px window"
    for cell in auc["cell"].unique():
        assert cell in text
    for model, values in auc.groupby("model")["test_auc"]:
        row = rf"{re.escape(model_long_name(model))} {values.mean():.3f} "
        assert re.search(row, text), f"no headline row '{row}' in: {text[:3000]}"
    for section in ("1. Accuracy", "2. Training", "3. Feature maps", "4. Explanation", "5. Across cells"):
        assert section in text
    opened.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
    shot = hostile_run / "results" / "report" / "screenshot.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    opened.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_hostile_cell_name_is_text(opened):
    """A cell name made of reStructuredText, Jinja and HTML shows as those characters: no link, no evaluation."""
    text = plain(opened.evaluate("document.body.innerText"))
    assert f"cellA ({HOSTILE_NAME})" in text, text[:3000]
    links = opened.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    assert not [h for h in links if h.strip().lower().startswith("javascript")], links
    assert opened.evaluate("document.querySelectorAll('.document b').length") == 0
    captions = opened.evaluate("Object.values(results).map(r => r.caption).join(' ')")
    assert "javascript:" not in captions


def test_results_grouped_by_topic_and_cell(opened, hostile_run):
    grouped = opened.evaluate("categories")  # {category: {subcategory: [result paths]}}
    results = {path: [cat, sub] for cat, subs in grouped.items() for sub, paths in subs.items() for path in paths}
    assert set(results) == set(opened.evaluate("Object.keys(results)"))
    cells = pd.read_csv(hostile_run / "results" / "summary" / "auc.tsv", sep="\t")["cell"].unique()
    for cell in cells:
        assert results[f"results/{cell}/cnn/featuremap.png"] == ["3. Feature maps", "Each cell"]
    assert results["results/summary/auc_table.html"] == ["1. Accuracy", "All cells"]
    assert results["results/summary/figures/training_curves.png"] == ["2. Training", "All cells"]
    assert {c for c, _ in results.values()} == {"1. Accuracy", "2. Training", "3. Feature maps", "4. Explanation",
                                                "5. Across cells"}
    assert results["results/summary/figures/transfer.png"] == ["5. Across cells", "All cells"]
    for cell in cells:
        assert results[f"results/{cell}/cnn/explanation.png"] == ["4. Explanation", "Each cell"]


def test_every_result_shows_its_caption(opened):
    keys = opened.evaluate("Object.keys(results)")
    captions = {}
    for key in keys:
        caption = plain(opened.evaluate(
            f"(() => {{ const d = document.createElement('div'); d.innerHTML = results[{json.dumps(key)}].caption;"
            " return d.textContent; })()"))
        assert "What to look for:" in caption, f"{key}: caption without what to look for: {caption!r}"
        opened.evaluate(f"app.showResultInfo({json.dumps(key)})")
        opened.wait_for(f"document.body.innerText.replace(/\\s+/g, ' ').includes({json.dumps(caption[:120])})")
        captions[key] = caption
    # every caption file of report/ is in use, rendered (markup gone, jinja filled)
    for rst in sorted((ROOT / "report").glob("*.rst")):
        if rst.name in LANDING_FILES or (rst.name == "published.rst" and PUBLISHED not in keys):
            continue  # the published-AUC figure exists only where the cell sheet gives published AUCs
        if rst.name == "explain_gene.rst":
            continue  # per-gene figures exist only after `snakemake explain --config genes=...`
        if rst.name.startswith("level"):
            continue  # target: level only (tests/test_levels.py builds that report)
        if rst.name in ("pooled.rst", "pooled_table.rst"):
            continue  # the pooled and leave-one-cell-out table and figure exist only after `snakemake transfer`
        sentence = plain(rst.read_text().split("What to look for:**", 1)[1].split(".")[0].replace("``", ""))
        assert any(sentence in c for c in captions.values()), f"report/{rst.name}: '{sentence}' shown by no result"
    assert any("Cell cellA. What to look for:" in c for c in captions.values()), "per-cell caption not filled"


def test_auc_table_renders_as_a_table(opened, hostile_run):
    auc = pd.read_csv(hostile_run / "results" / "summary" / "auc.tsv", sep="\t")
    opened.open(opened.evaluate("results['results/summary/auc_table.html'].data_uri"))
    headers = opened.evaluate("[...document.querySelectorAll('table thead th')].map(th => th.innerText)")
    assert headers == list(auc.columns)
    rows = opened.evaluate("[...document.querySelectorAll('table tbody tr')].map(tr => "
                           "[...tr.cells].map(td => td.innerText))")
    assert len(rows) == len(auc)
    first = dict(zip(headers, rows[0]))
    assert first["cell"] == auc["cell"][0] and first["test_auc"] == f"{auc['test_auc'][0]:.3f}"


# ---- the headline table, from the summary tables as they are before and after confidence intervals ------------

def auc_rows(**extra):
    rows = {"cell": ["c1", "c1", "c2", "c2"], "model": ["cnn", "svm"] * 2, "test_auc": [0.90, 0.80, 0.70, 0.60]}
    return pd.DataFrame({**rows, **extra})


def test_headline_without_intervals():
    table = headline(auc_rows())
    assert list(table["model"]) == ["cnn", "svm"]
    assert table["mean_auc"].round(6).tolist() == [0.8, 0.7] and table["ci_low"].isna().all()
    assert table[["min_auc", "max_auc"]].round(6).values.tolist() == [[0.7, 0.9], [0.6, 0.8]]


def test_headline_takes_the_per_model_interval_of_a_models_table():
    """The interval is models.tsv's own columns (deepchrome.overview.MODEL_CI, as compare_models writes them), never
    guessed from other column names."""
    models = pd.DataFrame({"model": ["svm", "cnn"], "mean_test_auc": [0.7, 0.8], "mean_low": [0.55, 0.65],
                           "mean_high": [0.85, 0.95], "aupr_low": [0.0, 0.0], "aupr_high": [1.0, 1.0]})
    table = headline(auc_rows(), models).set_index("model")
    assert table.loc["cnn", ["ci_low", "ci_high"]].tolist() == [0.65, 0.95]
    assert table.loc["svm", ["ci_low", "ci_high"]].tolist() == [0.55, 0.85]
    other = models.rename(columns={"mean_low": "test_auc_ci_low", "mean_high": "test_auc_ci_high"})
    assert headline(auc_rows(), other)["ci_low"].isna().all()


def test_headline_of_one_cell_takes_its_bootstrap_interval():
    auc = auc_rows(test_auc_low=[0.88, 0.77, 0.6, 0.5], test_auc_high=[0.92, 0.83, 0.8, 0.7]).iloc[:2]
    table = headline(auc).set_index("model")
    assert table.loc["cnn", ["ci_low", "ci_high"]].tolist() == [0.88, 0.92]
    assert headline(auc_rows(test_auc_low=[0.1] * 4, test_auc_high=[0.2] * 4))["ci_low"].isna().all()
