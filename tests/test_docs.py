"""The documentation stays true: generated tables equal what the kept runs and the schema give, every relative link
and anchor resolves, and the text carries no dates (outside provenance lines), issue numbers or load averages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "config" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
PROVENANCE = re.compile(r"^\*(Table|Figure) written by `benchmarks/doc_tables.py` from .*\(run of \d{4}-\d{2}-\d{2}")
# The README's blocks name the script and the kept runs, no date: the docs pages showing the same runs date them.
README_PROVENANCE = re.compile(r"^\*(Table|Figure) written by `benchmarks/doc_tables.py` from `benchmarks/runs/[^()]*\.\*$")
MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
BANNED = {
    "a date": re.compile(rf"\b20\d\d-\d\d-\d\d\b|\b\d{{1,2}} {MONTH} 20\d\d\b|\b{MONTH} \d{{1,2}},? 20\d\d\b"),
    "a time of day": re.compile(r"\b[0-2]?\d:[0-5]\d(-[0-2]?\d:[0-5]\d)?\b(?!:)"),
    "an issue number": re.compile(r"(?<![\w&/])#\d+\b|\bissues? \d+\b|\bPR \d+\b", re.I),
    "a load average": re.compile(r"\bload averages?\b|\bload (of )?~?\d", re.I),
}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def prose_lines(path: Path) -> list[tuple[int, str, bool]]:
    """(line number, line, inside a code fence) of a page."""
    rows, fenced = [], False
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        rows.append((n, line, fenced))
    return rows


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings, with GitHub's -1, -2 suffixes for repeated ones."""
    seen: dict[str, int] = {}
    found = set()
    for _, line, fenced in prose_lines(path):
        m = re.match(r"#{1,6} (.+)", line)
        if fenced or not m:
            continue
        base = slug(m.group(1))
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found


def broken_links(path: Path) -> list[str]:
    """Every relative link of a page whose file, or whose #anchor in that file, does not exist."""
    broken = []
    for n, line, fenced in prose_lines(path):
        if fenced:
            continue
        for m in LINK.finditer(line):
            target = m.group(1) or m.group(2)
            if re.match(r"[a-z]+:", target):  # http(s), mailto: not checked here
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{path.name}:{n}: {target}: no file {dest}")
            elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
                broken.append(f"{path.name}:{n}: {target}: no heading with anchor #{anchor} in {dest.name}")
    return broken


def schema_keys(schema: dict, prefix: str = "") -> set[str]:
    """Every key of the config schema, nested keys dotted; base-URL patterns as ``<name>_url``."""
    keys = set()
    for name, sub in schema.get("properties", {}).items():
        keys |= {prefix + name} | schema_keys(sub, f"{prefix}{name}.")
    return keys | ({prefix + "<name>_url"} if schema.get("patternProperties") else set())


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_generated_tables_equal_the_kept_runs():
    out = run_script("benchmarks/doc_tables.py", "--check")
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]


def test_config_page_equals_the_schema():
    out = run_script("scripts/config_docs.py", "--check")
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]


def test_config_page_has_every_schema_key_and_no_other():
    schema = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())
    block = (ROOT / "config" / "README.md").read_text().split("<!-- table:config-keys -->")[1].split("<!-- /table")[0]
    page = {m.group(1) for m in re.finditer(r"^\| `([^`]+)` \|", block, re.M)}
    assert schema_keys(schema) - page == set(), "keys of the schema missing from config/README.md"
    assert page - schema_keys(schema) == set(), "keys in config/README.md that the schema does not have"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_anchors_resolve(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_dates_issue_numbers_or_load_averages(page):
    found = [f"{page.name}:{n}: {what}: {line.strip()}" for n, line, _ in prose_lines(page)
             if not PROVENANCE.match(line) for what, pattern in BANNED.items() if pattern.search(line)]
    assert found == []


@pytest.mark.parametrize("page", [p for p in PAGES if p.parent != ROOT / "config"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_results_tables_are_generated_with_one_provenance_line(page):
    """A table row with an AUC-like number sits in a generated block, and each block has one provenance line."""
    text = page.read_text()
    blocks = list(re.finditer(r"<!-- (table|figure):([\w-]+) -->\n(.*?)<!-- /\1:\2 -->", text, re.S))
    line_rule = README_PROVENANCE if page.name == "README.md" and page.parent == ROOT else PROVENANCE
    for b in blocks:
        assert sum(bool(line_rule.match(line)) for line in b.group(3).splitlines()) == 1, b.group(2)
    outside = re.sub(r"<!-- (table|figure):([\w-]+) -->\n.*?<!-- /\1:\2 -->", "", text, flags=re.S)
    pasted = [line for line in outside.splitlines() if line.startswith("|") and re.search(r"\b0\.\d{3}", line)]
    assert pasted == []


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < 250
    for needed in ("bash run.sh demo", "bash run.sh test", "Python >= 3.11", "10.1093/bioinformatics/btw427",
                   "LICENSE", "DEEPCHROME_TORCH=cpu"):
        assert needed in text, needed


def test_python_floor_is_stated_everywhere():
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()
    assert "(3, 11)" in (ROOT / "run.sh").read_text()
    assert "10.1093/bioinformatics/btw427" in (ROOT / "CITATION.cff").read_text()
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_link_check_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\n## The `deepchrome` command\n\nSee [b](b.md#usage), [c](c.md), "
                                   "[here](#the-deepchrome-command), [gone](#nowhere).\n\n```\n# not a heading\n```\n")
    (tmp_path / "b.md").write_text("# Usage\n")
    broken = broken_links(tmp_path / "a.md")
    assert len(broken) == 2 and "c.md" in broken[0] and "#nowhere" in broken[1]
    assert anchors(tmp_path / "a.md") == {"title", "the-deepchrome-command"}


def test_banned_patterns_match_what_they_should():
    assert BANNED["a date"].search("the run of 2026-11-30") and BANNED["a date"].search("30 Nov 2026")
    assert BANNED["an issue number"].search("see #19") and BANNED["an issue number"].search("issue 12")
    assert BANNED["a load average"].search("at load 15-17") and BANNED["a time of day"].search("at 12:28")
    assert not any(p.search("[Usage](usage.md#the-demo), 0.895 [0.874, 0.917], 2,000 resamples")
                   for p in BANNED.values())
