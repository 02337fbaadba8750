"""Hostile names from sheets become text in the report (Jinja, then docutils, as Snakemake renders a caption)
and in figures (matplotlib), never markup."""

from __future__ import annotations

import io

import jinja2
import matplotlib
import pandas as pd
import pytest
from docutils.core import publish_parts

from conftest import ROOT
from deepchrome.markup import plot_text, rst_literal, rst_text
from deepchrome.overview import overview_text

matplotlib.use("Agg")

HOSTILE = [
    "`x <javascript:alert(3)>`_",
    "x_ `y`_ |sub| [1]_ *em* **strong** ``lit`` :math:`x`",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }} {% if 1 %}yes{% endif %} {# c #}",
    "a\n\n.. raw:: html\n\n   <script>alert(1)</script>\n",
    "<script>alert(1)</script> & \"q\" 'q' \\ \\\\ $x^2$ 50% #1 ~ ^",
    "ÄÖü — naïve · 細胞",
]


def render(rst: str) -> str:
    """A caption as Snakemake's report renders it: Jinja (snakemake's Environment), then docutils to HTML."""
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    return publish_parts(env.from_string(rst).render(snakemake=None), writer="html")["body"]


def shown_text(html: str) -> str:
    """The text a browser shows of an HTML fragment (tags dropped, entities decoded)."""
    import html as html_module
    import re

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", html)).split())


@pytest.mark.parametrize("name", HOSTILE)
def test_rst_text_is_shown_as_text(name):
    html = render(f"**Cells**: {rst_text(name)}.")
    assert "<a " not in html and "<script" not in html and "<em>" not in html.split("Cells")[1]
    assert shown_text(html) == " ".join(f"Cells: {name}.".split())


@pytest.mark.parametrize("name", HOSTILE + ["default.yaml", "cnn={'params': {'epochs': 5}}"])
def test_rst_literal_is_shown_as_text(name):
    html = render(f"Settings: {rst_literal(name)}.")
    assert "<a " not in html and "<script" not in html
    assert shown_text(html) == " ".join(f"Settings: {name}.".split())
    assert ("docutils literal" in html) == (name == "default.yaml")  # a plain file name stays monospace


def test_landing_page_escapes_names_files_and_command_line():
    auc = pd.DataFrame({"cell": ["cellA", "cellB"], "model": ["cnn", "cnn"], "test_auc": [0.8, 0.7],
                        "name": [HOSTILE[0], HOSTILE[2]]})
    settings = {"marks": ["H3K4me3"], "preset": "default", "input": "signal", "split": "random",
                "params": {"patience": 5, "optimizer": "adam", "lr": 0.001, "batch_size": 32,
                           "transform": "log1p", "epochs": 10},
                "config_files": ["/x/my `conf`_.yaml"], "overrides": {"genes": "{{ 7 * 7 }} <javascript:alert(1)>`_"},
                "bins": {"bins": 50, "bin_size": 200}}
    page = overview_text((ROOT / "report" / "workflow.rst").read_text(), auc, None, settings)
    html = render(page)
    assert "javascript" not in " ".join(html.split("href")[1:]) and "49" not in shown_text(html)
    text = shown_text(html)
    assert f"cellA ({HOSTILE[0]})" in text and "my `conf`_.yaml" in text and "{{ 7 * 7 }}" in text
    assert "in 50 bins of 200 bp around the TSS" in text


@pytest.mark.parametrize("name", ["$\\frac{$", "price $5 and $6", "a_b^c"])
def test_plot_text_is_not_mathtext(name):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    title = ax.set_title(plot_text(name))
    fig.savefig(io.BytesIO(), format="png")  # an unescaped "$\frac{$" fails to parse as mathtext here
    assert not title._preprocess_math(title.get_text())[1]  # shown as text, not math
    plt.close(fig)
