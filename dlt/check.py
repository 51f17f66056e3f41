"""Face: Executable claims: a chapter's checks, their verdicts and the claims they record.

Defined in ``dlt.book.check``, kind ``book``; this module only re-exports it.
"""

from .book.check import (
    KINDS,
    MIME,
    Claim,
    ClaimError,
    Report,
    Verdict,
    between,
    claim,
    close,
    fit_slope,
    greater,
    history,
    less,
    show,
    slope,
)

__all__ = [
    "ClaimError",
    "Claim",
    "Verdict",
    "Report",
    "KINDS",
    "MIME",
    "claim",
    "close",
    "less",
    "greater",
    "between",
    "slope",
    "fit_slope",
    "show",
    "history",
]
