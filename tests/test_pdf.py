"""The PDF book (`make pdf` builds _build/latex/book.pdf, then runs this file).

Read with poppler's `pdfinfo` and `pdftotext` (Debian's poppler-utils): a plausible page count,
every chapter's title and the bibliography present, explorers printed as the frame they open on with
the line that says where they are live, and nothing left unrendered: no raw TeX (`\\begin`, `$$`,
`\\frac`), no `??` of an unresolved reference or citation, no Python object repr in place of a
figure.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "latex" / "book.pdf"

pytestmark = [
    pytest.mark.pdf,
    pytest.mark.skipif(not PDF.exists(), reason="no _build/latex/book.pdf: run `make pdf`"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed"),
]


def _toc_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _title(docname: str) -> str:
    """A page's title: the first `# ` heading of its notebook or Markdown file."""
    nb = ROOT / f"{docname}.ipynb"
    if nb.exists():
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        lines = [
            ln
            for c in cells
            if c["cell_type"] == "markdown"
            for ln in "".join(c["source"]).splitlines()
        ]
    else:
        lines = (ROOT / f"{docname}.md").read_text(encoding="utf-8").splitlines()
    title = next(ln[2:] for ln in lines if ln.startswith("# "))
    return re.sub(r"[`*]", "", title).strip()


def _norm(text: str) -> str:
    text = text.replace("\u00ad", "").replace("ﬁ", "fi").replace("ﬂ", "fl").replace("ﬀ", "ff")
    text = re.sub(r"-\n(?=[a-z])", "", text)  # words hyphenated at a line end
    return re.sub(r"\s+", " ", text).lower()


@pytest.fixture(scope="module")
def text() -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(PDF), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pages() -> int:
    info = subprocess.run(["pdfinfo", str(PDF)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def test_page_count_is_plausible():
    chapters = [c for c in _toc_chapters() if re.match(r"book/\d\d_", c)]
    pages = _pages()
    assert 8 * len(chapters) <= pages <= 60 * len(_toc_chapters()), (
        f"{pages} pages for {len(chapters)} chapters"
    )


def test_every_chapter_title_and_the_bibliography_are_there(text):
    body = _norm(text)
    missing = [f"{c}: {_title(c)}" for c in _toc_chapters() if _norm(_title(c)) not in body]
    assert not missing, f"titles not found in the PDF: {missing}"
    # The LaTeX build gathers every cited work at the end of the book, numbered [1], [2], ...
    start = re.search(r"bibliography \[1\] ", body)
    assert start, "no bibliography with numbered entries in the PDF"
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", body[start.start() :])]
    assert max(numbers) >= 10, f"the bibliography has {max(numbers)} entries"


def test_nothing_left_unrendered(text):
    for raw in ("\\begin", "$$", "\\frac", "\\mathbb", "\\cite", "{cite}", "{numref}", "{eq}"):
        assert raw not in text, f"raw TeX or MyST left in the PDF: {raw!r}"
    assert "??" not in text, "an unresolved reference (??) is left in the PDF"
    assert "[?]" not in text, "an unresolved citation ([?]) is left in the PDF"
    assert "<IPython.core.display" not in text and "<Figure size" not in text


def test_explorers_print_their_start_frame_and_where_they_are_live(text):
    explorers = 0
    for nb in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        outputs = [o for c in json.loads(nb.read_text())["cells"] for o in c.get("outputs", [])]
        explorers += sum(
            'class=\\"dlt-explorer\\"' in json.dumps(o.get("data", {})) for o in outputs
        )
    lines = _norm(text).count("interactive figure, printed at ")
    assert lines == explorers > 0, f"{lines} explorer lines for {explorers} explorers"
    assert "github.io/" in text


def test_chapters_are_numbered_as_on_the_web(text):
    """Chapter k of the numbered parts is "Chapter k" in the PDF's running heads, as in the HTML.

    The HTML numbers only the chapters of parts marked ``numbered: true``; a LaTeX build that
    numbered the notation page too would shift every chapter by one (and disagree with the
    exercise and theorem numbers, which come from the HTML numbering).
    """
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    numbered = [c["file"] for p in toc["parts"] if p.get("numbered") for c in p["chapters"]]
    others = [c["file"] for p in toc["parts"] if not p.get("numbered") for c in p["chapters"]]
    body = _norm(text)
    wrong = [
        f"{k} {doc}"
        for k, doc in enumerate(numbered, 1)
        if f"chapter {k}. {' '.join(_norm(_title(doc)).split()[:3])}" not in body
    ]
    assert not wrong, f"chapters without their number in the PDF's running heads: {wrong}"
    unnumbered = [
        doc for doc in others if re.search(rf"chapter \d+\. {re.escape(_norm(_title(doc)))}", body)
    ]
    assert not unnumbered, f"front or back matter numbered as chapters: {unnumbered}"


def test_solutions_are_printed_at_the_end_of_their_chapter(text):
    """Paper cannot close a dropdown: each solution sits in its chapter's last section,
    "Solutions", and its exercise says so, instead of the solution printed under it."""
    body = _norm(text)
    pointers = body.count("the solution is at the end of the chapter.")
    solutions = re.findall(r"solution to exercise (\d+)\.\d+(?:\.\d+)?", body)
    assert solutions and pointers == len(solutions), (
        f"{pointers} exercises point to the end of the chapter, {len(solutions)} solutions"
    )
    for chapter in sorted(set(solutions), key=int):
        heading = re.search(rf"\b{chapter}\.\d+\.? solutions ", body)
        first = body.find(f"solution to exercise {chapter}.")
        assert heading and heading.start() < first, (
            f"chapter {chapter}: a solution is printed before its chapter's Solutions section"
        )
