r"""How many samples of a generative model copy a training point: the memorization fraction."""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..core.params import Fraction, Matrix, validate_params
from ..core.validate import as_matrix, check_fraction

__all__ = ["Memorization", "memorization_fraction"]


class Memorization(NamedTuple):
    """What :func:`memorization_fraction` measured: the fraction and, per sample, the verdict
    and the distances to the nearest and second-nearest training points.

    Examples
    --------
    >>> m = memorization_fraction(torch.tensor([[0.0, 0.1]]), torch.eye(2) * 3)
    >>> m.fraction, m.memorized.tolist()
    (0.0, [False])
    """

    fraction: float
    memorized: torch.Tensor
    nearest: torch.Tensor
    second: torch.Tensor


@validate_params(
    {"samples": Matrix(), "train": Matrix(), "ratio": Fraction(low_open=True, high_open=True)}
)
def memorization_fraction(
    samples: torch.Tensor, train: torch.Tensor, ratio: float = 1 / 3
) -> Memorization:
    r"""The fraction of samples much closer to one training point than to any other.

    A sample :math:`x` is *memorized* when

    .. math:: d_1(x) \le \rho\, d_2(x),

    with :math:`d_1, d_2` its Euclidean distances to the nearest and the second-nearest row
    of ``train`` (Yoon et al. 2023; Gu et al. 2023 use :math:`\rho = 1/3`). A sample on a
    training point (:math:`d_1 = 0`) is memorized, a repeated training point included
    (:math:`d_1 = d_2 = 0`); a sample equidistant from two training points is not. A sampler
    that generalizes scores :math:`\rho^k` in :math:`k` dimensions
    (:func:`dlt.diffusion.memorization_baseline`), one that copies scores 1.

    Parameters
    ----------
    samples : Tensor of shape (m, d)
    train : Tensor of shape (n, d), n >= 2
    ratio : float
        :math:`\rho \in (0, 1)`.

    Returns
    -------
    Memorization
        ``fraction`` (a float in [0, 1]), ``memorized`` (bool, (m,)), ``nearest`` and
        ``second`` (the distances :math:`d_1, d_2`, float64, (m,)).

    References
    ----------
    Yoon, Choi, Kwon and Ryu (2023), Diffusion probabilistic models generalize when they
    fail to memorize, ICML workshop. Gu, Du, Pang, Li, Lin and Wang (2023), On memorization
    in diffusion models, arXiv:2310.02664.

    Examples
    --------
    >>> train = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> memorization_fraction(torch.tensor([[0.1, 0.0], [0.5, 0.0]]), train).fraction
    0.5
    """
    x = as_matrix(samples, "samples", dtype=torch.float64)
    tr = as_matrix(train, "train", dtype=torch.float64).to(x.device)
    r = check_fraction(ratio, "ratio", low_open=True, high_open=True)
    if tr.shape[0] < 2:
        raise ValueError(f"train must have at least 2 rows, got {tr.shape[0]}")
    if tr.shape[1] != x.shape[1]:
        raise ValueError(f"samples must have {tr.shape[1]} columns like train, got {x.shape[1]}")
    dist = torch.cdist(x, tr, compute_mode="donot_use_mm_for_euclid_dist")
    two = dist.topk(2, dim=1, largest=False).values
    d1, d2 = two[:, 0], two[:, 1]
    memorized = d1 <= r * d2
    return Memorization(float(memorized.double().mean()), memorized, d1, d2)
