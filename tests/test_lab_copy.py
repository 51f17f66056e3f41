"""tools/lab_copy.py: the chapters' JupyterLab copies read without Sphinx.

jupyterlab-myst shows ``{cite}`key``` and references to other cells' labels as raw keys; the
copies ``make lab`` opens have them written out. These tests pin what each role becomes, at
the inputs where a naive rewrite would go wrong (a figure above or below the reference or in
another chapter, explicit text, ``%s`` templates, an unknown key), and that no role is left in
any chapter's copy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import lab_copy  # noqa: E402  (tools/lab_copy.py)

ROLE = re.compile(r"\{[a-z]+(?::[a-z]+)?\}`")


@pytest.fixture(scope="module")
def bib():
    return lab_copy.bibliography()


def test_bibliography_cites_one_two_and_many_authors_by_surname(bib):
    assert bib["neal1996bayesian"] == ("Neal", "1996")
    assert bib["cho2009kernel"] == ("Cho and Saul", "2009")
    who, year = bib["jacot2018neural"]
    assert (who, year) == ("Jacot et al.", "2018")


def _labels():
    T = lab_copy.Target
    return {
        "fig:a": T("figure", "The first figure", 3, 2),
        "fig:b": T("figure", "Another", 5, 7),
        "eq:x": T("equation", "2", 3, 1),
        "eq:y": T("equation", "4", 2, 9),
        "ch:ntk": T("chapter", "The neural tangent kernel", 3, 0),
        "ex:ntk-2": T("exercise", "exercise 2", 3, 30),
        "thm:t": T("prf", "the theorem “NTK”", 3, 4),
        "explorer:ntk": T("explorer", "the explorer", 3, 20),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{cite}`neal1996bayesian`", "(Neal 1996)"),
        ("{cite:p}`neal1996bayesian,cho2009kernel`", "(Neal 1996; Cho and Saul 2009)"),
        ("{cite:t}`cho2009kernel`", "Cho and Saul (2009)"),
        ("{numref}`fig:a`", "the figure above (“The first figure”)"),
        ("{numref}`Figure %s <fig:a>`", "the figure above (“The first figure”)"),
        ("{numref}`fig:b`", "the figure of chapter 5 (“Another”)"),
        ("{ref}`the sweep <fig:a>`", "the sweep"),
        ("{eq}`eq:x`", "(2)"),
        ("{eq}`eq:y`", "(4) of chapter 2"),
        ("{ref}`ch:ntk`", "chapter 3 (The neural tangent kernel)"),
        ("{ref}`ex:ntk-2`", "exercise 2"),
        ("{prf:ref}`thm:t`", "the theorem “NTK”"),
        ("{ref}`explorer <explorer:ntk>`", "explorer"),
        ("{ref}`explorer:ntk`", "the explorer below"),
        ("{func}`~dlt.kernels.relu_ntk`", "`dlt.kernels.relu_ntk`"),
    ],
)
def test_each_role_is_written_out_for_a_reader_at_cell_10_of_chapter_3(text, expected, bib):
    assert lab_copy.resolve(text, 3, 10, _labels(), bib) == expected


def test_a_labelled_equation_gets_its_number_as_a_tag(bib):
    out = lab_copy.resolve("$$\na = b\n$$ (eq:x)\n", 3, 1, _labels(), bib)
    assert out == "$$\na = b\n\\tag{2}\n$$\n"


@pytest.mark.parametrize(
    ("text", "name"), [("{cite}`nobody2099`", "nobody2099"), ("{ref}`fig:nowhere`", "fig:nowhere")]
)
def test_an_unknown_key_or_label_is_an_error_that_names_it(text, name, bib):
    with pytest.raises(KeyError, match=name):
        lab_copy.resolve(text, 3, 10, _labels(), bib)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    dest = tmp_path_factory.mktemp("lab")
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in lab_copy.main(dest)}


def test_no_role_is_left_in_any_chapter_copy_and_equations_are_numbered_in_order(copies):
    assert len(copies) >= 15
    for name, nb in copies.items():
        md = [c["source"] for c in nb["cells"] if c["cell_type"] == "markdown"]
        text = "\n".join(md)
        assert not ROLE.findall(text), (name, ROLE.findall(text)[:3])
        tags = [int(t) for t in re.findall(r"\\tag\{(\d+)\}", text)]
        assert tags == list(range(1, len(tags) + 1)), (name, tags)
        src = (ROOT / "book" / name).read_text(encoding="utf-8")
        assert len(tags) == len(re.findall(r"\$\$[ \t]*\((?:eq|eqn):[^)]+\)", src)), name
        assert "jupytext" not in nb["metadata"], name
