"""Notebook tests: every chapter executed once, compared with its committed outputs, within budget.

Each chapter runs once with papermill (parameters injected, as `dlt run` and GPU runs do). The
cells tagged ``nbval-check-output`` of that run must print exactly what the committed
notebook printed (the guarantee nbval's ``--nbval-lax`` mode gave, without a second
execution), every ``dlt.check`` in it must hold (a failing check fails the run), and the run
must finish within the 60 s budget of a 2-core CPU. Pairs of ``.md`` and ``.ipynb`` must agree.
"""

import json
import os
import re
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from dlt.check import MIME as CLAIMS  # the mime type of a check's structured output

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
# The budget is 60 s for a chapter run alone on a 2-core CPU. The test suite runs two jobs at
# once on such a machine (a chapter beside a lesson or another test file), which stretches a
# chapter's wall time by up to about 1.5x, so the suite asserts 90 s; `dlt run NN` on an idle
# machine measures the 60 s budget. Measured as CPU time of one execution at one thread
# (nbconvert, kernel start included, a lightly loaded machine): chapters 1, 2, 3, 6 and 12
# took 19, 17, 24, 28 and 31 s after their revision for time (20, 23, 28, 29 and 49 s before;
# a busy machine inflates CPU time too, by up to about 1.5x).
BUDGET_S = float(os.environ.get("DLT_BUDGET_S", "90"))
TIMINGS = ROOT / "_build" / "timings"
# The cell tag nbval's --nbval-lax mode honours as its `# NBVAL_CHECK_OUTPUT` comment; cell
# metadata, so readers do not see it (tools/check_output_tag.py turns comments into the tag).
TAG = "nbval-check-output"
COMMENT = "# NBVAL_CHECK_OUTPUT"
CODE_COLUMNS = 88  # what the book's column shows without a scroll bar


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def _checked_outputs(nb) -> list[tuple[str, list[str]]]:
    """(source, printed text) of every cell tagged nbval-check-output, in order.

    A check's structured output (the claims under the vendor mime type ``CLAIMS``) is part of
    what a cell printed: its JSON text, keys sorted, follows the cell's text.
    """
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or TAG not in cell.metadata.get("tags", []):
            continue
        texts = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                texts.append("".join(o.get("text", "")).rstrip())
            elif o.get("output_type") in ("execute_result", "display_data"):
                plain = o.get("data", {}).get("text/plain")
                if plain is not None and not "".join(plain).startswith("<Figure"):
                    texts.append("".join(plain).rstrip())
                if CLAIMS in o.get("data", {}):
                    texts.append(CLAIMS + " " + json.dumps(o["data"][CLAIMS], sort_keys=True))
        out.append((cell.source, texts))
    return out


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_pair_in_sync(md):
    nb_path = md.with_suffix(".ipynb")
    assert nb_path.exists(), f"{md.name} has no paired notebook: run `jupytext --sync {md}`"
    text = jupytext.read(md)
    nb = nbformat.read(nb_path, as_version=4)
    assert _cells(text) == _cells(nb), (
        f"{md.name} and {nb_path.name} differ: edit the .md, then `make execute CH={md.stem[:2]}`"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_conventions(md):
    nb = jupytext.read(md)
    opening = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    label = f"(ch:{md.stem[3:]})="
    assert opening.startswith(f"{label}\n# "), (
        f"a chapter opens with its label line {label} and then its title"
    )
    titles = [
        ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines()
        if ln.startswith("# ")
    ]  # fmt: skip
    assert len(titles) == 1, f"one title (a `# ` heading) per chapter, found {titles}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "parameters" in code[0].metadata.get("tags", []), (
        "first code cell must be tagged parameters"
    )
    params = code[0].source
    for name in ("DEVICE", "SCALE", "SEED"):
        assert f"{name} =" in params, f"parameters cell must define {name}"
    install = code[1]
    assert "remove-cell" in install.metadata.get("tags", []) and "%pip install" in install.source, (
        "the cell after the parameters installs dlt where it is missing (Colab, Binder): "
        "run tools/install_cell.py"
    )
    url = re.search(
        r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*(\S+)",
        (ROOT / "_config.yml").read_text(encoding="utf-8"),
        re.M,
    ).group(1)
    assert f"git+{url}" in install.source, (
        f"the install cell must name the repository of _config.yml ({url})"
    )
    assert "dlt.setup(DEVICE, SEED, scale=SCALE)" in code[2].source, (
        "the set-up cell: dev = dlt.setup(DEVICE, SEED, scale=SCALE)"
    )
    assert any(TAG in c.metadata.get("tags", []) for c in code), (
        f"no cell checks its printed numbers (tag the cell {TAG})"
    )
    commented = [c.source.splitlines()[0] for c in code if c.source.lstrip().startswith(COMMENT)]
    assert not commented, (
        f"{len(commented)} cells start with {COMMENT}, which readers see: "
        "run tools/check_output_tag.py (it tags them instead)"
    )
    assert any("check." in c.source for c in code), "no dlt.check claim in the chapter"
    assert any("explore(" in c.source for c in code), "no explorer in the chapter"
    for c in code:
        assert not re.search(r"^\s*_ = check\.", c.source, re.M), (
            "show a check as the cell's last expression, not `_ = check...`"
        )
    long = [ln for c in code for ln in c.source.splitlines() if len(ln) > CODE_COLUMNS]
    assert not long, (
        f"code lines over {CODE_COLUMNS} columns (they are cut on the page): {long[:3]}"
    )
    size = md.with_suffix(".ipynb").stat().st_size
    assert size < 1_500_000, f"{md.stem}.ipynb is {size // 1024} KiB, over the 1.5 MB budget"


@pytest.mark.notebook
@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes_matches_its_outputs_within_budget(md, tmp_path):
    import papermill as pm

    committed = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    out = tmp_path / f"{md.stem}.ipynb"
    start = time.perf_counter()
    pm.execute_notebook(
        str(md.with_suffix(".ipynb")),
        str(out),
        parameters={"DEVICE": "cpu", "SCALE": 1, "SEED": 0},
        kernel_name="python3",
        cwd=str(md.parent),
        progress_bar=False,
    )
    elapsed = time.perf_counter() - start
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"{md.stem}.json").write_text(
        json.dumps({"chapter": md.stem, "seconds": round(elapsed, 1)})
    )
    print(f"{md.stem}: {elapsed:.1f} s (budget {BUDGET_S:.0f} s on a 2-core CPU)")
    ran = _checked_outputs(nbformat.read(out, as_version=4))
    want = _checked_outputs(committed)
    if not any(t.startswith(CLAIMS) for _, texts in want for t in texts):
        # committed before checks had a structured output: compare the text only, until the
        # chapter is re-executed (tests/test_claims.py says which chapters still lack it)
        ran = [(s, [t for t in texts if not t.startswith(CLAIMS)]) for s, texts in ran]
    assert [s for s, _ in ran] == [s for s, _ in want], (
        "the checked cells differ from the committed notebook"
    )
    for (source, got), (_, expected) in zip(ran, want, strict=True):
        first = (source.strip().splitlines() or [""])[0]
        assert got == expected, (
            f"{md.stem}: the cell starting `{first[:70]}` printed\n{got}\nbut the committed notebook has\n"
            f"{expected}\n(refresh it with `make execute CH={md.stem[:2]}` if the change is intended)"
        )
    assert elapsed < BUDGET_S, f"{md.stem} took {elapsed:.1f} s, over its {BUDGET_S:.0f} s budget"
