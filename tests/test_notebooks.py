"""Notebook tests: every chapter executes with injected parameters, and every pair is in sync.

nbval (run by `make test` on book/NN_*.ipynb with --nbval-lax) separately re-executes the
committed notebooks and compares the outputs of the cells marked NBVAL_CHECK_OUTPUT.
"""

import json
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
BUDGET_S = 60.0
TIMINGS = ROOT / "_build" / "timings"


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_pair_in_sync(md):
    nb_path = md.with_suffix(".ipynb")
    assert nb_path.exists(), f"{md.name} has no paired notebook: run `jupytext --sync {md}`"
    text = jupytext.read(md)
    nb = nbformat.read(nb_path, as_version=4)
    assert _cells(text) == _cells(nb), (
        f"{md.name} and {nb_path.name} differ: edit the .md, then `make execute` to refresh the notebook"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_conventions(md):
    nb = jupytext.read(md)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged parameters"
    params = code[0].source
    for name in ("DEVICE", "SCALE", "SEED"):
        assert f"{name} =" in params, f"parameters cell must define {name}"
    assert any("NBVAL_CHECK_OUTPUT" in c.source for c in code), "no cell checks its printed numbers"
    assert any("check." in c.source for c in code), "no dlt.check claim in the chapter"
    assert any("explore(" in c.source for c in code), "no explorer in the chapter"
    size = md.with_suffix(".ipynb").stat().st_size
    assert size < 1_500_000, f"{md.stem}.ipynb is {size // 1024} KiB, over the 1.5 MB budget"


@pytest.mark.notebook
@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes_with_papermill(md, tmp_path):
    import papermill as pm

    start = time.perf_counter()
    pm.execute_notebook(
        str(md.with_suffix(".ipynb")),
        str(tmp_path / f"{md.stem}.ipynb"),
        parameters={"DEVICE": "cpu", "SCALE": 1, "SEED": 0},
        kernel_name="python3",
        cwd=str(md.parent),
        progress_bar=False,
    )
    elapsed = time.perf_counter() - start
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"{md.stem}.json").write_text(json.dumps({"chapter": md.stem, "seconds": round(elapsed, 1)}))
    print(f"{md.stem}: {elapsed:.1f} s (budget {BUDGET_S:.0f} s on a 2-core CPU)")
