"""Face: Lessons: student copies and nbgrader notebooks from sources with solutions, task checks.

Defined in ``dlt.book.lessons`` and ``dlt.book.tasks`` (the check cells), kind ``book``;
this module only re-exports them.
"""

from .book.lessons import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    CHECK_TAG,
    END_HIDDEN,
    END_SOLUTION,
    LessonSyntaxError,
    TaskError,
    build,
    nbgrader_notebook,
    read_source,
    render,
    solution_lines,
    sources,
    strip_source,
    student_notebook,
    student_path,
    task_cells,
    task_check,
    unsolve_task,
)
from .book.tasks import LibraryCallError, without

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
    "without",
    "LibraryCallError",
]
