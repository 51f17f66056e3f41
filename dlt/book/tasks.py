"""The check cells of a lesson: :func:`task_check`, the :class:`TaskError` it raises, and
:func:`without`, with which a hidden test runs the student's code with the library function
the task asks them to write switched off."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["TaskError", "LibraryCallError", "task_check", "without"]


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


class LibraryCallError(AssertionError):
    """Raised when code run under :func:`without` calls one of the library functions it disables."""


def _name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", "") or ""
    face = module.split(".")[0] if module.startswith("dlt") else module
    return f"{face}.{getattr(function, '__qualname__', repr(function))}".lstrip(".")


def _namespaces() -> list[dict[str, Any]]:
    spaces = [
        vars(m) for m in list(sys.modules.values()) if m is not None and hasattr(m, "__dict__")
    ]
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency of the book
        shell = None
    if shell is not None:
        spaces.append(shell.user_ns)
    return spaces


@contextmanager
def without(*functions: Callable[..., Any]) -> Iterator[None]:
    """Run a block with each of ``functions`` replaced by one that raises :class:`LibraryCallError`.

    A lesson's hidden test runs the student's function inside ``with without(gk.fourier_power):``
    so that an answer that only calls the library function the task asks for fails, while an
    answer written from the task's allowed calls passes. The function is replaced wherever it
    is bound (every loaded module, ``dlt``'s faces and kinds included, and the notebook's
    namespace), and restored on leaving the block, even after an error.

    Examples
    --------
    >>> import math
    >>> try:
    ...     with without(math.sqrt):
    ...         math.sqrt(4.0)
    ... except LibraryCallError as err:
    ...     print(str(err)[:40])
    your code calls math.sqrt, which this ta
    >>> math.sqrt(4.0)
    2.0
    """
    if not functions or not all(callable(f) for f in functions):
        raise TypeError(f"without needs one or more functions, got {functions!r}")
    replaced: list[tuple[dict[str, Any], str, Any]] = []

    def stub_for(function: Callable[..., Any]) -> Callable[..., Any]:
        def disabled(*args: Any, **kwargs: Any) -> Any:
            raise LibraryCallError(
                f"your code calls {_name(function)}, which this task asks you to compute "
                "yourself (see the task's allowed calls)"
            )

        return disabled

    stubs = {id(f): (f, stub_for(f)) for f in functions}
    try:
        for space in _namespaces():
            for key, value in list(space.items()):
                hit = stubs.get(id(value))
                if hit is not None and hit[0] is value:
                    replaced.append((space, key, value))
                    space[key] = hit[1]
        yield
    finally:
        for space, key, value in reversed(replaced):
            space[key] = value


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
    except LibraryCallError as err:
        raise TaskError(f"{task} is not done by hand: {err}.") from None
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
