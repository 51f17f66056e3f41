r"""The optimal denoiser of a finite training set, the EDM preconditioning and the memorization baseline.

For a training set :math:`x_1, \dots, x_n` the data distribution that a diffusion model
is trained on is the empirical one, and the denoiser that minimizes the denoising loss
:math:`\mathbb E\,\|D(x_0 + \sigma\varepsilon, \sigma) - x_0\|^2` exactly is the posterior
mean of :math:`x_0` given the noisy point,

.. math:: D^*(x, \sigma) = \sum_{i=1}^n w_i(x, \sigma)\, x_i, \qquad
    w_i = \operatorname{softmax}_i\!\Big(-\frac{\|x - x_i\|^2}{2\sigma^2}\Big),

which sends every noisy point to a weighted mean of training points (Karras et al. 2022,
eq. 57; Kadkhodaie et al. 2024; Gu et al. 2023).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..core.params import Fraction, Int, Matrix, Positive, Tensor, validate_params
from ..core.validate import as_matrix, as_tensor, check_fraction, check_int, check_positive

__all__ = ["optimal_denoiser", "EDMScalings", "edm_scalings", "memorization_baseline"]


def _squared_distances(x: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Exact squared distances (m, n) from differences, not from ``|x|^2 - 2 x.y + |y|^2``."""
    return torch.cdist(x, train, compute_mode="donot_use_mm_for_euclid_dist") ** 2


@validate_params(
    {
        "x": Tensor((1, 2, 3), "(m, d) or (..., d)"),
        "sigma": Tensor((0, 1), "a number or (m,)"),
        "train": Matrix(),
    }
)
def optimal_denoiser(
    x: torch.Tensor, sigma: float | torch.Tensor, train: torch.Tensor
) -> torch.Tensor:
    r"""The denoiser that minimizes the denoising loss on the training set ``train`` exactly.

    .. math:: D^*(x, \sigma) = \sum_{i=1}^n
        \frac{\exp(-\|x - x_i\|^2 / 2\sigma^2)}{\sum_j \exp(-\|x - x_j\|^2 / 2\sigma^2)}\, x_i

    the posterior mean :math:`\mathbb E[x_0 \mid x_0 + \sigma\varepsilon = x]` when
    :math:`x_0` is drawn uniformly from the rows of ``train`` and
    :math:`\varepsilon \sim \mathcal N(0, I)`. The weights are a softmax, computed by
    log-sum-exp from squared distances taken as differences, so that at small
    :math:`\sigma` (``1e-4`` and below) the weights stay finite and :math:`D^*` tends to
    the nearest training point; as :math:`\sigma \to \infty` it tends to the mean of
    ``train``.

    Parameters
    ----------
    x : Tensor of shape (m, d) or (..., d)
        Noisy points.
    sigma : float or Tensor of shape (m,)
        Noise standard deviation (> 0), one for all points or one per point (for ``x`` of
        shape (m, d)).
    train : Tensor of shape (n, d)
        The training points, one per row.

    Returns
    -------
    Tensor of the shape of ``x``, in the dtype of ``x``.

    Raises
    ------
    ValueError
        If ``sigma`` is not positive, or the dimensions of ``x``, ``sigma`` and ``train``
        disagree.

    References
    ----------
    Karras, Aittala, Aila and Laine (2022), Elucidating the design space of diffusion-based
    generative models, NeurIPS (appendix B.3). Gu, Du, Pang, Li, Lin and Wang (2023), On
    memorization in diffusion models, arXiv:2310.02664.

    Examples
    --------
    >>> train = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> optimal_denoiser(torch.tensor([[0.1, 0.0]]), 1e-3, train)  # the nearest point
    tensor([[0., 0.]])
    >>> optimal_denoiser(torch.tensor([[1.0, 0.0]]), 1.0, train)  # halfway: the mean
    tensor([[1., 0.]])
    """
    x = as_tensor(x, "x", ndim=(1, 2, 3), shape="(m, d) or (..., d)")
    train = as_matrix(train, "train")
    d = train.shape[1]
    if x.shape[-1] != d:
        raise ValueError(f"x must have {d} columns like train, got shape {tuple(x.shape)}")
    dtype = x.dtype
    xs = x.reshape(-1, d).to(torch.float64)
    if not isinstance(sigma, torch.Tensor):  # a Python number: straight to float64
        sigma = torch.as_tensor(sigma, dtype=torch.float64)
    s = as_tensor(sigma, "sigma", ndim=(0, 1), shape="a number or (m,)", dtype=torch.float64)
    if bool((s <= 0).any()):
        raise ValueError(f"sigma must be > 0, got min {float(s.min())}")
    if s.ndim == 1:
        if s.shape[0] not in (1, xs.shape[0]):
            raise ValueError(
                f"sigma must have {xs.shape[0]} entries, one per point, got {s.shape[0]}"
            )
        s = s.reshape(-1, 1)
    s = s.to(xs.device)
    tr = train.to(device=xs.device, dtype=torch.float64)
    logits = -_squared_distances(xs, tr) / (2 * s**2)
    weights = torch.softmax(logits, dim=1)  # subtracts the max: log-sum-exp
    return (weights @ tr).reshape(x.shape).to(dtype)


class EDMScalings(NamedTuple):
    """The preconditioning of Karras et al. (2022): ``D = c_skip x + c_out F(c_in x, c_noise)``.

    Examples
    --------
    >>> c = edm_scalings(torch.tensor([1.0]), sigma_data=1.0)
    >>> float(c.c_skip[0]), round(float(c.c_in[0]) ** 2, 6)
    (0.5, 0.5)
    """

    c_skip: torch.Tensor
    c_out: torch.Tensor
    c_in: torch.Tensor
    c_noise: torch.Tensor


@validate_params({"sigma": Tensor((0, 1, 2, 3), "a number or a tensor"), "sigma_data": Positive()})
def edm_scalings(sigma: float | torch.Tensor, sigma_data: float = 0.5) -> EDMScalings:
    r"""The EDM preconditioning coefficients of a denoiser (Karras et al. 2022, table 1).

    .. math::
        c_{\mathrm{skip}} = \frac{\sigma_d^2}{\sigma^2 + \sigma_d^2},\quad
        c_{\mathrm{out}} = \frac{\sigma \sigma_d}{\sqrt{\sigma^2 + \sigma_d^2}},\quad
        c_{\mathrm{in}} = \frac{1}{\sqrt{\sigma^2 + \sigma_d^2}},\quad
        c_{\mathrm{noise}} = \tfrac14 \ln \sigma

    With :math:`D(x, \sigma) = c_{\mathrm{skip}} x + c_{\mathrm{out}} F(c_{\mathrm{in}} x,
    c_{\mathrm{noise}})`, the input of :math:`F` and its regression target
    :math:`(x_0 - c_{\mathrm{skip}} x) / c_{\mathrm{out}}` have unit variance for data of
    standard deviation :math:`\sigma_d`, and the EDM loss weight is
    :math:`\lambda(\sigma) = 1/c_{\mathrm{out}}^2`.

    Parameters
    ----------
    sigma : float or Tensor
        Noise levels (> 0).
    sigma_data : float
        Standard deviation of the data :math:`\sigma_d` (> 0).

    Returns
    -------
    EDMScalings
        Tensors of the shape of ``sigma``.

    References
    ----------
    Karras, Aittala, Aila and Laine (2022), Elucidating the design space of diffusion-based
    generative models, NeurIPS.

    Examples
    --------
    >>> c = edm_scalings(0.5, sigma_data=0.5)
    >>> float(c.c_skip), float(c.c_out) ** 2, float(c.c_in) ** 2  # sigma = sigma_d
    (0.5, 0.125, 2.0)
    """
    if not isinstance(sigma, torch.Tensor):  # a Python number: float64
        sigma = torch.as_tensor(sigma, dtype=torch.float64)
    s = as_tensor(sigma, "sigma", ndim=(0, 1, 2, 3), shape="a number or a tensor")
    if bool((s <= 0).any()):
        raise ValueError(f"sigma must be > 0, got min {float(s.min())}")
    return scalings(s, check_positive(sigma_data, "sigma_data"))


def scalings(sigma: torch.Tensor, sigma_data: float) -> EDMScalings:
    """:func:`edm_scalings` without the checks, for the inner loops of a network and a loss."""
    total = sigma**2 + sigma_data**2
    root = total.sqrt()
    return EDMScalings(sigma_data**2 / total, sigma * sigma_data / root, 1 / root, sigma.log() / 4)


@validate_params({"dim": Int(1), "ratio": Fraction(low_open=True, high_open=True)})
def memorization_baseline(dim: int, ratio: float = 1 / 3) -> float:
    r"""The memorization fraction of a sampler that generalizes: :math:`\rho^k`.

    For a sample :math:`x` drawn independently of ``n`` training points of a smooth density
    in :math:`k` dimensions, the training points near :math:`x` are locally a Poisson
    process; given the distance :math:`d_2` to the second nearest, the nearest is uniform in
    the ball of radius :math:`d_2`, so :math:`(d_1/d_2)^k` is uniform on :math:`[0, 1]` and

    .. math:: \Pr(d_1 < \rho\, d_2) = \rho^k .

    This is the value :func:`dlt.diffusion.memorization_fraction` takes on fresh samples of
    the data distribution (exactly for a uniform density away from the boundary, and
    approximately where the density varies on the scale of :math:`d_2`).

    Parameters
    ----------
    dim : int
        The dimension :math:`k \ge 1`.
    ratio : float
        :math:`\rho \in (0, 1)`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(memorization_baseline(2), 4)
    0.1111
    """
    k = check_int(dim, "dim", minimum=1)
    return check_fraction(ratio, "ratio", low_open=True, high_open=True) ** k
