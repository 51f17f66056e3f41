"""The register of claims (dlt/book/register.py) and the closing chapter built from it.

The chapter reads every check of the other chapters from their executed notebooks. These
tests fail when a check of any chapter is missing from the register the chapter shows, when
its counts disagree with the chapters, when the SCALE 2 run does not cover the register, and
when a link of the register could not land on its check (the anchor the book's extension
writes must be the id Sphinx gives it).
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest
from docutils.nodes import make_id

from dlt.book import claims, register
from dlt.book.registry import CHAPTERS
from dlt.book.verdict import MIME

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CLOSING = BOOK / "21_where_theory_stands.ipynb"
WRITTEN = [c.slug for c in CHAPTERS if c.written and c.number < 21]

sys.path.insert(0, str(ROOT / "_ext"))
import dlt_book  # noqa: E402  (the book's Sphinx extension)


@pytest.fixture(scope="module")
def rows():
    return claims.collect(BOOK / f"{slug}.ipynb" for slug in WRITTEN)


def _row(chapter="03_ntk", cid="slope", passed=True, kind="confirmed", **kw):
    return {
        "chapter": chapter, "id": cid, "statement": "the slope", "measured": "-0.5",
        "value": -0.5, "expected": "< -0.4", "band": {"op": "<", "bound": -0.4},
        "rejects": "it is flat", "kind": kind, "passed": passed, **kw,
    }  # fmt: skip


def test_every_anchor_is_the_id_sphinx_gives_its_label_and_is_unique(rows):
    anchors = [register.anchor(r["chapter"], r["id"]) for r in rows]
    assert anchors == [make_id(a) for a in anchors]
    assert len(set(anchors)) == len(anchors)
    # underscores of a slug and repeated hyphens become one hyphen, as docutils does
    assert register.anchor("06_benign_overfitting", "a--b") == "claim-06-benign-overfitting-a-b"


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_extension_puts_one_target_per_shown_claim_before_its_cell(rows):
    for slug in WRITTEN:
        nb = json.loads((BOOK / f"{slug}.ipynb").read_text(encoding="utf-8"))
        n_cells = len(nb["cells"])
        n = dlt_book.claim_targets(nb, slug)
        ids = [r["id"] for r in rows if r["chapter"] == slug]
        assert n == len(ids), slug
        targets = [
            _src(c) for c in nb["cells"] if c["cell_type"] == "markdown"
            and _src(c).startswith("(claim-")
        ]  # fmt: skip
        found = re.findall(r"^\((claim-[a-z0-9-]+)\)=$", "\n".join(targets), re.M)
        assert found == [register.anchor(slug, i) for i in ids], slug
        assert len(nb["cells"]) == n_cells + len(targets)
        for i, c in enumerate(nb["cells"][:-1]):  # each target cell precedes its check cell
            if c["cell_type"] == "markdown" and _src(c).startswith("(claim-"):
                assert MIME in json.dumps(nb["cells"][i + 1]["outputs"]), slug


def test_the_table_shows_every_claim_grouped_by_part_with_each_runs_verdict():
    rows = [_row(), _row(cid="gap"), _row("14_robustness", "fgsm", kind="negative")]
    other = [_row(), _row(cid="gap", passed=False, measured="0.9")]
    t = register.RegisterTable(rows, {"SCALE 2 (CPU)": other, "GPU": []})
    page = t._repr_html_()
    claims_shown = re.findall(r'<tr class="dlt-claim" data-claim="([^"]+)"', page)
    assert claims_shown == ["03_ntk/slope", "03_ntk/gap", "14_robustness/fgsm"]
    parts = re.findall(r'<tr class="dlt-part"><th colspan="9">([^<]+)</th>', page)
    assert parts == ["Part II. Infinite width", html.escape(CHAPTERS[13].part)]
    assert 'href="14_robustness.html#claim-14-robustness-fgsm"' in page
    lines = t.text().splitlines()
    assert lines[:2] == [
        "GPU: no run recorded",
        "claim, measured, expected; other runs (1: SCALE 2 (CPU))",
    ]
    claim_lines = [ln for ln in lines if ln.startswith("  ")]
    assert len(claim_lines) == 3 and all(len(ln) <= 78 for ln in lines)
    assert claim_lines[0].startswith("  ✔ slope") and claim_lines[0].endswith("1:✔ -0.5")
    assert claim_lines[1].endswith("1:✘ 0.9")
    assert claim_lines[2].startswith("  ✘ fgsm") and claim_lines[2].endswith("1:-")
    assert lines.index(" 14_robustness") > lines.index(CHAPTERS[13].part)
    assert "<script>" in page and "dlt-register-filter" in page
    # a statement with markup is escaped, not rendered
    bad = register.RegisterTable([_row(statement="<b>x</b> & y")])._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in bad


def test_claims_only_a_larger_run_makes_follow_their_chapter_and_are_marked():
    """A check a chapter runs only at a larger SCALE is in the register after its chapter's
    other claims, marked with the run that made it, linked to the chapter (it has no check
    output in the default page); a claim both runs make is listed once (rejects a register
    that drops such claims, lists a claim twice, or links a target that does not exist)."""
    rows = [_row(scale=1, device="cpu"), _row("14_robustness", "fgsm", scale=1, device="cpu")]
    big = [
        _row(scale=2, device="cpu"),
        _row(cid="wide", scale=2, device="cpu", passed=False),
        _row("20_diffusion", "digits", scale=2, device="cpu"),
    ]
    merged = register.with_larger_runs(rows, [big, [_row(cid="wide", scale=4, device="cuda")]])
    assert [(r["chapter"], r["id"], r.get("only_at")) for r in merged] == [
        ("03_ntk", "slope", None),
        ("03_ntk", "wide", "SCALE 2 cpu"),
        ("14_robustness", "fgsm", None),
        ("20_diffusion", "digits", "SCALE 2 cpu"),
    ]
    assert rows[0].get("only_at") is None  # the default rows are not changed
    t = register.RegisterTable(merged, {"SCALE 2 (CPU)": big})
    page = t._repr_html_()
    assert 'href="03_ntk.html"><code>wide</code>' in page
    assert "[only at SCALE 2 cpu] the slope" in page
    assert 'href="03_ntk.html#claim-03-ntk-slope"' in page
    lines = t.text().splitlines()
    assert "+: checked only in a larger run (its chapter says why)" in lines
    wide = next(ln for ln in lines if "+wide" in ln)
    assert wide.startswith("  ✔+wide") and wide.endswith("1:✘ -0.5")
    assert all(len(ln) <= 78 for ln in lines)
    assert register.with_larger_runs(rows) == rows


def test_counts_and_parts_count_each_claim_once():
    rows = [_row(), _row(cid="b", kind="open"), _row("14_robustness", "c", kind="negative")]
    assert register.counts(rows) == {
        "03_ntk": {"confirmed": 1, "negative": 0, "open": 1},
        "14_robustness": {"confirmed": 0, "negative": 1, "open": 0},
    }
    assert list(register.parts_of(rows).values()) == [2, 1]


def _notebook(path: Path, ids: list[str]) -> None:
    from dlt.book.check import less

    cells = []
    for i in ids:
        v = less(i, 0.01, 0.05, id=i, rejects="it is large")
        out = {"output_type": "execute_result", "data": v._repr_mimebundle_(), "metadata": {}}
        cells.append({"cell_type": "code", "source": "", "outputs": [out], "metadata": {}})
    path.write_text(json.dumps({"cells": cells}))


def test_a_failed_chapter_of_a_run_counts_its_claims_up_to_the_failure(tmp_path):
    _notebook(tmp_path / "01_a.ipynb", ["x", "y"])
    _notebook(tmp_path / "02_b.failed.ipynb", ["z"])  # crashed after z
    _notebook(tmp_path / "03_c.ipynb", ["u"])
    _notebook(tmp_path / "03_c.failed.ipynb", ["stale"])  # an older failure, since fixed
    _notebook(tmp_path / "21_where_theory_stands.ipynb", ["w"])
    got = [(r["chapter"], r["id"]) for r in register.collect_run(tmp_path)]
    assert got == [("01_a", "x"), ("01_a", "y"), ("02_b", "z"), ("03_c", "u")]
    out = tmp_path / "reg" / "run.json"
    assert register.main([str(tmp_path), str(out)]) == 0
    assert len(register.load_run(out)) == 4
    assert register.load_run(tmp_path / "absent.json") == []
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="a JSON list"):
        register.load_run(tmp_path / "bad.json")


def test_book_folder_is_found_from_the_book_the_root_and_below_and_nowhere_else(tmp_path):
    assert register.book_folder(BOOK) == BOOK
    assert register.book_folder(ROOT) == BOOK
    assert register.book_folder(ROOT / "dlt" / "book") == BOOK
    with pytest.raises(FileNotFoundError, match="clone of the repository"):
        register.book_folder(tmp_path)


def _closing_claims() -> list[str]:
    nb = json.loads(CLOSING.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            page = out.get("data", {}).get("text/html", "")
            page = "".join(page) if isinstance(page, list) else page
            if "dlt-register" in page:
                return [html.unescape(k) for k in re.findall(r'data-claim="([^"]+)"', page)]
    raise AssertionError(f"{CLOSING.name} shows no register table: make execute CH=21")


def _larger_runs() -> list[list[dict]]:
    return [register.load_run(BOOK / "claims" / f"{run}.json") for run in ("scale2", "gpu")]


def test_the_closing_chapter_shows_every_claim_of_every_chapter(rows):
    shown = _closing_claims()
    expected = [
        f"{r['chapter']}/{r['id']}" for r in register.with_larger_runs(rows, _larger_runs())
    ]
    missing = sorted(set(expected) - set(shown))
    extra = sorted(set(shown) - set(expected))
    assert not missing and not extra and shown == expected, (
        f"the register of chapter 21 disagrees with the chapters (missing {missing[:5]}, "
        f"gone {extra[:5]}): re-execute it, make execute CH=21"
    )
    assert {r["chapter"] for r in rows} == set(WRITTEN), "a written chapter has no claim"


def test_the_closing_chapter_prints_the_chapters_counts(rows):
    nb = json.loads(CLOSING.read_text(encoding="utf-8"))
    printed = "".join(
        "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    )  # fmt: skip
    for slug, c in register.counts(rows).items():
        line = f"{slug:26s} {c['confirmed']:9d} {c['negative']:8d} {c['open']:4d}"
        assert line in printed, f"chapter 21 prints other counts for {slug}: make execute CH=21"
    assert f"{len(rows)} claims in {len(WRITTEN)} chapters" in printed


def test_claims_made_only_by_a_larger_run_are_checks_of_the_chapters_source(rows):
    """A claim that only the SCALE 2 (or GPU) record has must be a check its chapter still
    makes at that scale: its id is in the chapter's source, under a SCALE condition (rejects
    a stale record that keeps a check the chapter no longer has, or one the default run
    should have made)."""
    only = [r for r in register.with_larger_runs(rows, _larger_runs()) if r.get("only_at")]
    for r in only:
        source = (BOOK / f"{r['chapter']}.md").read_text(encoding="utf-8")
        assert f'id="{r["id"]}"' in source, (
            f"{r['chapter']}/{r['id']} is in a recorded run but not in the chapter: "
            "run the chapter at that scale again and collect it"
        )
        assert re.search(r"if (SCALE >= \d+|LARGER)", source), r["chapter"]


def test_the_scale2_run_covers_the_register(rows):
    run = register.runs_of(register.load_run(BOOK / "claims" / "scale2.json"))
    missing = [f"{r['chapter']}/{r['id']}" for r in rows if (r["chapter"], r["id"]) not in run]
    assert not missing, (
        f"{len(missing)} claims have no SCALE 2 verdict ({missing[:4]}): "
        "make register-scale2 (or run the chapters named at SCALE 2 and collect them)"
    )
