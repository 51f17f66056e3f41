"""Device selection: the one place that reads ``DLT_DEVICE``."""

from __future__ import annotations

import os

import torch

__all__ = ["device"]

_CHOICES = ("auto", "cpu", "cuda")


def device(preference: str | None = "auto") -> torch.device:
    """Pick the torch device a chapter runs on.

    Parameters
    ----------
    preference : {"auto", "cpu", "cuda"} or a torch device string such as ``"cuda:1"``
        ``"auto"`` (the default of every chapter's ``DEVICE`` parameter) defers to the
        environment variable ``DLT_DEVICE`` when it is set, and otherwise takes CUDA when
        it is available and the CPU when not. An explicit choice wins over the variable.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the preference (or ``DLT_DEVICE``) is not a known device, or asks for CUDA on a
        machine without it.

    Examples
    --------
    >>> import dlt
    >>> dlt.device("cpu")
    device(type='cpu')
    """
    pref = "auto" if preference is None else str(preference).strip().lower()
    source = "device"
    if pref == "auto":
        env = os.environ.get("DLT_DEVICE", "").strip().lower()
        if env:
            pref, source = env, "DLT_DEVICE"
    if pref == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if pref.split(":")[0] not in _CHOICES[1:]:
        raise ValueError(
            f"{source} must be one of 'auto', 'cpu', 'cuda' (or 'cuda:N'), got {pref!r}"
        )
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"{source} is {pref!r} but CUDA is not available on this machine")
    return torch.device(pref)
