"""The book build and `make lab` protect the chapters' explorers.

A live JupyterLab session replaces a chapter's pre-computed explorer by widget views with no
saved state; saved into book/, the next `make book` rendered that chapter with no explorer and
no error. `make lab` therefore works on copies in _build/lab/, and the build extension
(_ext/dlt_book.py) stops the build on an explorer without its frames.
"""

import copy
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import dlt_book  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def _explorer_cells(nb: dict) -> list[int]:
    return [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and "explore(" in "".join(c["source"])
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_explorer_has_its_frames(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert _explorer_cells(nb), f"{path.stem} has no explorer"
    assert dlt_book.explorer_problems(nb) == []


def _chapter_11() -> dict:
    return json.loads((ROOT / "book" / "11_grokking.ipynb").read_text(encoding="utf-8"))


def test_an_explorer_saved_by_a_live_session_stops_the_build():
    nb = _chapter_11()
    cell = nb["cells"][_explorer_cells(nb)[0]]
    # what JupyterLab saves after Run All: the interact's widget view, no frames, no state
    cell["outputs"] = [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": "0123456789abcdef",
                    "version_major": 2,
                    "version_minor": 0,
                },
                "text/plain": "interactive(children=(SelectionSlider(...),))",
            },
        }
    ]
    problems = dlt_book.explorer_problems(nb)
    assert len(problems) == 1 and "no pre-computed explorer" in problems[0], problems
    assert "widget-view" in problems[0]

    class Env:
        def doc2path(self, docname):
            return ROOT / "book" / f"{docname}.ipynb"

    class App:
        env = Env()

    with pytest.raises(dlt_book.ExtensionError, match="11_grokking: cell .*`make execute CH=11`"):
        dlt_book._explorers_have_frames(App(), "11_grokking", [json.dumps(nb)])
    dlt_book._explorers_have_frames(App(), "11_grokking", [json.dumps(_chapter_11())])


def test_an_explorer_missing_frames_stops_the_build():
    nb = _chapter_11()
    i = _explorer_cells(nb)[0]
    for out in nb["cells"][i]["outputs"]:
        html = out.get("data", {}).get("text/html")
        if html:
            text = "".join(html) if isinstance(html, list) else html
            first = text.index('class="dlt-explorer-frame"')
            start = text.rindex("<img", 0, first)
            end = text.index(">", first) + 1
            out["data"]["text/html"] = text[:start] + text[end:]  # drop one frame
    problems = dlt_book.explorer_problems(nb)
    assert len(problems) == 1 and "frames, its sliders" in problems[0], problems
    assert dlt_book.explorer_problems(copy.deepcopy(_chapter_11())) == []


def _make_n(*args: str) -> list[list[str]]:
    out = subprocess.run(
        ["make", "-n", "-o", ".venv/.dlt-installed", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [shlex.split(ln) for ln in out.replace("\\\n", " ").splitlines() if ln.strip()]


def test_make_lab_opens_copies_not_the_committed_chapters(tmp_path):
    lab = [cmd for cmd in _make_n("lab") if "lab" in cmd and any("jupyter" in c for c in cmd)]
    assert len(lab) == 1, lab
    assert "--ServerApp.root_dir=_build/lab" in lab[0], lab[0]
    assert not [c for c in lab[0] if c.rstrip("/") == "book"], "JupyterLab must not open book/"
    work = tmp_path / "lab"
    (work).mkdir()
    (work / "mine.ipynb").write_text("{}")  # a reader's own notebook survives a refresh
    stale = work / "11_grokking.ipynb"
    stale.write_text("edited in a live session")
    (work / "03_ntk.md").write_text("a stale twin")  # would pair with the copy through Jupytext
    subprocess.run(
        ["make", "-s", "-o", ".venv/.dlt-installed", "lab-copy", f"LAB={work}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    for src in chapters:
        cp = json.loads((work / src.name).read_text(encoding="utf-8"))
        nb = json.loads(src.read_text(encoding="utf-8"))
        # the same cells and outputs; only markdown cells differ (written-out references)
        assert [c["cell_type"] for c in cp["cells"]] == [c["cell_type"] for c in nb["cells"]]
        for a, b in zip(cp["cells"], nb["cells"], strict=True):
            if a["cell_type"] == "code":
                assert a["source"] == b["source"] and a["outputs"] == b["outputs"], src.name
        assert not (work / src.with_suffix(".md").name).exists(), "a .md twin beside a copy"
    assert len(chapters) >= 15
    assert (work / "mine.ipynb").read_text() == "{}"
