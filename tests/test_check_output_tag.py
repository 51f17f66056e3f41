"""tools/check_output_tag.py: the `# NBVAL_CHECK_OUTPUT` comment becomes the nbval-check-output tag.

The lead re-runs it after merging branches that still carry the comment, so it must convert the
old form in a .md and its .ipynb the same way, keep other options, and change nothing twice.
"""

import json
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_output_tag as tool  # noqa: E402

OLD = """---
jupytext:
  formats: ipynb,md:myst
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
# NBVAL_CHECK_OUTPUT
print("slope = -0.50")
```

```{code-cell} ipython3
:tags: [remove-input]

# NBVAL_CHECK_OUTPUT
print("kept options")
```

```{code-cell} ipython3
---
mystnb:
  figure:
    name: fig:x
---
# NBVAL_CHECK_OUTPUT
print("a figure cell")
```

```{code-cell} ipython3
x = 1  # NBVAL_CHECK_OUTPUT is only a marker on a cell's first line
```
"""


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    book = tmp_path / "book"
    book.mkdir()
    md = book / "01_x.md"
    md.write_text(OLD)
    nb = jupytext.read(md)
    nbformat.write(nb, md.with_suffix(".ipynb"))
    return md, md.with_suffix(".ipynb")


def _cells(nb) -> list[tuple[str, list[str]]]:
    return [(c.source, c.metadata.get("tags", [])) for c in nb.cells if c.cell_type == "code"]


def test_comments_become_tags_in_both_files_of_a_pair(tmp_path):
    md, ipynb = _pair(tmp_path)
    assert tool.main(tmp_path) == 0
    got = _cells(jupytext.read(md))
    assert got == [
        ('print("slope = -0.50")', [tool.TAG]),
        ('print("kept options")', ["remove-input", tool.TAG]),
        ('print("a figure cell")', [tool.TAG]),
        ("x = 1  # NBVAL_CHECK_OUTPUT is only a marker on a cell's first line", []),
    ]
    assert jupytext.read(md).cells[3].metadata["mystnb"] == {"figure": {"name": "fig:x"}}
    assert _cells(nbformat.read(ipynb, as_version=4)) == got, "the pair went out of sync"


def test_the_script_is_idempotent(tmp_path, capsys):
    md, ipynb = _pair(tmp_path)
    tool.main(tmp_path)
    once = md.read_text(), ipynb.read_text()
    capsys.readouterr()
    tool.main(tmp_path)
    assert (md.read_text(), ipynb.read_text()) == once
    assert "0 files changed" in capsys.readouterr().out


def test_outputs_are_kept(tmp_path):
    md, ipynb = _pair(tmp_path)
    nb = json.loads(ipynb.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["x\n"]}]
    ipynb.write_text(json.dumps(nb, indent=1) + "\n")
    tool.main(tmp_path)
    assert json.loads(ipynb.read_text())["cells"][1]["outputs"][0]["text"] == ["x\n"]


def test_no_committed_chapter_or_lesson_keeps_the_comment():
    files = [*(ROOT / "book").glob("[0-9][0-9]_*.*"), *(ROOT / "lessons").rglob("*.md")]
    left = [
        p.name for p in files if p.suffix in (".md", ".ipynb") and tool.COMMENT in p.read_text()
    ]
    assert not left, f"run tools/check_output_tag.py: {left}"
