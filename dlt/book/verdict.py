"""Claims and verdicts: what a check records and how a passed check displays.

:mod:`dlt.book.check` compares a measured number with the text's claim; this module holds
what it records (:class:`Claim`), what it returns (:class:`Verdict`, a float that displays as
the check line) and how several are shown together (:func:`show`, :class:`Report`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ClaimError",
    "Claim",
    "Verdict",
    "Report",
    "KINDS",
    "KIND_NAMES",
    "MIME",
    "show",
    "history",
    "set_context",
]

#: How a passed claim is marked, by the kind of statement the text makes: a confirmed result
#: gets the check mark; a negative result (the text says something does *not* hold here) and
#: an open question get marks of their own, so a skimming reader does not take them for
#: confirmations.
KINDS = {
    "result": "✔",
    "negative": "⊘ negative result, as the text states:",
    "open": "◇ open question, measured here:",
}

#: The kind of a claim as the structured output names it: a passed ``"result"`` is a
#: confirmed one.
KIND_NAMES = {"result": "confirmed", "negative": "negative", "open": "open"}

#: The vendor mime type under which a check's structured output leaves the notebook, beside
#: its ``text/plain`` line. Renderers that do not know it (myst-nb, JupyterLab) show the text.
MIME = "application/vnd.dlt.claims+json"

#: Where the claims of this process were checked: set by :func:`dlt.setup` (device, SCALE).
_CONTEXT: dict[str, Any] = {"device": None, "scale": None}


def set_context(*, device: str | None = None, scale: int | None = None) -> None:
    """Record the device and SCALE at which the following claims are checked.

    :func:`dlt.setup` calls it; every claim recorded afterwards carries both in its
    structured output.

    Examples
    --------
    >>> from dlt.book.check import less
    >>> set_context(device="cpu", scale=2)
    >>> less("a", 1, 2).claim.scale
    2
    >>> set_context()
    """
    _CONTEXT["device"] = device
    _CONTEXT["scale"] = scale


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

    ``measured`` and ``expected`` are the displayed strings; ``value`` is the measured number
    rounded to the displayed digits (``None`` where the evidence is words) and ``band`` the
    expected value or band in machine-readable form: ``{"op": "<", "bound": b}``,
    ``{"op": ">", "bound": b}``, ``{"low": lo, "high": hi}`` or ``{"target": e, "tol": t}``
    (a slope adds ``"fit": "loglog"`` or ``"linear"``), ``None`` for a claim in words.
    ``device`` and ``scale`` say where it was checked (set by :func:`dlt.setup`).

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
    value: float | None = None
    band: dict[str, Any] | None = None
    device: str | None = None
    scale: int | None = None

    @property
    def line(self) -> str:
        """The two-line display of a passed claim (statement, then the evidence)."""
        return f"{KINDS[self.kind]} {self.statement}\n  measured {self.measured}, expected {self.expected}"

    def record(self) -> dict[str, Any]:
        """The claim as structured data: what its vendor mime type output holds.

        Numbers are those displayed (rounded), so a re-executed notebook compares equal.

        Examples
        --------
        >>> from dlt.book.check import close
        >>> r = close("one third", 0.3334, 1 / 3, atol=1e-3, id="third", rejects="1/4").claim
        >>> r.record()["value"], r.record()["band"], r.record()["kind"]
        (0.333, {'target': 0.333, 'tol': 0.001}, 'confirmed')
        """
        return {
            "id": self.id,
            "statement": self.statement,
            "measured": self.measured,
            "value": self.value,
            "expected": self.expected,
            "band": self.band,
            "rejects": self.rejects,
            "kind": KIND_NAMES[self.kind],
            "passed": self.passed,
            "scale": self.scale,
            "device": self.device,
        }


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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The check line as ``text/plain`` and the claim as ``MIME`` (structured)."""
        return {"text/plain": self.claim.line, MIME: {"claims": [self.claim.record()]}}

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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The check lines as ``text/plain`` and the claims, in order, as ``MIME``."""
        return {"text/plain": repr(self), MIME: {"claims": [v.claim.record() for v in self]}}


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


def _number(text: str) -> float | None:
    """The number a displayed measurement shows (``"0.333"``, ``"slope -0.50"``), else None."""
    try:
        x = float(text.removeprefix("slope ").strip())
    except ValueError:
        return None
    return x if math.isfinite(x) else None


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
    band: dict[str, Any] | None = None,
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
    ok = bool(ok)  # a numpy bool (from numpy tolerances) is not JSON
    c = Claim(
        statement,
        measured,
        expected,
        ok,
        kind,
        id,
        rejects,
        _number(measured),
        band,
        _CONTEXT["device"],
        _CONTEXT["scale"],
    )
    _HISTORY.append(c)
    if not ok:
        raise ClaimError(f"claim: {statement}; measured {measured}, expected {expected}")
    return Verdict(value, c)
