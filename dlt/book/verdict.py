"""Claims and verdicts: what a check records and how a passed check displays.

:mod:`dlt.book.check` compares a measured number with the text's claim; this module holds
what it records (:class:`Claim`), what it returns (:class:`Verdict`, a float that displays as
the check line) and how several are shown together (:func:`show`, :class:`Report`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ClaimError", "Claim", "Verdict", "Report", "KINDS", "show", "history"]

#: How a passed claim is marked, by the kind of statement the text makes: a confirmed result
#: gets the check mark; a negative result (the text says something does *not* hold here) and
#: an open question get marks of their own, so a skimming reader does not take them for
#: confirmations.
KINDS = {
    "result": "✔",
    "negative": "⊘ negative result, as the text states:",
    "open": "◇ open question, measured here:",
}


class ClaimError(AssertionError):
    """Raised when a measured result contradicts the claim the text makes.

    Examples
    --------
    >>> from dlt.book.check import less
    >>> try:
    ...     less("the loss falls", 2.0, 1.0)
    ... except ClaimError as err:
    ...     print(err)
    claim: the loss falls; measured 2.000, expected < 1.000
    """


@dataclass(frozen=True)
class Claim:
    """One checked claim: the statement, what was measured, what was expected.

    Examples
    --------
    >>> print(Claim("a", "1.0", "1.0", True).line)
    ✔ a
      measured 1.0, expected 1.0
    """

    statement: str
    measured: str
    expected: str
    passed: bool
    kind: str = "result"
    id: str | None = None
    rejects: str | None = None

    @property
    def line(self) -> str:
        """The two-line display of a passed claim (statement, then the evidence)."""
        return f"{KINDS[self.kind]} {self.statement}\n  measured {self.measured}, expected {self.expected}"


class Verdict(float):
    """The measured value of a passed claim; it displays as the claim's line.

    It is a ``float`` in every computation (``f"{v:.2f}"``, ``v + 1``, ``str(v)``), and only
    its ``repr`` (what a notebook shows for a cell's last expression) is the check line.

    Examples
    --------
    >>> from dlt.book.check import greater
    >>> v = greater("accuracy above chance", 0.91, 0.5)
    >>> f"{v:.2f}", v > 0.9
    ('0.91', True)
    """

    claim: Claim

    def __new__(cls, value: float, claim: Claim) -> Verdict:
        obj = super().__new__(cls, value)
        obj.claim = claim
        return obj

    def __repr__(self) -> str:
        return self.claim.line

    def __str__(self) -> str:
        return float.__repr__(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.claim.line)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Verdict, (float(self), self.claim))


class Report(list[Verdict]):
    """Several verdicts shown together, one claim per line pair (see :func:`show`).

    Examples
    --------
    >>> from dlt.book.check import less
    >>> show(less("a", 1, 2))
    ✔ a
      measured 1.000, expected < 2.000
    """

    def __repr__(self) -> str:
        return "\n".join(v.claim.line for v in self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


_HISTORY: list[Claim] = []


def history() -> list[Claim]:
    """The claims checked so far in this process (for summary tables).

    Examples
    --------
    >>> from dlt.book.check import close
    >>> _ = close("two", 2.0, 2.0, atol=0.1)
    >>> history()[-1].statement
    'two'
    """
    return list(_HISTORY)


def show(*verdicts: Verdict | Iterable[Verdict]) -> Report:
    """Show several checks of one cell together (each argument a verdict or a list of them).

    Examples
    --------
    >>> from dlt.book.check import greater, less
    >>> a = less("a small number", 0.1, 0.2)
    >>> b = greater("a large number", 5.0, 1.0)
    >>> show(a, b)
    ✔ a small number
      measured 0.100, expected < 0.200
    ✔ a large number
      measured 5.000, expected > 1.000
    """
    out = Report()
    for v in verdicts:
        if isinstance(v, Verdict):
            out.append(v)
        elif isinstance(v, Iterable) and not isinstance(v, str | bytes):
            out.extend(show(*v))
        else:
            raise TypeError(
                f"verdicts must be the results of dlt.check functions, got {type(v).__name__}"
            )
    return out


_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _record(
    statement: str,
    value: float,
    measured: str,
    expected: str,
    ok: bool,
    kind: str,
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    if id is not None and not (isinstance(id, str) and _ID.fullmatch(id) and len(id) <= 40):
        raise ValueError(
            "id must be a short label of lowercase letters and digits joined by single hyphens "
            f"(at most 40 characters, e.g. 'ntk-slope'), got {id!r}"
        )
    if rejects is not None and not (isinstance(rejects, str) and rejects.strip()):
        raise ValueError(f"rejects must be a non-empty sentence (the false claim), got {rejects!r}")
    c = Claim(statement, measured, expected, ok, kind, id, rejects)
    _HISTORY.append(c)
    if not ok:
        raise ClaimError(f"claim: {statement}; measured {measured}, expected {expected}")
    return Verdict(value, c)
