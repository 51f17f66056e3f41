"""The CPU-time budget of a notebook: how the notebook tests measure and report it.

A chapter's budget is 60 s of CPU time used by its kernel, children included, at ``SCALE = 1``
(the time it needs on a 2-core CPU when it runs alone). Wall time is printed beside it but
not asserted: another job on the machine stretches wall time (two busy loops beside a chapter
double it) and barely moves CPU time.

How the kernel's CPU time is measured: the kernel that papermill or nbclient starts is a child
process of the test process, and jupyter_client waits for it when it shuts the kernel down.
The kernel's user and system time, with those of its own children that it waited for (a
``subprocess`` call, a DataLoader worker), is then added by the operating system to this
process's ``RUSAGE_CHILDREN`` counters. The difference of those counters across one execution
is therefore the kernel's whole CPU time, from its start (imports included) to its exit,
counted by the kernel of the operating system, not sampled. Only one notebook runs at a time
in a test process (pytest-xdist workers are separate processes), so no other child is reaped
in between. The test process's own CPU time (papermill's client, the comparison of outputs) is
not counted. A delta of zero means the kernel was not waited for; :func:`kernel_clock` then
raises rather than pass a budget it did not measure.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# 60 s of CPU for a chapter alone on a 2-core CPU at SCALE = 1 (README, CONTRIBUTING). A slower
# machine may raise it for one run: DLT_BUDGET_S=90 make notebooks.
BUDGET_S = float(os.environ.get("DLT_BUDGET_S", "60"))
RAISE_HINT = (
    "make the notebook cheaper at SCALE = 1 (fewer steps, smaller widths, vectorise), or, on a "
    "machine slower than a 2-core CPU of CI, raise the budget for this run with "
    "DLT_BUDGET_S=<seconds> (the project's budget, BUDGET_S in tests/budget.py, is 60 s and "
    "changes only with README and CONTRIBUTING)"
)


@dataclass
class Clock:
    """CPU seconds of the kernels reaped during the block (children included), and wall seconds."""

    cpu: float = 0.0
    wall: float = 0.0

    def line(self, name: str, budget: float = BUDGET_S) -> str:
        return f"{name}: {self.cpu:.1f} s of CPU (budget {budget:.0f} s), {self.wall:.1f} s of wall time"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def kernel_clock() -> Iterator[Clock]:
    """Measure the CPU time of the kernel started and shut down inside the block.

    Raises
    ------
    RuntimeError
        If no child process was reaped in the block (the kernel's time could not be measured).
    """
    clock = Clock()
    cpu0, wall0 = _children_cpu(), time.perf_counter()
    yield clock
    clock.cpu = _children_cpu() - cpu0
    clock.wall = time.perf_counter() - wall0
    if clock.cpu <= 0.0:
        raise RuntimeError(
            "no kernel CPU time was recorded: the kernel was not waited for by this process, "
            "so its budget cannot be checked"
        )


def over_budget_message(
    name: str,
    clock: Clock,
    mismatch: str | None,
    budget: float = BUDGET_S,
    matched: str = "its checked outputs matched the committed notebook",
) -> str:
    """The failure message of a notebook over its CPU budget: which was over, and the outputs.

    ``mismatch`` is None when the outputs matched (then ``matched`` says so), else what differs.
    """
    outputs = (
        matched
        if mismatch is None
        else f"its checked outputs also differ from the committed notebook:\n{mismatch}"
    )
    return (
        f"{name} used {clock.cpu:.1f} s of CPU, over its {budget:.0f} s CPU budget "
        f"(wall time {clock.wall:.1f} s, printed, not asserted); {outputs}.\nTo fix: {RAISE_HINT}."
    )
