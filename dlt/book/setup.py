"""The one-line set-up of a chapter or lesson: device, seed, figure style, threads."""

from __future__ import annotations

import os

import torch

from ..core.device import device as _device
from ..core.validate import check_int
from .verdict import set_context

__all__ = ["setup"]


def setup(
    device: str | None = "auto",
    seed: int = 0,
    *,
    scale: int | None = None,
    style: bool = True,
    quiet: bool = False,
) -> torch.device:
    """Prepare a chapter: pick the device, seed torch, apply the figure style, set threads.

    A chapter's first code cell after its parameters is
    ``dev = dlt.setup(DEVICE, SEED, scale=SCALE)``.

    - the device is :func:`dlt.device` of ``device`` (``"auto"`` reads ``DLT_DEVICE``);
    - ``torch.manual_seed(seed)`` seeds the global generator (the library itself draws from
      explicit seeds, so this only fixes what a chapter draws directly);
    - the figure style of :func:`dlt.viz.use_style` is applied, and notebooks show figures
      sharp on HiDPI screens (:func:`dlt.viz.show_sharp`); ``style=False`` skips both;
    - when ``OMP_NUM_THREADS`` is set (the Makefile and the tests set it to 1), torch uses
      that many threads; otherwise torch keeps its default, all cores;
    - the device type and ``scale`` are recorded for the structured output of every
      ``dlt.check`` that follows (``dlt.check.Claim.record``), so the register of claims
      says at which SCALE and on which device each was checked.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"} or a device string such as ``"cuda:1"``
    seed : int
        Seed ``>= 0``.
    scale : int, optional
        The chapter's ``SCALE`` (``>= 1``), recorded with its claims; ``None`` records none.
    style : bool
        Apply the book's matplotlib style.
    quiet : bool
        Do not print the one line that says which device runs the chapter.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``device`` is unknown or unavailable, ``seed < 0`` or ``scale < 1``.

    Examples
    --------
    >>> import dlt
    >>> dlt.setup("cpu", 0, style=False)
    device: cpu, seed 0
    device(type='cpu')
    """
    seed = check_int(seed, "seed", minimum=0)
    if scale is not None:
        scale = check_int(scale, "scale", minimum=1)
    dev = _device(device)
    set_context(device=dev.type, scale=scale)
    torch.manual_seed(seed)
    threads = os.environ.get("OMP_NUM_THREADS", "").strip()
    if threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    if style:
        from .figures import show_sharp, use_style

        use_style()
        show_sharp()
    if not quiet:
        print(f"device: {dev.type}, seed {seed}")
    return dev
