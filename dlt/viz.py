"""Face: Figures and explorers: the book's one style, sharp figures, sliders live or pre-computed.

Defined in :mod:`dlt.book.viz`, kind ``book``; this module only re-exports it.
"""

from .book.viz import (
    COLORS,
    explore,
    figure_png,
    save,
    show_sharp,
    static_explorer_html,
    use_style,
)

__all__ = [
    "COLORS",
    "use_style",
    "figure_png",
    "show_sharp",
    "explore",
    "static_explorer_html",
    "save",
]
