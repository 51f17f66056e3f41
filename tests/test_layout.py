"""The library's layout: which kind of code may import which, and no file over about 400 lines.

The table is the one in CONTRIBUTING.md ("Where does my code go?"); this test is what keeps
it true. A kind is a folder of ``dlt/``; the topic faces (``dlt/kernels.py``, ``dlt/ntk.py``,
...) are the top-level modules.
"""

import ast
from pathlib import Path

import pytest

from dlt.book import registry

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "dlt"

#: kind -> the kinds it may import (itself always allowed)
ALLOWED = {
    "core": set(),
    "data": {"core"},
    "solve": {"core"},
    "theory": {"core", "data", "solve"},
    "nets": {"core", "data", "theory"},
    "attack": {"core"},
    "prune": {"core", "nets"},
    "sample": {"core", "theory"},
    "train": {"core", "theory", "attack"},
    "measure": {"core", "nets", "theory", "attack"},
    "procedures": {
        "core",
        "data",
        "solve",
        "theory",
        "nets",
        "attack",
        "prune",
        "sample",
        "train",
        "measure",
    },
    "book": {"core", "data", "solve", "theory", "nets", "train", "measure"},
}
#: the topic faces come from the registry of the book; the shared pieces have faces of their own
FACES = {f.name for f in registry.FACES} | {"check", "viz", "lessons", "cli", "__init__"}
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
            elif node.module == "dlt":  # from dlt import x
                names = [["dlt", a.name] for a in node.names]
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


FACE_FILES = sorted(p for p in PKG.glob("*.py") if p.name != "__main__.py")  # the entry point


def _only_reexports(path: Path) -> list[str]:
    """Statements of a face that are not a docstring, an import or ``__all__`` (``__init__`` may
    also load its lazy faces and read the version)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "__all__"
        ]:
            continue
        if path.name == "__init__.py" and (
            isinstance(node, ast.Try)  # __version__ from the installed metadata
            or (isinstance(node, ast.FunctionDef) and node.name == "__getattr__")
        ):
            continue
        bad.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0][:60]}")
    return bad


@pytest.mark.parametrize("path", FACE_FILES, ids=[p.name for p in FACE_FILES])
def test_faces_only_reexport(path):
    """A face is a list of imports from the kinds and its ``__all__``: no code, no
    ``sys.modules`` tricks (readers, go-to-definition and type checkers must see the names)."""
    bad = _only_reexports(path)
    assert not bad, f"dlt/{path.name} must only re-export from the kinds; found " + "; ".join(bad)


@pytest.mark.parametrize("path", FACE_FILES, ids=[p.name for p in FACE_FILES])
def test_every_name_a_face_exports_is_defined_in_a_kind(path):
    import importlib

    name = "dlt" if path.stem == "__init__" else f"dlt.{path.stem}"
    mod = importlib.import_module(name)
    for attr in getattr(mod, "__all__", []):
        if attr == "__version__":
            continue
        obj = getattr(mod, attr)
        origin = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
        if not isinstance(origin, str) or not origin.startswith("dlt."):
            continue  # constants such as dicts carry no module
        assert origin.split(".")[1] in ALLOWED or origin.count(".") == 1, (
            f"{name}.{attr} comes from {origin}, which is not a kind folder"
        )


def test_layout_sees_from_dlt_import_inside_a_kind(tmp_path):
    """``from dlt import kernels`` inside a kind is an import of a face, and the test sees it."""
    pkg = tmp_path / "dlt" / "data"
    pkg.mkdir(parents=True)
    mod = pkg / "x.py"
    mod.write_text("from dlt import kernels\nfrom .. import nets\nimport dlt.theory.kl\n")
    global ROOT
    old = ROOT
    try:
        ROOT = tmp_path
        assert _imported_kinds(mod) == {"kernels", "nets", "theory"}
    finally:
        ROOT = old
