"""Face: The ``dlt`` command: list and run chapters with papermill, build lessons.

Defined in ``dlt.book.cli``, kind ``book``; this module only re-exports it.
"""

from .book.cli import (
    chapters,
    describe_failure,
    failed_output,
    main,
    run_chapter,
)

__all__ = [
    "main",
    "chapters",
    "run_chapter",
    "describe_failure",
    "failed_output",
]
