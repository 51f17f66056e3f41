r"""Coding rates and rate reduction (Yu et al. 2020, MCR²), and the compression step that CRATE
unrolls into multi-head subspace self-attention (Yu et al. 2023).

Rows are samples (tokens): :math:`Z \in \mathbb R^{N\times p}`. The coding rate of the rows
up to precision :math:`\varepsilon` is

.. math:: R(Z, \varepsilon) = \tfrac12 \log\det\Big(I_p + \frac{p}{N\varepsilon^2} Z^\top Z\Big)
    = \tfrac12 \log\det\Big(I_N + \frac{p}{N\varepsilon^2} Z Z^\top\Big)

(the two determinants agree by Sylvester's identity; the smaller one is computed). With
:math:`K` subspaces of bases :math:`U_k \in \mathbb R^{p\times d}`, the compression term is
:math:`R^c(Z; U) = \sum_k R(Z U_k, \varepsilon)`, each term with its own
:math:`\alpha = d/(N\varepsilon^2)`, as in CRATE.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..core.params import Choice, NonNegative, Positive, Tensor, validate_params
from ..core.validate import as_tensor

__all__ = [
    "coding_rate",
    "rate_reduction",
    "RateReduction",
    "compression_rate",
    "compression_gradient",
    "compression_step",
    "sparse_rate_reduction",
]

_Z = Tensor((2, 3), "(N, p) or (B, N, p)")
_U = Tensor(3, "(K, p, d)")


def _rate(z: torch.Tensor, eps: float) -> torch.Tensor:
    """Coding rate of the last two dimensions (N, p) of z, batched over the leading ones."""
    n, p = z.shape[-2], z.shape[-1]
    alpha = p / (n * eps**2)
    gram = z.mT @ z if p <= n else z @ z.mT
    eye = torch.eye(gram.shape[-1], dtype=z.dtype, device=z.device)
    chol = torch.linalg.cholesky(eye + alpha * gram)
    return torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # = 1/2 logdet


def _check_u(z: torch.Tensor, u: object) -> torch.Tensor:
    ut = as_tensor(u, "U", ndim=3, shape="(K, p, d)").to(z.dtype).to(z.device)
    if ut.shape[1] != z.shape[-1]:
        raise ValueError(
            f"U must have shape (K, {z.shape[-1]}, d) to match Z, got {tuple(ut.shape)}"
        )
    return ut


@validate_params({"Z": _Z, "eps": Positive()})
def coding_rate(Z: object, eps: float = 0.5) -> torch.Tensor:
    r"""The coding rate of the rows of ``Z`` up to precision ``eps`` (Yu et al. 2020, eq. 4).

    .. math:: R(Z, \varepsilon) = \tfrac12 \log\det\Big(I + \frac{p}{N\varepsilon^2}
        Z^\top Z\Big), \qquad Z \in \mathbb R^{N\times p}

    For rows spread evenly over :math:`r` orthonormal directions with squared norm
    :math:`s` each (so :math:`Z^\top Z` has :math:`r` eigenvalues :math:`Ns/r`), it equals
    :math:`\tfrac r2 \log(1 + ps/(r\varepsilon^2))`.

    Parameters
    ----------
    Z : Tensor of shape (N, p) or (B, N, p)
        Rows are samples; a leading batch dimension gives one rate per set.
    eps : float
        Precision :math:`\varepsilon > 0`.

    Returns
    -------
    Tensor of shape () or (B,)
        In nats; differentiable in ``Z``.

    Raises
    ------
    ValueError
        If ``Z`` is not 2- or 3-dimensional, has a non-finite entry, or ``eps <= 0``.

    References
    ----------
    Yu, Chan, You, Song and Ma (2020), Learning diverse and discriminative representations
    via the principle of maximal coding rate reduction, NeurIPS; Ma, Derksen, Hong and
    Wright (2007), Segmentation of multivariate mixed data via lossy data coding and
    compression, IEEE TPAMI.

    Examples
    --------
    >>> Z = torch.eye(4, dtype=torch.float64)  # 4 orthonormal rows in R^4
    >>> round(float(coding_rate(Z, 1.0)), 6), round(2 * torch.log(torch.tensor(2.0)).item(), 6)
    (1.386294, 1.386294)
    """
    z = as_tensor(Z, "Z", ndim=(2, 3), shape="(N, p) or (B, N, p)")
    return _rate(z, float(eps))


class RateReduction(NamedTuple):
    """The rate reduction ``delta_r = rate - class_rate`` and its two terms (tensors).

    Examples
    --------
    >>> r = rate_reduction(torch.eye(2, dtype=torch.float64), torch.tensor([0, 1]), 1.0)
    >>> bool(torch.isclose(r.delta_r, r.rate - r.class_rate))
    True
    """

    delta_r: torch.Tensor
    rate: torch.Tensor
    class_rate: torch.Tensor


@validate_params({"Z": Tensor(2, "(N, p)"), "labels": Tensor(1, "(N,)"), "eps": Positive()})
def rate_reduction(Z: object, labels: object, eps: float = 0.5) -> RateReduction:
    r"""The rate reduction of labelled rows (Yu et al. 2020, eq. 8).

    .. math:: \Delta R(Z, \Pi, \varepsilon) = R(Z, \varepsilon) - \sum_{k} \frac{N_k}{N}
        R(Z_k, \varepsilon),

    :math:`Z_k` the :math:`N_k` rows of class :math:`k` (each :math:`R(Z_k)` with its own
    :math:`p/(N_k\varepsilon^2)`). It is zero when every class holds the same rows in the same
    proportion, and is maximized by classes on mutually orthogonal subspaces (Yu et al. 2020,
    Theorem 2.1, under its conditions).

    Parameters
    ----------
    Z : Tensor of shape (N, p)
    labels : Tensor of shape (N,)
        Integer class labels (any values; each distinct value is a class).
    eps : float
        Precision :math:`\varepsilon > 0`.

    Returns
    -------
    RateReduction
        ``(delta_r, rate, class_rate)``: :math:`\Delta R`, :math:`R(Z)` and
        :math:`\sum_k (N_k/N) R(Z_k)`.

    Raises
    ------
    ValueError
        If ``labels`` does not have one entry per row or holds non-integer values.

    References
    ----------
    Yu, Chan, You, Song and Ma (2020), NeurIPS.

    Examples
    --------
    >>> Z = torch.eye(4, dtype=torch.float64)
    >>> r = rate_reduction(Z, torch.tensor([0, 0, 1, 1]), eps=1.0)
    >>> round(float(r.delta_r), 6)  # 2 log 2 - 2 * (1/2) * log 3
    0.287682
    """
    z = as_tensor(Z, "Z", ndim=2, shape="(N, p)")
    raw = torch.as_tensor(labels)  # integers stay integers: float32 would merge 2**24 and 2**24 + 1
    lab = as_tensor(raw, "labels", ndim=1, shape="(N,)", dtype=raw.dtype)
    if lab.shape[0] != z.shape[0]:
        raise ValueError(
            f"labels must have {z.shape[0]} entries, one per row of Z, got {lab.shape[0]}"
        )
    if lab.is_floating_point() and bool((lab != lab.round()).any()):
        raise ValueError("labels must hold integer class labels")
    eps = float(eps)
    rate = _rate(z, eps)
    n = z.shape[0]
    class_rate = torch.zeros((), dtype=z.dtype, device=z.device)
    for c in torch.unique(lab):  # a loop over classes, not samples
        zk = z[lab == c]
        class_rate = class_rate + zk.shape[0] / n * _rate(zk, eps)
    return RateReduction(rate - class_rate, rate, class_rate)


@validate_params({"Z": _Z, "U": _U, "eps": Positive()})
def compression_rate(Z: object, U: object, eps: float = 0.5) -> torch.Tensor:
    r"""The compression term of CRATE: the coding rates of the rows of ``Z`` projected on each
    of :math:`K` subspaces (Yu et al. 2023, eq. 3).

    .. math:: R^c(Z; U) = \sum_{k=1}^{K} R(Z U_k, \varepsilon) = \sum_k \tfrac12 \log\det
        \Big(I_d + \frac{d}{N\varepsilon^2} U_k^\top Z^\top Z U_k\Big)

    Parameters
    ----------
    Z : Tensor of shape (N, p) or (B, N, p)
    U : Tensor of shape (K, p, d)
        Bases of the :math:`K` subspaces (orthonormal columns in the theory; any matrices are
        accepted).
    eps : float

    Returns
    -------
    Tensor of shape () or (B,)

    References
    ----------
    Yu, Buchanan, Pai, Chu, Wu, Tong, Haeffele and Ma (2023), White-box transformers via
    sparse rate reduction, NeurIPS.

    Examples
    --------
    >>> Z = torch.eye(4, dtype=torch.float64)
    >>> U = torch.eye(4, dtype=torch.float64).reshape(4, 2, 2).permute(1, 0, 2)  # K = 2, d = 2
    >>> round(float(compression_rate(Z, U, 1.0)), 6)  # two subspaces, each R = log(1.5)
    0.81093
    """
    z = as_tensor(Z, "Z", ndim=(2, 3), shape="(N, p) or (B, N, p)")
    u = _check_u(z, U)
    zu = torch.einsum("...np,kpd->...knd", z, u)
    return _rate(zu, float(eps)).sum(-1)


def _projected(z: torch.Tensor, u: torch.Tensor, eps: float) -> tuple[torch.Tensor, float]:
    n, d = z.shape[-2], u.shape[-1]
    return torch.einsum("...np,kpd->...knd", z, u), d / (n * eps**2)


@validate_params({"Z": _Z, "U": _U, "eps": Positive()})
def compression_gradient(Z: object, U: object, eps: float = 0.5) -> torch.Tensor:
    r"""The exact gradient of the compression term :math:`R^c(Z; U)` in ``Z``.

    .. math:: \nabla_Z R^c = \sum_k \alpha\, Z U_k \big(I_d + \alpha U_k^\top Z^\top Z
        U_k\big)^{-1} U_k^\top, \qquad \alpha = \frac{d}{N\varepsilon^2}

    (rows as samples; Yu et al. 2023 write the columns' form
    :math:`\alpha U_k U_k^\top Z (I + \alpha Z^\top U_k U_k^\top Z)^{-1}`, the same by the
    push-through identity).

    Parameters
    ----------
    Z : Tensor of shape (N, p) or (B, N, p)
    U : Tensor of shape (K, p, d)
    eps : float

    Returns
    -------
    Tensor of the shape of ``Z``

    References
    ----------
    Yu et al. (2023), NeurIPS, section 2.3.

    Examples
    --------
    >>> Z = torch.eye(2, dtype=torch.float64)
    >>> U = torch.eye(2, dtype=torch.float64)[None]  # one subspace, the whole space
    >>> compression_gradient(Z, U, 1.0)  # alpha Z (1 + alpha)^-1 with alpha = 1
    tensor([[0.5000, 0.0000],
            [0.0000, 0.5000]], dtype=torch.float64)
    """
    z = as_tensor(Z, "Z", ndim=(2, 3), shape="(N, p) or (B, N, p)")
    u = _check_u(z, U)
    a, alpha = _projected(z, u, float(eps))
    eye = torch.eye(u.shape[-1], dtype=z.dtype, device=z.device)
    inner = eye + alpha * a.mT @ a  # (..., K, d, d)
    w = torch.linalg.solve(inner, a.mT).mT  # A (I + alpha A^T A)^-1, inner is symmetric
    return alpha * torch.einsum("...knd,kpd->...np", w, u)


@validate_params(
    {
        "Z": _Z,
        "U": _U,
        "eps": Positive(),
        "step": NonNegative(),
        "method": Choice(("exact", "neumann", "softmax")),
    }
)
def compression_step(
    Z: object, U: object, eps: float = 0.5, step: float = 0.1, method: str = "exact"
) -> torch.Tensor:
    r"""One gradient step on the compression term, exact or in CRATE's approximations.

    .. math:: Z^{+} = Z - \kappa \nabla_Z R^c(Z; U)
        = Z - \kappa\alpha \sum_k \big(I_N + \alpha A_k A_k^\top\big)^{-1} A_k U_k^\top,
        \qquad A_k = Z U_k

    ``method="neumann"`` keeps the first term of the Neumann series,
    :math:`(I + \alpha G)^{-1} \approx I - \alpha G` with the token Gram matrix
    :math:`G_k = A_k A_k^\top`, so its error is :math:`O(\alpha^2)` relative to the step;
    ``method="softmax"`` then replaces :math:`G_k` by the row-wise
    :math:`\operatorname{softmax}(G_k)`: the step becomes multi-head subspace self-attention,
    :math:`Z - \kappa\alpha \sum_k (A_k - \alpha\, \operatorname{softmax}(A_k A_k^\top) A_k)
    U_k^\top` (Yu et al. 2023, eqs. 9 to 11, which further take :math:`\sum_k U_kU_k^\top
    \approx I`; this function does not).

    Parameters
    ----------
    Z : Tensor of shape (N, p) or (B, N, p)
    U : Tensor of shape (K, p, d)
    eps : float
    step : float
        :math:`\kappa \ge 0`.
    method : {"exact", "neumann", "softmax"}

    Returns
    -------
    Tensor of the shape of ``Z``

    References
    ----------
    Yu et al. (2023), NeurIPS, section 2.3.

    Examples
    --------
    >>> Z = 0.1 * torch.eye(2, dtype=torch.float64)
    >>> U = torch.eye(2, dtype=torch.float64)[None]
    >>> e = compression_step(Z, U, 1.0, 1.0, "exact")
    >>> n = compression_step(Z, U, 1.0, 1.0, "neumann")
    >>> float((e - n).abs().max()) < 1e-5  # alpha ||Z||^2 = 0.01: second order is 1e-5
    True
    """
    z = as_tensor(Z, "Z", ndim=(2, 3), shape="(N, p) or (B, N, p)")
    u = _check_u(z, U)
    if method == "exact":
        return z - step * compression_gradient(z, u, eps)
    a, alpha = _projected(z, u, float(eps))
    gram = a @ a.mT  # (..., K, N, N)
    if method == "softmax":
        gram = torch.softmax(gram, dim=-1)
    b = a - alpha * gram @ a
    return z - step * alpha * torch.einsum("...knd,kpd->...np", b, u)


@validate_params({"Z": _Z, "U": _U, "eps": Positive(), "lam": NonNegative()})
def sparse_rate_reduction(Z: object, U: object, eps: float = 0.5, lam: float = 0.1) -> torch.Tensor:
    r"""The sparse rate reduction objective of CRATE, to be maximized (Yu et al. 2023, eq. 1),
    with the :math:`\ell^1` norm for the :math:`\ell^0` one, per row.

    .. math:: \mathrm{SRR}(Z) = R(Z, \varepsilon) - R^c(Z; U) - \frac{\lambda}{N} \|Z\|_1

    Parameters
    ----------
    Z : Tensor of shape (N, p) or (B, N, p)
    U : Tensor of shape (K, p, d)
    eps : float
    lam : float
        :math:`\lambda \ge 0`, the weight of sparsity.

    Returns
    -------
    Tensor of shape () or (B,)

    References
    ----------
    Yu et al. (2023), NeurIPS; Hu, Zou and Xu (2024), An in-depth investigation of sparse
    rate reduction in transformer-like models, NeurIPS.

    Examples
    --------
    >>> Z = torch.eye(4, dtype=torch.float64)
    >>> U = torch.eye(4, dtype=torch.float64).reshape(4, 2, 2).permute(1, 0, 2)
    >>> round(float(sparse_rate_reduction(Z, U, 1.0, 0.0)), 6)  # 2 log 2 - 2 log 1.5
    0.575364
    """
    z = as_tensor(Z, "Z", ndim=(2, 3), shape="(N, p) or (B, N, p)")
    u = _check_u(z, U)
    l1 = z.abs().sum((-1, -2)) / z.shape[-2]
    return _rate(z, float(eps)) - compression_rate(z, u, eps) - float(lam) * l1
