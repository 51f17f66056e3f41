"""The book's figures: one plotting style, and the slider explorer.

:func:`use_style` sets a colour-blind-safe palette (Okabe and Ito), labelled axes and a
white figure background that reads on the light and the dark theme of the book.

:func:`explore` is the chapters' interactive figure. In a live session (JupyterLab,
Colab) it gives ipywidgets sliders that redraw the figure; when a notebook is executed
for the book (``DLT_STATIC=1``, set by ``make execute``, ``dlt run`` and the tests) it
renders every slider combination in advance into a self-contained HTML block whose
sliders switch between the pre-computed frames with a few lines of JavaScript, so the
rendered page responds without a kernel.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import itertools
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.figure import Figure

from .logaxis import short_log_labels

__all__ = [
    "COLORS",
    "use_style",
    "figure_png",
    "show_sharp",
    "explore",
    "static_explorer_html",
    "save",
]

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


def _grid(sliders: dict[str, Sequence[Any]]) -> list[tuple[str, list[Any]]]:
    if not sliders:
        raise ValueError("explore needs at least one slider, e.g. width=[16, 64, 256]")
    out = []
    for name, values in sliders.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"slider {name!r} must be a non-empty list of values, got {values!r}")
        out.append((name, list(values)))
    return out


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


def _png(fig: Figure, dpi: int) -> tuple[str, int]:
    data, width, _ = figure_png(fig, dpi=dpi)
    plt.close(fig)
    return base64.b64encode(data).decode("ascii"), width


_SCRIPT = """
<script>
(function () {
  var root = document.getElementById("%(id)s");
  if (!root || root.dataset.ready) { return; }
  root.dataset.ready = "1";
  var sliders = root.querySelectorAll("input.dlt-explorer-slider");
  var frames = root.querySelectorAll("img.dlt-explorer-frame");
  var shape = JSON.parse(root.dataset.shape);
  function update() {
    var index = 0;
    for (var i = 0; i < sliders.length; i++) {
      var k = parseInt(sliders[i].value, 10);
      index = index * shape[i] + k;
      var values = JSON.parse(sliders[i].dataset.values);
      sliders[i].parentNode.querySelector(".dlt-explorer-value").textContent = values[k];
    }
    for (var j = 0; j < frames.length; j++) {
      frames[j].style.display = (j === index) ? "block" : "none";
    }
    root.dataset.frame = String(index);
  }
  for (var i = 0; i < sliders.length; i++) { sliders[i].addEventListener("input", update); }
  update();
})();
</script>
"""


STATIC_NOTE = (
    "Pre-computed explorer: every slider position was drawn when the chapter ran. "
    "Run the chapter in JupyterLab or Colab to get live sliders."
)


def static_explorer_html(
    frames: Sequence[str],
    grid: list[tuple[str, list[Any]]],
    key: str,
    *,
    width: int | None = None,
    note: str = STATIC_NOTE,
) -> str:
    """The self-contained HTML of a pre-computed explorer (frames are base64 PNGs, row-major).

    The sliders sit on a white panel with dark text, like the figures, so they read in the
    light and the dark theme; ``note`` says under them that the frames are pre-computed and
    how to make them live; ``width`` is the display width of the frames in CSS pixels.

    Examples
    --------
    >>> html = static_explorer_html(["AAAA", "BBBB"], [("width", [16, 64])], "key")
    >>> html.count('class="dlt-explorer-frame"')
    2
    """
    uid = "dlt-explorer-" + hashlib.sha1(key.encode()).hexdigest()[:10]
    shape = [len(v) for _, v in grid]
    controls = []
    for name, values in grid:
        labels = json.dumps([str(v) for v in values])
        controls.append(
            f'<label style="display:inline-flex;align-items:center;gap:0.4em;margin-right:1.5em;'
            f'color:#1a1a1a;font-size:0.95em">'
            f'<code style="color:#1a1a1a;background:#eef1f4;padding:0 0.3em">{html.escape(name)}</code>'
            f'<input type="range" class="dlt-explorer-slider" aria-label="{html.escape(name)}" '
            f'min="0" max="{len(values) - 1}" step="1" value="0" data-values="{html.escape(labels)}">'
            f'<span class="dlt-explorer-value">{html.escape(str(values[0]))}</span></label>'
        )
    size = f' width="{width}"' if width else ""
    imgs = [
        f'<img class="dlt-explorer-frame" alt="explorer frame {i}"{size} '
        f'style="display:{"block" if i == 0 else "none"};max-width:100%;height:auto" '
        f'src="data:image/png;base64,{b}">'
        for i, b in enumerate(frames)
    ]
    panel = "background:#ffffff;color:#1a1a1a;padding:0.5em 0.7em;border-radius:4px;"
    return (
        f'<div class="dlt-explorer" id="{uid}" data-shape="{html.escape(json.dumps(shape))}" '
        f'data-frame="0" style="{panel}">'
        f'<div class="dlt-explorer-controls" style="margin-bottom:0.3em">{"".join(controls)}</div>'
        f'<div class="dlt-explorer-note" style="font-size:0.8em;color:#4a4a4a;margin-bottom:0.4em">'
        f"{html.escape(note)}</div>"
        f"{''.join(imgs)}</div>" + _SCRIPT % {"id": uid}
    )


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
    **sliders : lists of values
        One slider per keyword, e.g. ``width=[16, 64, 256], depth=[1, 2, 3]``.

    Returns
    -------
    Static: an ``IPython.display.HTML`` whose output carries two representations, the HTML
    with its sliders (shown by Jupyter and the HTML book) and a PNG of the first frame (shown
    by the PDF book, whose builder cannot run JavaScript). Live: the ipywidgets interactive.

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
    """
    if mode not in ("auto", "live", "static"):
        raise ValueError(f"mode must be 'auto', 'live' or 'static', got {mode!r}")
    grid = _grid(sliders)
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
                options=values, value=values[0], description=name, continuous_update=False
            )
            for name, values in grid
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
    key = getattr(draw, "__qualname__", "draw") + repr(grid)
    return _static_explorer_class()(static_explorer_html(frames, grid, key, width=width), frames[0])


@functools.cache
def _static_explorer_class() -> Any:
    from IPython.display import HTML

    class StaticExplorer(HTML):
        """A pre-computed explorer: its HTML (sliders over every frame) and a PNG of its first frame.

        Jupyter and the HTML book show the HTML; builders that cannot run JavaScript, such as
        the book's LaTeX/PDF build (myst-nb picks ``image/png`` there), show the first frame.
        ``data`` is the HTML, as for ``IPython.display.HTML``.
        """

        def __init__(self, html_text: str, first_frame: str) -> None:
            super().__init__(html_text)
            self.first_frame = base64.b64decode(first_frame)

        def _repr_png_(self) -> bytes:
            return self.first_frame

    return StaticExplorer
