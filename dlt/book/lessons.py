r"""Lessons: assignments with solutions in nbgrader's markup, and their student copies.

A lesson's source is a MyST notebook ``lessons/source/NN_slug.md`` (a jupytext text
notebook: it diffs and reviews like the chapters' ``.md`` twins, and carries no outputs).
Solutions and hidden tests are marked as nbgrader marks them::

    def relu_expectation(k11, k22, k12):
        ### BEGIN SOLUTION
        theta = ...
        return ...
        ### END SOLUTION

    ### BEGIN HIDDEN TESTS
    check.close(...)
    ### END HIDDEN TESTS

``dlt lessons build`` writes the student copy ``lessons/student/NN_slug.ipynb``
(:func:`student_notebook`), by these rules:

- a solution region (the marker lines included) becomes ``raise NotImplementedError()``
  at the indentation of its ``### BEGIN SOLUTION`` line, as nbgrader's
  ``generate_assignment`` writes it;
- the value form: a region whose only line is a single assignment ``name = expression``
  becomes ``name = ...  # YOUR CODE HERE``, so the cell still runs and the check cell is the one
  that fails (nbgrader itself would write ``raise NotImplementedError()`` there);
- a hidden-tests region (markers included) is removed;
- every output and execution count is cleared, cell ids are made deterministic and the
  jupytext metadata is dropped, so the student copy is a plain notebook.

A cell tagged ``check`` closes a task: task ``k`` is made of the cells after check ``k-1`` up
to and including check ``k``. :func:`task_check` turns an unsolved or wrong answer into a
message that says what to do. ``dlt lessons nbgrader DIR`` writes an nbgrader course
source folder with the cell metadata nbgrader's autograder needs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN",
    "END_HIDDEN",
    "CHECK_TAG",
    "LessonSyntaxError",
    "TaskError",
    "strip_source",
    "solution_lines",
    "student_notebook",
    "nbgrader_notebook",
    "unsolve_task",
    "task_cells",
    "read_source",
    "sources",
    "student_path",
    "render",
    "build",
    "task_check",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CHECK_TAG = "check"
STUB = "raise NotImplementedError()"
VALUE_STUB = "...  # YOUR CODE HERE"
_ASSIGNMENT = re.compile(r"^(?P<indent>\s*)(?P<name>[A-Za-z_]\w*)\s*=(?!=)\s*\S")


from .tasks import TaskError, task_check  # noqa: E402  (re-exported: lessons import them from here)


class LessonSyntaxError(ValueError):
    """A lesson source whose markers do not pair up."""


def _regions(lines: list[str], where: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, begin, end)`` line indices of every solution/hidden region, markers included."""
    open_kind, start = None, 0
    for i, line in enumerate(lines):
        s = line.strip()
        if s in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            if open_kind is not None:
                raise LessonSyntaxError(
                    f"{where}, line {i + 1}: {s!r} inside an open {open_kind} region"
                )
            open_kind, start = ("solution" if s == BEGIN_SOLUTION else "hidden"), i
        elif s in (END_SOLUTION, END_HIDDEN):
            kind = "solution" if s == END_SOLUTION else "hidden"
            if open_kind != kind:
                raise LessonSyntaxError(f"{where}, line {i + 1}: {s!r} without a matching BEGIN")
            yield kind, start, i
            open_kind = None
    if open_kind is not None:
        raise LessonSyntaxError(f"{where}, line {start + 1}: {open_kind} region never ends")


def strip_source(source: str, where: str = "cell", *, keep_hidden: bool = False) -> str:
    r"""The student version of one code cell's source (see the module docstring for the rules).

    With ``keep_hidden=True`` hidden tests stay (markers included): only solutions go.

    Examples
    --------
    >>> strip_source("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    'def f(x):\n    raise NotImplementedError()'
    >>> strip_source("### BEGIN SOLUTION\ny = 2 * x\n### END SOLUTION")
    'y = ...  # YOUR CODE HERE'
    """
    lines = source.split("\n")
    out: list[str] = []
    pos = 0
    for kind, begin, end in _regions(lines, where):
        out.extend(lines[pos:begin])
        pos = end + 1
        if kind == "hidden":
            if keep_hidden:
                out.extend(lines[begin : end + 1])
            continue
        body = [ln for ln in lines[begin + 1 : end] if ln.strip()]
        indent = re.match(r"\s*", lines[begin]).group(0)  # type: ignore[union-attr]
        match = _ASSIGNMENT.match(body[0]) if len(body) == 1 else None
        if match and _single_statement(body[0]):
            out.append(f"{match['indent']}{match['name']} = {VALUE_STUB}")
        else:
            out.append(indent + STUB)
    out.extend(lines[pos:])
    return "\n".join(out).strip("\n")


def _single_statement(line: str) -> bool:
    import ast

    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return False
    return (
        len(tree.body) == 1
        and isinstance(tree.body[0], ast.Assign)
        and len(tree.body[0].targets) == 1
    )


def solution_lines(source: str, where: str = "cell") -> list[str]:
    """The non-blank lines inside the solution and hidden-test regions of a cell, stripped."""
    lines = source.split("\n")
    return [
        ln.strip() for _, b, e in _regions(lines, where) for ln in lines[b + 1 : e] if ln.strip()
    ]


def _is_check(cell: Any) -> bool:
    return cell.get("cell_type") == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def task_cells(nb: Any) -> list[list[int]]:
    """Cell indices of each task: the cells after the previous check cell up to this check cell."""
    tasks, current = [], []
    for i, cell in enumerate(nb.cells):
        current.append(i)
        if _is_check(cell):
            tasks.append(current)
            current = []
    return tasks


def unsolve_task(nb: Any, task: int) -> Any:
    """A copy of the source notebook with the solutions of task ``task`` (1-based) stripped, the others kept."""
    tasks = task_cells(nb)
    if not 1 <= task <= len(tasks):
        raise ValueError(f"task must be in 1..{len(tasks)}, got {task}")
    out = copy.deepcopy(nb)
    for i in tasks[task - 1]:
        cell = out.cells[i]
        if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source:
            cell.source = strip_source(cell.source, f"cell {i}", keep_hidden=True)
    return out


def read_source(path: str | Path) -> Any:
    """Read a lesson source (MyST ``.md`` or ``.ipynb``) as an nbformat notebook."""
    import jupytext

    return jupytext.read(str(path))


def student_notebook(nb: Any, name: str = "lesson") -> Any:
    """The student copy of a lesson source notebook (a new notebook; the input is not changed)."""
    import nbformat

    out = nbformat.v4.new_notebook()
    meta = {k: v for k, v in nb.metadata.items() if k not in ("jupytext", "papermill", "widgets")}
    out.metadata = meta
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i + 1}"
        tags = list(cell.get("metadata", {}).get("tags", []))
        md = {"tags": tags} if tags else {}
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(strip_source(cell.source, where), metadata=md)
        elif cell.cell_type == "markdown":
            if BEGIN_SOLUTION in cell.source or BEGIN_HIDDEN in cell.source:
                new = nbformat.v4.new_markdown_cell(
                    strip_source(cell.source, where).replace(STUB, "YOUR ANSWER HERE")
                )
            else:
                new = nbformat.v4.new_markdown_cell(cell.source, metadata=md)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=md)
        new.id = f"cell-{i + 1:02d}"
        out.cells.append(new)
    return out


def nbgrader_notebook(nb: Any, name: str = "lesson") -> Any:
    """The source notebook with nbgrader cell metadata, for ``nbgrader generate_assignment``.

    Cells holding a solution region are ``solution`` cells, check cells are autograded
    ``grade`` cells worth one point each, and every other cell is locked.
    """
    out = copy.deepcopy(nb)
    out.metadata.pop("jupytext", None)
    check_no = 0
    for i, cell in enumerate(out.cells):
        cell.id = f"cell-{i + 1:02d}"
        meta: dict[str, Any] = {
            "schema_version": 3,
            "grade": False,
            "solution": False,
            "locked": True,
            "grade_id": f"{name}-cell-{i + 1:02d}",
        }
        if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source:
            meta.update(solution=True, locked=False)
        if _is_check(cell):
            check_no += 1
            meta.update(grade=True, points=1, grade_id=f"{name}-check-{check_no}")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata["nbgrader"] = meta
    return out


def _dumps(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def _root() -> Path:
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "lessons" / "source").is_dir():
            return p
    raise SystemExit(
        "dlt: run this inside the dlt repository (no lessons/source found above the current folder)"
    )


def sources(root: str | Path | None = None) -> list[Path]:
    """The lesson sources ``lessons/source/NN_slug.md`` (or ``.ipynb``), in order."""
    base = Path(root) if root is not None else _root()
    found = [
        *(base / "lessons" / "source").glob("[0-9][0-9]_*.md"),
        *(base / "lessons" / "source").glob("[0-9][0-9]_*.ipynb"),
    ]
    return sorted(found)


def student_path(source: Path) -> Path:
    """Where the student copy of a source goes: ``lessons/student/NN_slug.ipynb``."""
    return source.parent.parent / "student" / f"{source.stem}.ipynb"


def render(source: str | Path) -> str:
    """The text of the student copy of one lesson source."""
    source = Path(source)
    return _dumps(student_notebook(read_source(source), source.stem))


def build(root: str | Path | None = None, *, check: bool = False) -> list[Path]:
    """Write (or with ``check=True`` only compare) every student copy; return the stale or written ones.

    With ``check=True`` a student copy is stale when it differs from what the build would
    write, or has no source any more.
    """
    base = Path(root) if root is not None else _root()
    changed = []
    expected = set()
    for src in sources(base):
        dst = student_path(src)
        expected.add(dst)
        text = render(src)
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            changed.append(dst)
            if not check:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_text(text, encoding="utf-8")
    student_dir = base / "lessons" / "student"
    if check and student_dir.is_dir():
        changed += sorted(p for p in student_dir.glob("*.ipynb") if p not in expected)
    return changed


NBGRADER_CONFIG = """# nbgrader configuration of a dlt course, written by `dlt lessons nbgrader`.
import os

c = get_config()  # noqa: F821 (nbgrader provides get_config)
c.CourseDirectory.course_id = "dlt"
# The folder of this file, absolute (nbgrader warns about a relative root at every command);
# computed when nbgrader reads the file, so the course folder can move.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# The lessons need the kernel of an environment where `import dlt` works (pip install dlt-book).
c.Execute.kernel_name = "python3"
c.Execute.timeout = 300
# Each check cell is worth one point; hidden tests sit inside check cells. nbgrader logs
# "checksum has changed" for every check cell that holds hidden tests: generate_assignment
# removes them, so the released cell differs from the source one. That warning is expected.
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError()"}
"""


def write_nbgrader(out_dir: str | Path, root: str | Path | None = None) -> list[Path]:
    """Write an nbgrader course: ``nbgrader_config.py`` and ``source/NN_slug/NN_slug.ipynb`` per lesson.

    The course folder works outside the repository: the config names the course, the
    kernel and the stub, so ``nbgrader generate_assignment NN_slug`` and ``nbgrader
    autograde NN_slug`` run in it as they are.
    """
    base = Path(root) if root is not None else _root()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    config = Path(out_dir) / "nbgrader_config.py"
    config.write_text(NBGRADER_CONFIG, encoding="utf-8")
    written = [config]
    for src in sources(base):
        dst = Path(out_dir) / "source" / src.stem / f"{src.stem}.ipynb"
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(_dumps(nbgrader_notebook(read_source(src), src.stem)), encoding="utf-8")
        written.append(dst)
    return written
