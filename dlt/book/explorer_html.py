"""The pre-computed explorer: every frame in one self-contained HTML block, and its printed frame.

When a chapter is executed for the book, :func:`dlt.viz.explore` draws every slider position in
advance; :func:`static_explorer_html` puts the frames (base64 PNGs) under sliders that switch
between them with a few lines of JavaScript, so the rendered page responds without a kernel.
Its output also carries one frame as a PNG, which builders that cannot run JavaScript (the
book's PDF) print.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["STATIC_NOTE", "static_explorer_html", "static_explorer"]

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
    start: Sequence[int] | None = None,
) -> str:
    """The self-contained HTML of a pre-computed explorer (frames are base64 PNGs, row-major).

    The sliders sit on a white panel with dark text, like the figures, so they read in the
    light and the dark theme; ``note`` says under them that the frames are pre-computed and
    how to make them live; ``width`` is the display width of the frames in CSS pixels;
    ``start`` is the index of each slider's initial value (default: the first of each).

    Examples
    --------
    >>> html = static_explorer_html(["AAAA", "BBBB"], [("width", [16, 64])], "key")
    >>> html.count('class="dlt-explorer-frame"')
    2
    >>> 'data-frame="1"' in static_explorer_html(["A", "B"], [("w", [1, 2])], "k", start=[1])
    True
    """
    uid = "dlt-explorer-" + hashlib.sha1(key.encode()).hexdigest()[:10]
    shape = [len(v) for _, v in grid]
    start = list(start) if start is not None else [0] * len(grid)
    if len(start) != len(grid) or any(not 0 <= k < n for k, n in zip(start, shape, strict=True)):
        raise ValueError(f"start must give one index per slider within {shape}, got {start}")
    first = 0
    for k, n in zip(start, shape, strict=True):
        first = first * n + k
    controls = []
    for (name, values), k in zip(grid, start, strict=True):
        labels = json.dumps([str(v) for v in values])
        controls.append(
            f'<label style="display:inline-flex;align-items:center;gap:0.4em;margin-right:1.5em;'
            f'color:#1a1a1a;font-size:0.95em">'
            f'<code style="color:#1a1a1a;background:#eef1f4;padding:0 0.3em">{html.escape(name)}</code>'
            f'<input type="range" class="dlt-explorer-slider" aria-label="{html.escape(name)}" '
            f'min="0" max="{len(values) - 1}" step="1" value="{k}" data-values="{html.escape(labels)}">'
            f'<span class="dlt-explorer-value">{html.escape(str(values[k]))}</span></label>'
        )
    size = f' width="{width}"' if width else ""
    imgs = [
        f'<img class="dlt-explorer-frame" alt="explorer frame {i}"{size} '
        f'style="display:{"block" if i == first else "none"};max-width:100%;height:auto" '
        f'src="data:image/png;base64,{b}">'
        for i, b in enumerate(frames)
    ]
    panel = "background:#ffffff;color:#1a1a1a;padding:0.5em 0.7em;border-radius:4px;"
    return (
        f'<div class="dlt-explorer" id="{uid}" data-shape="{html.escape(json.dumps(shape))}" '
        f'data-frame="{first}" style="{panel}">'
        f'<div class="dlt-explorer-controls" style="margin-bottom:0.3em">{"".join(controls)}</div>'
        f'<div class="dlt-explorer-note" style="font-size:0.8em;color:#4a4a4a;margin-bottom:0.4em">'
        f"{html.escape(note)}</div>"
        f"{''.join(imgs)}</div>" + _SCRIPT % {"id": uid}
    )


def static_explorer(html_text: str, printed_frame: str) -> Any:
    """The output of a pre-computed explorer: its HTML, and ``printed_frame`` (base64 PNG) as PNG.

    Examples
    --------
    >>> out = static_explorer("<div></div>", "iVBO")
    >>> out.data, out._repr_png_()[:3]
    ('<div></div>', b'\\x89PN')
    """
    return _static_explorer_class()(html_text, printed_frame)


@functools.cache
def _static_explorer_class() -> Any:
    from IPython.display import HTML

    class StaticExplorer(HTML):
        """A pre-computed explorer: its HTML (sliders over every frame) and a PNG of one frame.

        Jupyter and the HTML book show the HTML; builders that cannot run JavaScript, such as
        the book's LaTeX/PDF build (myst-nb picks ``image/png`` there), show the frame the
        explorer opens on (``start`` of :func:`dlt.viz.explore`). ``data`` is the HTML, as
        for ``IPython.display.HTML``.
        """

        def __init__(self, html_text: str, printed_frame: str) -> None:
            super().__init__(html_text)
            self.printed_frame = base64.b64decode(printed_frame)

        def _repr_png_(self) -> bytes:
            return self.printed_frame

    return StaticExplorer
