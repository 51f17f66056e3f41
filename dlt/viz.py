"""Face: Figures and explorers: the book's one style, sharp figures, sliders live or pre-computed.

Defined in ``dlt.book.figures`` (style and sharp figures), ``dlt.book.explorer``
(explorers, live and pre-computed) and ``dlt.book.explorer_html`` (the pre-computed
explorer's HTML), kind ``book``; this module only re-exports them.
"""

from .book.explorer import explore
from .book.explorer_html import static_explorer_html
from .book.figures import COLORS, figure_png, save, show_sharp, use_style

__all__ = [
    "COLORS",
    "use_style",
    "figure_png",
    "show_sharp",
    "explore",
    "static_explorer_html",
    "save",
]
