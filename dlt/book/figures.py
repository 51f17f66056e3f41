"""The book's figures: one plotting style, and figures sharp on HiDPI screens.

:func:`use_style` sets a colour-blind-safe palette (Okabe and Ito), labelled axes and a
white figure background that reads on the light and the dark theme of the book;
:func:`figure_png` renders a figure at twice the display resolution into a compact palette
PNG, and :func:`show_sharp` makes notebooks show figures that way. The explorers are in
:mod:`dlt.book.explorer`.
"""

from __future__ import annotations

import io

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure

from .logaxis import short_log_labels

__all__ = ["COLORS", "DISPLAY_DPI", "RENDER_DPI", "use_style", "save", "figure_png", "show_sharp"]

#: Pixels per inch at which a figure is displayed (its on-page size) and rendered (twice that,
#: so it is sharp on a HiDPI screen).
DISPLAY_DPI = 100
RENDER_DPI = 2 * DISPLAY_DPI

#: Okabe-Ito palette, distinguishable under the common forms of colour blindness.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

_STYLE = {
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": DISPLAY_DPI,
    "savefig.dpi": RENDER_DPI,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "axes.prop_cycle": cycler(color=COLORS),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "legend.handlelength": 2.4,
    "legend.markerscale": 1.2,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "xtick.minor.visible": False,
    "ytick.minor.visible": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "figure.constrained_layout.use": True,
}


def use_style() -> None:
    """Apply the book's matplotlib style (call once at the top of a chapter).

    Besides the rcParams, log axes get short plain-number tick labels between 0.001 and 1000
    (the "log" scale is re-registered with that formatter), so that the minor labels of an
    axis spanning about a decade do not collide.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> use_style()
    >>> mpl.rcParams["axes.spines.top"]
    False
    """
    mpl.rcParams.update(_STYLE)  # type: ignore[arg-type]
    short_log_labels()


def save(fig: Figure, path: str, dpi: int = 90) -> None:
    """Save a figure as the book does (PNG, white background).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile, os
    >>> fig, ax = plt.subplots()
    >>> path = os.path.join(tempfile.mkdtemp(), "fig.png")
    >>> save(fig, path)
    >>> os.path.getsize(path) > 0
    True
    """
    fig.savefig(path, dpi=dpi, facecolor="white")


def figure_png(fig: Figure, dpi: int = RENDER_DPI, colors: int = 128) -> tuple[bytes, int, int]:
    """A figure as a compact PNG: rendered at ``dpi``, reduced to a palette of ``colors`` colours.

    Line plots on a white background need few colours, so a 128-colour palette keeps the
    image sharp at twice the display resolution for about the bytes of a plain PNG at 72 dpi.

    Returns
    -------
    (png bytes, width, height) : the width and height in display pixels (half the rendered
    pixels at the default ``dpi``), for an ``<img width=...>`` that is sharp on HiDPI screens.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> data, w, h = figure_png(fig)
    >>> data[:4] == b"\\x89PNG", w > 0 and h > 0
    (True, True)
    """
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.05)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if colors:
        image = image.quantize(
            colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    out = io.BytesIO()
    image.save(out, format="png")
    scale = DISPLAY_DPI / dpi
    return out.getvalue(), round(image.width * scale), round(image.height * scale)


def _sharp_png(fig: Figure) -> tuple[bytes, dict[str, int]]:
    data, width, height = figure_png(fig)
    return data, {"width": width, "height": height}


def show_sharp() -> bool:
    """Make notebooks show figures as :func:`figure_png` renders them (sharp, compact).

    Registers the PNG formatter of the running IPython for matplotlib figures; does nothing
    outside IPython. :func:`dlt.setup` calls it. Returns whether a formatter was registered.

    Examples
    --------
    >>> show_sharp()  # outside IPython: nothing to do
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib_inline.backend_inline  # noqa: F401  (configures the inline backend first)

    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, _sharp_png)
    return True
