"""The library's layout: which kind of code may import which, and no file over about 400 lines.

The table is the one in CONTRIBUTING.md ("Where does my code go?"); this test is what keeps
it true. A kind is a folder of ``dlt/``; the topic faces (``dlt/kernels.py``, ``dlt/ntk.py``,
...) are the top-level modules.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "dlt"

#: kind -> the kinds it may import (itself always allowed)
ALLOWED = {
    "core": set(),
    "data": {"core"},
    "solve": {"core"},
    "theory": {"core", "data", "solve"},
    "nets": {"core", "data", "theory"},
    "train": {"core"},
    "measure": {"core", "nets"},
    "book": {"core", "data", "solve", "theory", "nets", "train", "measure"},
}
FACES = {
    "curvature",
    "implicit_bias",
    "kernels",
    "ntk",
    "interpolation",
    "icl",
    "scaling",
    "feature_learning",
    "generalization_measures",
    "check",
    "viz",
    "lessons",
    "cli",
    "__init__",
}
MAX_LINES = 400


def _kind(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else "face"


def _imported_kinds(path: Path) -> set[str]:
    """The dlt kinds (or faces) a module imports, resolving relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg_parts = list(path.relative_to(ROOT).with_suffix("").parts[:-1])  # e.g. ['dlt', 'nets']
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                mod = [*base, *(node.module.split(".") if node.module else [])]
                if not node.module:  # from . import x
                    names = [[*mod, a.name] for a in node.names]
                else:
                    names = [mod]
            elif node.module and node.module.split(".")[0] == "dlt":
                names = [node.module.split(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names if a.name.split(".")[0] == "dlt"]
        for parts in names:
            if parts[0] == "dlt" and len(parts) > 1:
                found.add(parts[1])
    return found


LIBRARY = sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", LIBRARY, ids=[str(p.relative_to(PKG)) for p in LIBRARY])
def test_kinds_import_only_what_the_table_allows(path):
    kind = _kind(path)
    if kind == "face":
        return  # faces re-export from any kind
    bad = {k for k in _imported_kinds(path) if k != kind and k not in ALLOWED[kind]}
    if bad & FACES:
        pytest.fail(
            f"{path.relative_to(ROOT)} imports the face(s) {sorted(bad & FACES)}: import the kind instead"
        )
    assert not bad, (
        f"{path.relative_to(ROOT)} (kind {kind!r}) imports {sorted(bad)}; "
        f"{kind!r} may import only {sorted(ALLOWED[kind]) or 'nothing else in dlt'} (CONTRIBUTING.md)"
    )


@pytest.mark.parametrize("path", LIBRARY, ids=[str(p.relative_to(PKG)) for p in LIBRARY])
def test_no_library_file_over_400_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines: split it by kind of code"


def test_every_kind_folder_is_in_the_table():
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(ALLOWED), (
        f"kinds on disk {sorted(folders)} vs the table {sorted(ALLOWED)}"
    )


def test_the_table_in_contributing_matches_this_test():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for kind, allowed in ALLOWED.items():
        row = next((ln for ln in text.splitlines() if ln.startswith(f"| `{kind}`")), None)
        assert row is not None, f"CONTRIBUTING.md has no row for kind {kind!r}"
        cells = [c.strip() for c in row.split("|")]
        may = {c.strip("` ") for c in cells[3].split(",") if c.strip() and c.strip() != "nothing"}
        assert may == allowed, (
            f"CONTRIBUTING.md says {kind!r} may import {sorted(may)}, the test {sorted(allowed)}"
        )
