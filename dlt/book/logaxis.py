r"""Short tick labels on log axes, for the book's figure style (:func:`dlt.viz.use_style`).

Matplotlib labels the minor ticks of a log axis that spans about one decade as
:math:`2\times 10^0, 3\times 10^0, \dots`; at the book's figure width those labels run into
each other. :func:`short_log_labels` re-registers the ``"log"`` scale so that every label
between 0.001 and 10,000 is a plain number ("2", "30", "0.4"), which is short and reads the
same; labels outside that range stay in powers of ten.
"""

from __future__ import annotations

from typing import Any

from matplotlib.scale import LogScale, register_scale
from matplotlib.ticker import LogFormatterSciNotation

__all__ = ["short_log_labels"]


class _ShortLogFormatter(LogFormatterSciNotation):
    def __call__(self, x: float, pos: int | None = None) -> str:
        label = super().__call__(x, pos)
        if label and 1e-3 <= abs(x) < 1e4:
            return f"{x:g}"
        return label


class _ShortLogScale(LogScale):
    name = "log"

    def set_default_locators_and_formatters(self, axis: Any) -> None:
        super().set_default_locators_and_formatters(axis)
        axis.set_major_formatter(_ShortLogFormatter(self.base))
        axis.set_minor_formatter(
            _ShortLogFormatter(self.base, labelOnlyBase=(self.subs is not None))
        )


def short_log_labels() -> None:
    """Make every new log axis label its ticks with plain numbers between 0.001 and 10,000.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> short_log_labels()
    >>> fig, ax = plt.subplots()
    >>> _ = ax.loglog([2, 64], [1, 2])
    >>> fig.canvas.draw()
    >>> [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()][:4]
    ['2', '3', '4', '6']
    >>> plt.close(fig)
    """
    register_scale(_ShortLogScale)
