"""Lessons: the student-copy transformation, and every lesson executed three ways.

1. The source, solutions included, executes and passes every check.
2. The student copy, executed cell by cell, fails at the check of task 1; and for every task k,
   the source with only task k's solutions removed fails exactly at task k's check (so each
   check catches its own unsolved task, not a later one).
3. The student copy holds no line of any solution or hidden-test region, and is up to date.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
from budget import BUDGET_S, kernel_clock, over_budget_message
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from dlt import cli, lessons

ROOT = Path(__file__).resolve().parents[1]
SOURCES = lessons.sources(ROOT)
IDS = [p.stem for p in SOURCES]
TASKS = [
    (src, k)
    for src in SOURCES
    for k in range(1, len(lessons.task_cells(lessons.read_source(src))) + 1)
]
TIMINGS = ROOT / "_build" / "timings"


def _execute(nb, stop_at: int | None = None) -> tuple[int | None, str]:
    """Execute code cells in order; return (index of the first failing cell, its error) or (None, "")."""
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(ROOT / "lessons" / "source")}},
    )
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if stop_at is not None and i > stop_at:
                break
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, i)
            except CellExecutionError as err:
                return i, str(err)
    return None, ""


def _check_cells(nb) -> list[int]:
    return [cells[-1] for cells in lessons.task_cells(nb)]


# ---------------------------------------------------------------- the transformation


def test_solution_region_becomes_stub_at_its_indentation():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    z = x + y\n    return z\n    ### END SOLUTION\n"
    assert lessons.strip_source(src) == "def f(x):\n    y = 1\n    raise NotImplementedError()"


def test_value_form_single_assignment_becomes_ellipsis():
    src = "a = 1\n### BEGIN SOLUTION\nresult = torch.eye(3) @ a\n### END SOLUTION\nprint(result)"
    assert lessons.strip_source(src) == "a = 1\nresult = ...  # YOUR CODE HERE\nprint(result)"


@pytest.mark.parametrize(
    "body", ["x = 1\ny = 2", "x == 1", "x += 1", "a, b = 1, 2", "x = y = 1", "f(x=1)"]
)
def test_anything_but_one_plain_assignment_becomes_raise(body):
    src = f"### BEGIN SOLUTION\n{body}\n### END SOLUTION"
    assert lessons.strip_source(src) == "raise NotImplementedError()"


def test_hidden_tests_are_removed_and_kept_on_request():
    src = "check(a)\n### BEGIN HIDDEN TESTS\ncheck(b)\n### END HIDDEN TESTS\ncheck(c)"
    assert lessons.strip_source(src) == "check(a)\ncheck(c)"
    assert lessons.strip_source(src, keep_hidden=True) == src


def test_two_regions_in_one_cell():
    src = (
        "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n"
        "### BEGIN SOLUTION\nfor i in r:\n    pass\n### END SOLUTION"
    )
    assert (
        lessons.strip_source(src) == "a = ...  # YOUR CODE HERE\nb = 2\nraise NotImplementedError()"
    )
    assert lessons.solution_lines(src) == ["a = 1", "for i in r:", "pass"]


@pytest.mark.parametrize(
    "src, match",
    [
        ("### BEGIN SOLUTION\nx = 1", "never ends"),
        ("x = 1\n### END SOLUTION", "without a matching BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n", "inside an open solution region"),
        ("### BEGIN HIDDEN TESTS\nx\n### END SOLUTION", "without a matching BEGIN"),
    ],
)
def test_unbalanced_markers_are_errors_that_say_where(src, match):
    with pytest.raises(lessons.LessonSyntaxError, match=match):
        lessons.strip_source(src, "lesson, cell 3")


def _toy():
    nb = nbformat.v4.new_notebook()
    nb.metadata["jupytext"] = {"formats": "md:myst"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Toy"),
        nbformat.v4.new_code_cell(
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell(
            "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() > 0\n### END HIDDEN TESTS",
            metadata={"tags": ["check"]},
        ),
        nbformat.v4.new_code_cell(
            "def g():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("assert g() == 2", metadata={"tags": ["check"]}),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="out")]
    nb.cells[1].execution_count = 4
    return nb


def test_student_notebook_clears_outputs_and_is_deterministic():
    nb = _toy()
    student = lessons.student_notebook(nb, "toy")
    assert "jupytext" not in student.metadata
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert code[0].source == "def f():\n    raise NotImplementedError()"
    assert code[1].source == "assert f() == 1" and code[1].metadata["tags"] == ["check"]
    assert nbformat.writes(student) == nbformat.writes(lessons.student_notebook(_toy(), "toy"))
    assert nb.cells[1].outputs, "the source notebook must not be modified"
    nbformat.validate(student)


def test_tasks_and_unsolve_task_touch_only_that_task():
    nb = _toy()
    assert lessons.task_cells(nb) == [[0, 1, 2], [3, 4]]
    second = lessons.unsolve_task(nb, 2)
    assert second.cells[1].source == nb.cells[1].source
    assert second.cells[3].source == "def g():\n    raise NotImplementedError()"
    first = lessons.unsolve_task(nb, 1)
    assert "HIDDEN TESTS" in first.cells[2].source, "hidden tests belong to the check and stay"
    with pytest.raises(ValueError, match="task must be in 1..2"):
        lessons.unsolve_task(nb, 3)


def test_nbgrader_metadata():
    nb = lessons.nbgrader_notebook(_toy(), "toy")
    meta = [c.metadata["nbgrader"] for c in nb.cells]
    assert meta[1]["solution"] and not meta[1]["locked"]
    assert meta[2]["grade"] and meta[2]["points"] == 1 and meta[2]["grade_id"] == "toy-check-1"
    assert meta[0]["locked"] and not meta[0]["grade"]
    assert len({m["grade_id"] for m in meta}) == len(meta)


def test_cli_build_and_check(tmp_path, monkeypatch, capsys):
    (tmp_path / "lessons" / "source").mkdir(parents=True)
    import jupytext

    jupytext.write(_toy(), tmp_path / "lessons" / "source" / "01_toy.md", fmt="md:myst")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["lessons", "build", "--check"]) == 1
    assert "stale: lessons/student/01_toy.ipynb" in capsys.readouterr().out
    assert cli.main(["lessons", "build"]) == 0
    assert cli.main(["lessons", "build", "--check"]) == 0
    (tmp_path / "lessons" / "student" / "99_orphan.ipynb").write_text("{}")
    assert cli.main(["lessons", "build", "--check"]) == 1
    assert cli.main(["lessons", "nbgrader", str(tmp_path / "course")]) == 0
    assert (tmp_path / "course" / "source" / "01_toy" / "01_toy.ipynb").exists()


# ---------------------------------------------------------------- the lessons themselves


BOOK_URL = (
    "https://dlt-book.github.io/dlt/book/"  # the rendered book (from _config.yml's repository url)
)


def test_lessons_are_named_by_their_chapters():
    assert SOURCES, "no lesson sources"
    for src in SOURCES:
        assert (ROOT / "book" / f"{src.stem}.md").exists(), (
            f"{src.name}: a lesson is named by its chapter's file (book/{src.stem}.md does not exist)"
        )


def test_student_copies_up_to_date():
    stale = lessons.build(ROOT, check=True)
    assert not stale, (
        f"stale student copies {[p.name for p in stale]}: run `make lessons` and commit lessons/student/"
    )


@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_lesson_structure(src):
    nb = lessons.read_source(src)
    checks = _check_cells(nb)
    assert 3 <= len(checks) <= 6, f"{src.name}: {len(checks)} tasks, a lesson has 3 to 6"
    for k, i in enumerate(checks, start=1):
        assert f'task_check("Task {k}")' in nb.cells[i].source, (
            f"{src.name}: check {k} must use task_check('Task {k}')"
        )
    for cells in lessons.task_cells(nb):
        assert any(lessons.BEGIN_SOLUTION in nb.cells[i].source for i in cells), (
            f"{src.name}: a task has no solution"
        )
    long = [
        ln
        for c in nb.cells
        if c.cell_type == "code"
        for ln in c.source.splitlines()
        if len(ln) > 88
    ]
    assert not long, f"{src.name}: code lines over 88 columns: {long[:3]}"
    recap = nb.cells[1].source + nb.cells[0].source
    assert f"{BOOK_URL}{src.stem}.html" in recap, (
        f"{src.name}: the recap must link to its chapter in the rendered book ({BOOK_URL}{src.stem}.html), "
        "an absolute link that works in a notebook handed out alone"
    )


# Lines that say nothing on their own (a closing bracket, the opening of a call or a bare
# number that a formatter put on a line of its own) appear in solutions and in student
# code alike.
_BARE = re.compile(r"^([)\]}],?)*$|^[\w.]+\($|^-?[\d.]+(e[+-]?\d+)?,?$")


@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_student_copy_holds_no_solution_line(src):
    nb = lessons.read_source(src)
    secret = {
        ln
        for cell in nb.cells
        for ln in lessons.solution_lines(cell.source, src.name)
        if not _BARE.match(ln)
    }
    student = nbformat.read(lessons.student_path(src), as_version=4)
    shown = {ln.strip() for cell in student.cells for ln in cell.source.splitlines()}
    assert not secret & shown, (
        f"{src.name}: solution lines leak into the student copy: {sorted(secret & shown)}"
    )
    text = lessons.student_path(src).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


@pytest.mark.notebook
@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_source_passes_every_check(src):
    nb = lessons.read_source(src)
    with kernel_clock() as clock:
        failed, err = _execute(nb)
    print(clock.line(src.stem))
    assert failed is None, f"{src.name}: cell {failed} fails with the solutions in:\n{err}"
    outputs = "".join(o.get("text", "") for i in _check_cells(nb) for o in nb.cells[i].outputs)
    assert outputs.count("✔") >= len(_check_cells(nb)), (
        f"{src.name}: every check cell must print its ✔ lines"
    )
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"lesson_{src.stem}.json").write_text(
        json.dumps(
            {"lesson": src.stem, "cpu_s": round(clock.cpu, 1), "wall_s": round(clock.wall, 1)}
        )
    )
    assert clock.cpu < BUDGET_S, over_budget_message(
        src.name, clock, None, matched="every check passed with the solutions in"
    )


@pytest.mark.notebook
@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_student_copy_fails_at_the_first_check(src):
    student = nbformat.read(lessons.student_path(src), as_version=4)
    first = _check_cells(student)[0]
    failed, err = _execute(student, stop_at=first)
    assert failed == first, (
        f"{src.name}: the student copy must run up to task 1's check and fail there, "
        f"failed at cell {failed}:\n{err}"
    )
    assert "TaskError" in err and "Task 1 is not solved yet" in err, err


@pytest.mark.notebook
@pytest.mark.parametrize("src, task", TASKS, ids=[f"{s.stem}-task{k}" for s, k in TASKS])
def test_each_check_fails_when_only_its_task_is_unsolved(src, task):
    variant = lessons.unsolve_task(lessons.read_source(src), task)
    target = _check_cells(variant)[task - 1]
    failed, err = _execute(variant, stop_at=target)
    assert failed == target, (
        f"{src.name}: with only task {task} unsolved, execution must fail at its check "
        f"(cell {target}), failed at {failed}:\n{err}"
    )
    assert f"Task {task} is not solved yet" in err, err
