"""The chapters' explorer: an interactive figure over a grid of slider values.

In a live session (JupyterLab, Colab) :func:`explore` gives ipywidgets sliders that redraw the
figure; when a notebook is executed for the book (``DLT_STATIC=1``, set by ``make execute``,
``dlt run`` and the tests) it draws every slider combination in advance into the
self-contained HTML of :mod:`dlt.book.explorer_html`, which responds without a kernel.
"""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .explorer_html import static_explorer, static_explorer_html
from .figures import DISPLAY_DPI, figure_png

__all__ = ["explore"]


def _grid(sliders: dict[str, Sequence[Any]]) -> list[tuple[str, list[Any]]]:
    if not sliders:
        raise ValueError("explore needs at least one slider, e.g. width=[16, 64, 256]")
    out = []
    for name, values in sliders.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"slider {name!r} must be a non-empty list of values, got {values!r}")
        out.append((name, list(values)))
    return out


def _start(grid: list[tuple[str, list[Any]]], start: Mapping[str, Any] | None) -> list[int]:
    """The index of each slider's initial value: ``start[name]`` where given, else the first."""
    if start is None:
        return [0] * len(grid)
    if not isinstance(start, Mapping):
        raise TypeError(f"start must be a dict of slider values, got {type(start).__name__}")
    names = [name for name, _ in grid]
    unknown = sorted(set(start) - set(names))
    if unknown:
        raise ValueError(f"start names sliders that do not exist: {unknown} (sliders: {names})")
    out = []
    for name, values in grid:
        if name not in start:
            out.append(0)
        elif start[name] not in values:
            raise ValueError(f"start[{name!r}] = {start[name]!r} is not one of {values!r}")
        else:
            out.append(values.index(start[name]))
    return out


def _png(fig: Figure, dpi: int) -> tuple[str, int]:
    data, width, _ = figure_png(fig, dpi=dpi)
    plt.close(fig)
    return base64.b64encode(data).decode("ascii"), width


def _live_available() -> bool:
    if os.environ.get("DLT_STATIC", "0") == "1":
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or not hasattr(shell, "kernel"):
            return False
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def explore(
    draw: Callable[..., Figure],
    *,
    mode: str = "auto",
    dpi: int = 3 * DISPLAY_DPI // 2,
    max_frames: int = 48,
    start: Mapping[str, Any] | None = None,
    **sliders: Sequence[Any],
) -> Any:
    """An interactive figure over a grid of parameter values.

    Parameters
    ----------
    draw : callable ``(**values) -> matplotlib.figure.Figure``
        Draws one frame for one value of every slider.
    mode : {"auto", "live", "static"}
        ``"live"`` gives ipywidgets sliders (needs a kernel); ``"static"`` pre-computes
        every frame into HTML that works without one. ``"auto"`` is static when
        ``DLT_STATIC=1`` or when no kernel with ipywidgets is running, else live.
    dpi : int
        Resolution of the pre-computed frames (1.5 times the display resolution by default,
        sharp on HiDPI screens; frames are palette PNGs, see :func:`figure_png`).
    max_frames : int
        Refuse grids larger than this (each frame is stored in the notebook).
    start : dict, optional
        The value each named slider opens on (the others open on their first value): the
        frame the text discusses. The printed book (PDF), which cannot move a slider, shows
        this frame.
    **sliders : lists of values
        One slider per keyword, e.g. ``width=[16, 64, 256], depth=[1, 2, 3]``.

    Returns
    -------
    Static: an ``IPython.display.HTML`` whose output carries two representations, the HTML
    with its sliders (shown by Jupyter and the HTML book) and a PNG of the ``start`` frame
    (shown by the PDF book, whose builder cannot run JavaScript). Live: the ipywidgets
    interactive.

    Raises
    ------
    ValueError
        An unknown ``mode``, an empty slider, a grid over ``max_frames``, or a ``start``
        naming a slider or a value that does not exist.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> def draw(a):
    ...     fig, ax = plt.subplots()
    ...     ax.plot([0, 1], [0, a])
    ...     return fig
    >>> html = explore(draw, mode="static", dpi=20, a=[1, 2])
    >>> html.data.count('class="dlt-explorer-frame"')
    2
    >>> html._repr_png_()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    >>> 'data-frame="1"' in explore(draw, mode="static", dpi=20, start={"a": 2}, a=[1, 2]).data
    True
    """
    if mode not in ("auto", "live", "static"):
        raise ValueError(f"mode must be 'auto', 'live' or 'static', got {mode!r}")
    grid = _grid(sliders)
    first = _start(grid, start)
    if mode == "auto":
        mode = "live" if _live_available() else "static"
    if mode == "live":
        import ipywidgets as widgets
        from IPython.display import display

        def show(**values: Any) -> None:
            fig = draw(**values)
            display(fig)
            plt.close(fig)

        controls = {
            name: widgets.SelectionSlider(
                options=values, value=values[k], description=name, continuous_update=False
            )
            for (name, values), k in zip(grid, first, strict=True)
        }
        return widgets.interactive(show, **controls)
    n_frames = 1
    for _, values in grid:
        n_frames *= len(values)
    if n_frames > max_frames:
        raise ValueError(
            f"the slider grid has {n_frames} frames, more than max_frames={max_frames}"
        )
    frames = []
    for combo in itertools.product(*[values for _, values in grid]):
        fig = draw(**{name: v for (name, _), v in zip(grid, combo, strict=True)})
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        data, width = _png(fig, dpi)
        frames.append(data)
    index = 0
    for (_, values), k in zip(grid, first, strict=True):
        index = index * len(values) + k
    key = getattr(draw, "__qualname__", "draw") + repr(grid)
    text = static_explorer_html(frames, grid, key, width=width, start=first)
    return static_explorer(text, frames[index])
