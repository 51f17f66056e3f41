r"""Fourier spectra of token embeddings over :math:`\mathbb Z_p`, and grokking times.

Nanda et al. (2023) found that networks that grok modular addition embed each token
:math:`a` through a few waves :math:`\cos(2\pi k a/p), \sin(2\pi k a/p)`: the embedding's
power concentrates on a handful of frequencies :math:`k`. :func:`dlt.grokking.fourier_power` measures
that spectrum, :func:`dlt.grokking.top_frequency_share` the concentration, and :func:`dlt.grokking.grokking_time`
reads the step at which an accuracy curve first reaches a threshold.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..core.params import Fraction, Int, Tensor, validate_params
from ..core.validate import as_tensor, check_fraction, check_int

__all__ = ["fourier_power", "top_frequency_share", "grokking_time"]


@validate_params({"embedding": Tensor((2, 3), "(p, d) or (members, p, d)")})
def fourier_power(embedding: torch.Tensor) -> torch.Tensor:
    r"""Power of an embedding at each frequency of :math:`\mathbb Z_p`, conjugate pairs combined.

    With :math:`\hat E_k = \sum_{a=0}^{p-1} E_a e^{-2\pi i k a/p}` the discrete Fourier
    transform of the rows of :math:`E \in \mathbb R^{p\times d}` over the token index,

    .. math::
        P_0 = \|\hat E_0\|^2/p, \qquad
        P_k = (\|\hat E_k\|^2 + \|\hat E_{p-k}\|^2)/p \quad (1 \le k < p/2),

    (and :math:`P_{p/2} = \|\hat E_{p/2}\|^2/p` for even :math:`p`), so that
    :math:`\sum_k P_k = \|E\|_F^2` (Parseval). Frequency :math:`k` holds exactly the
    columns' components along :math:`\cos(2\pi k a/p)` and :math:`\sin(2\pi k a/p)`.

    Parameters
    ----------
    embedding : Tensor of shape (p, d) or (members, p, d)
        Rows indexed by the token :math:`a \in \{0, \dots, p - 1\}`, :math:`p \ge 2`.

    Returns
    -------
    Tensor of shape (p // 2 + 1,) or (members, p // 2 + 1)
        :math:`P_0, \dots, P_{\lfloor p/2 \rfloor}`, in the embedding's float dtype.

    Raises
    ------
    ValueError
        If ``embedding`` has the wrong number of dimensions, fewer than 2 rows, or
        non-finite entries.

    References
    ----------
    Nanda, Chan, Lieberum, Smith and Steinhardt (2023), Progress measures for grokking via
    mechanistic interpretability, ICLR.

    Examples
    --------
    >>> a = torch.arange(7.0)
    >>> E = torch.stack([torch.cos(2 * math.pi * 2 * a / 7), torch.ones(7)], dim=1)
    >>> fourier_power(E).round(decimals=4).tolist()
    [7.0, 0.0, 3.5, 0.0]
    """
    E = as_tensor(embedding, "embedding", ndim=(2, 3), shape="(p, d) or (members, p, d)")
    p = E.shape[-2]
    if p < 2:
        raise ValueError(f"embedding must have at least 2 rows (tokens), got {p}")
    F = torch.fft.fft(E, dim=-2)
    power = (F.real**2 + F.imag**2).sum(-1) / p  # (..., p)
    half = p // 2
    out = power[..., : half + 1].clone()
    k = torch.arange(1, (p + 1) // 2)  # frequencies with a distinct partner p - k
    out[..., k] += power[..., p - k]
    return out.to(E.dtype)


@validate_params({"embedding": Tensor((2, 3), "(p, d) or (members, p, d)"), "k": Int(1)})
def top_frequency_share(embedding: torch.Tensor, k: int = 5) -> torch.Tensor:
    r"""Share of the embedding's non-constant power held by its ``k`` strongest frequencies.

    .. math::
        s_k(E) = \frac{\sum_{j \le k} P_{(j)}}{\sum_{j \ge 1} P_j},

    where :math:`P_{(1)} \ge P_{(2)} \ge \dots` are the powers :math:`P_1, \dots,
    P_{\lfloor p/2\rfloor}` of :func:`fourier_power` in decreasing order (the constant
    :math:`P_0` is left out, as centring the columns would). A sparse Fourier embedding
    (Nanda et al. 2023) has :math:`s_k \approx 1` for a few :math:`k`; a spectrum spread
    evenly over the :math:`\lfloor p/2 \rfloor` frequencies has :math:`s_k = k/\lfloor p/2
    \rfloor`, and an i.i.d. Gaussian embedding a little more (the top ``k`` of noisy powers).

    Parameters
    ----------
    embedding : Tensor of shape (p, d) or (members, p, d)
        :math:`p \ge 3`.
    k : int
        Number of frequencies, ``1 <= k <= p // 2``.

    Returns
    -------
    Tensor of shape () or (members,)

    Raises
    ------
    ValueError
        If ``k`` is out of range, or ``embedding`` is invalid or has no non-constant power.

    References
    ----------
    Nanda et al. (2023), ICLR; Power et al. (2022), arXiv:2201.02177.

    Examples
    --------
    >>> a = torch.arange(11.0)
    >>> E = torch.stack([torch.cos(2 * math.pi * 3 * a / 11), torch.sin(2 * math.pi * a / 11)], 1)
    >>> round(float(top_frequency_share(E, 1)), 3), round(float(top_frequency_share(E, 2)), 3)
    (0.5, 1.0)
    """
    P = fourier_power(embedding)
    half = P.shape[-1] - 1
    if half < 1:
        raise ValueError("embedding must have at least 3 rows for a non-constant frequency")
    k = check_int(k, "k", minimum=1)
    if k > half:
        raise ValueError(f"k must be <= p // 2 = {half}, got {k}")
    everything = P.sum(-1)
    P = P[..., 1:]
    total = P.sum(-1)
    eps = 100 * torch.finfo(P.dtype).eps  # the FFT of a constant column leaves round-off
    if bool((total <= eps * everything).any()):
        raise ValueError("embedding has no non-constant power (its columns are constant)")
    return P.topk(k, dim=-1).values.sum(-1) / total


@validate_params(
    {
        "steps": Tensor(1, "(T,)"),
        "accuracy": Tensor((1, 2), "(T,) or (T, members)"),
        "threshold": Fraction(low_open=True),
    }
)
def grokking_time(
    steps: torch.Tensor | np.ndarray, accuracy: torch.Tensor | np.ndarray, threshold: float
) -> torch.Tensor:
    r"""First recorded step at which an accuracy curve reaches a threshold.

    .. math:: t(\theta) = \min\{\, t_j : \mathrm{acc}(t_j) \ge \theta \,\},

    and :math:`+\infty` for a curve that never reaches :math:`\theta`. The grokking delay of
    Power et al. (2022) is :math:`t_{\text{test}}(\theta) / t_{\text{train}}(\theta')`.

    Parameters
    ----------
    steps : array of shape (T,)
        Recorded steps, increasing.
    accuracy : array of shape (T,) or (T, members)
        Accuracies in [0, 1] at those steps.
    threshold : float
        :math:`\theta \in (0, 1]`.

    Returns
    -------
    Tensor of shape () or (members,)
        The steps (float64), ``inf`` where never reached.

    Raises
    ------
    ValueError
        If the shapes disagree, ``steps`` is not increasing, or a value is out of range.

    Examples
    --------
    >>> grokking_time([0, 10, 20, 30], [0.1, 0.5, 0.97, 0.9], 0.95).item()
    20.0
    >>> grokking_time([0, 10], [[0.1, 0.2], [0.3, 1.0]], 0.95).tolist()
    [inf, 10.0]
    """
    t = as_tensor(steps, "steps", ndim=1, shape="(T,)", dtype=torch.float64)
    acc = as_tensor(accuracy, "accuracy", ndim=(1, 2), shape="(T,) or (T, members)")
    threshold = check_fraction(threshold, "threshold", low_open=True)
    if acc.shape[0] != t.shape[0]:
        raise ValueError(f"accuracy must have {t.shape[0]} rows to match steps, got {acc.shape[0]}")
    if bool((t[1:] <= t[:-1]).any()):
        raise ValueError("steps must be strictly increasing")
    if bool((acc < 0).any()) or bool((acc > 1).any()):
        raise ValueError("accuracy must lie in [0, 1]")
    hit = acc >= threshold
    first = hit.to(torch.int8).argmax(0)  # index of the first hit (0 if none)
    out = t[first]
    out = torch.where(hit.any(0), out, torch.full_like(out, math.inf))
    return out
