"""The check cells of a lesson: :func:`task_check` and the :class:`TaskError` it raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["TaskError", "task_check"]


class TaskError(AssertionError):
    """Raised by a lesson's check cell: the task is unsolved or its answer is wrong.

    In Jupyter it shows as its message alone, in red, without the traceback through
    ``contextlib`` and :mod:`dlt.lessons` that says nothing to a student (IPython calls
    ``_render_traceback_`` when an exception defines it). The cell still fails, so
    nbgrader's autograder still sees the failure.

    Examples
    --------
    >>> print(TaskError("Task 1 is not solved yet")._render_traceback_()[-1][7:-4])
    Task 1 is not solved yet
    """

    def _render_traceback_(self) -> list[str]:
        return ["\x1b[1;31mTaskError\x1b[0m", f"\x1b[0;31m{self}\x1b[0m"]


@contextmanager
def task_check(task: str) -> Iterator[None]:
    """Run a lesson's checks; turn "not solved yet" and wrong answers into a message that says what to do.

    When every check passes, the ✔ line of each claim checked inside the block is printed,
    then one line saying the task is done.

    Examples
    --------
    >>> from dlt import check
    >>> with task_check("Task 0"):
    ...     _ = check.less("the answer is small", 0.1, 1.0)
    ✔ the answer is small
      measured 0.100, expected < 1.000
    Task 0 done.
    """
    from .check import ClaimError, history

    start = len(history())
    try:
        yield
    except NotImplementedError:
        raise TaskError(
            f"{task} is not solved yet: a function you are asked to write still raises NotImplementedError. "
            "Replace the `raise NotImplementedError()` line with your code, run that cell, then this one."
        ) from None
    except ClaimError as err:
        raise TaskError(f"{task}: your answer is wrong. {err}") from None
    except TypeError as err:
        if "ellipsis" in str(err):
            raise TaskError(
                f"{task} is not solved yet: a value you are asked to compute is still `...` ({err})."
            ) from None
        raise TaskError(f"{task}: calling your code failed with TypeError: {err}") from err
    except (RuntimeError, ValueError, IndexError) as err:
        raise TaskError(
            f"{task}: your code raised {type(err).__name__}: {err}. Check the shapes "
            "and dtypes the task asks for."
        ) from err
    for claim in history()[start:]:
        print(claim.line)
    print(f"{task} done.")
