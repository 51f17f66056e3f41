r"""Linear stability of gradient descent and of batch-1 SGD at an interpolating minimum.

Near a minimum :math:`\theta^*` of the squared loss
:math:`L(\theta) = \frac{1}{2n}\sum_i (f(x_i;\theta) - y_i)^2` that fits every sample, the
per-sample Hessians are :math:`H_i = g_i g_i^\top` with :math:`g_i = \nabla_\theta f(x_i;
\theta^*)`, and :math:`H = \frac1n\sum_i H_i = G^\top G/n` for the Jacobian :math:`G` whose
rows are the :math:`g_i`. Linearized at :math:`\theta^*`, gradient descent is
:math:`\delta_{t+1} = (I - \eta H)\delta_t` and SGD with batch size 1 is
:math:`\delta_{t+1} = (I - \eta H_{i_t})\delta_t` with :math:`i_t` uniform. GD is stable iff
:math:`\eta\lambda_{\max}(H) \le 2`; SGD is stable in mean square (Wu, Ma and E 2018) iff the
spectral radius of :math:`S \mapsto \frac1n\sum_i (I - \eta H_i) S (I - \eta H_i)` is at
most 1, which this module computes exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..core.params import Matrix, Positive, validate_params
from ..core.validate import as_matrix, check_fraction, check_positive, check_square

__all__ = [
    "StabilityThresholds",
    "kernel_stable_lr",
    "sgd_mean_square_rate",
    "stability_thresholds",
]


def _reduced(G: torch.Tensor) -> torch.Tensor:
    """The rows g_i in coordinates of the row space of G: (n, r), r = rank G."""
    _, s, vh = torch.linalg.svd(G, full_matrices=False)
    keep = s > s[0] * max(G.shape) * torch.finfo(G.dtype).eps
    return G @ vh[keep].T


def _rate(Gr: torch.Tensor, lr: float) -> float:
    n, r = Gr.shape
    eye = torch.eye(r, dtype=Gr.dtype, device=Gr.device)
    M = eye - lr * Gr[:, :, None] * Gr[:, None, :]  # (n, r, r): I - eta g_i g_i^T
    A = torch.einsum("iab,icd->acbd", M, M).reshape(r * r, r * r) / n
    return float(torch.linalg.eigvalsh(A).abs().max())


@validate_params({"G": Matrix(), "lr": Positive()})
def sgd_mean_square_rate(G: torch.Tensor, lr: float) -> float:
    r"""Per-step growth factor of :math:`\mathbb E\|\delta_t\|^2` for linearized batch-1 SGD.

    The spectral radius :math:`\rho` of the second-moment map

    .. math:: S \mapsto \frac1n\sum_{i=1}^n (I - \eta g_i g_i^\top)\, S\, (I - \eta g_i g_i^\top),

    i.e. of the matrix :math:`\frac1n\sum_i M_i\otimes M_i`, :math:`M_i = I - \eta g_i g_i^\top`,
    written in the row space of :math:`G` (the null space of :math:`G` does not move). The
    minimum is linearly stable for SGD in mean square iff :math:`\rho \le 1`. Cost
    :math:`O(r^6)` for :math:`r = \operatorname{rank} G \le n`: meant for small :math:`n`.

    Parameters
    ----------
    G : Tensor of shape (n, P)
        Rows :math:`g_i = \nabla_\theta f(x_i;\theta^*)` (e.g. :func:`dlt.curvature.output_jacobian`).
    lr : float
        Learning rate :math:`\eta > 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``G`` is not a finite non-zero matrix or ``lr <= 0``.

    References
    ----------
    Wu, Ma and E (2018), How SGD selects the global minima in over-parameterized learning:
    a dynamical stability perspective, NeurIPS.

    Examples
    --------
    >>> G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # each step zeroes one coordinate
    >>> round(sgd_mean_square_rate(G, 1.0), 6)  # E delta_1^2 halves per step
    0.5
    """
    g = as_matrix(G, "G")
    lr = check_positive(lr, "lr")
    if not bool((g != 0).any()):
        raise ValueError("G must have a non-zero entry")
    return _rate(_reduced(g), lr)


class StabilityThresholds(NamedTuple):
    r"""Largest stable learning rates at an interpolating minimum of the squared loss.

    ``gd`` :math:`= 2/\lambda_{\max}(H)` (gradient descent); ``sgd``: the exact mean-square
    threshold of batch-1 SGD; ``trace`` :math:`= 2/\operatorname{tr} H`; ``per_sample``
    :math:`= 2/\max_i\|g_i\|^2`. Always ``per_sample <= sgd <= trace <= gd``.

    Examples
    --------
    >>> StabilityThresholds(2.0, 1.0, 1.0, 0.5).gd
    2.0
    """

    gd: float
    sgd: float
    trace: float
    per_sample: float


@validate_params({"G": Matrix(), "rtol": Positive()})
def stability_thresholds(G: torch.Tensor, *, rtol: float = 1e-6) -> StabilityThresholds:
    r"""The GD and batch-1 SGD stability thresholds of a minimum, with the trace bound.

    With :math:`H = G^\top G/n`: gradient descent is linearly stable iff
    :math:`\eta \le 2/\lambda_{\max}(H)`. Batch-1 SGD is stable in mean square iff
    :math:`\eta \le \eta^*_{\mathrm{SGD}}`, found by bisection on
    :func:`sgd_mean_square_rate`, and

    .. math:: \frac{2}{\max_i \|g_i\|^2} \;\le\; \eta^*_{\mathrm{SGD}} \;\le\;
              \frac{2}{\operatorname{tr} H} \;\le\; \frac{2}{\lambda_{\max}(H)}.

    The left inequality holds because :math:`\mathbb E\|\delta_{t+1}\|^2 = \|\delta_t\|^2 -
    \frac\eta n\sum_i (2 - \eta\|g_i\|^2)(g_i^\top\delta_t)^2`; the middle one is the
    trace condition of Wu and Su (2023); the right one is :math:`\lambda_{\max} \le
    \operatorname{tr}` for a positive semi-definite :math:`H`.

    Parameters
    ----------
    G : Tensor of shape (n, P)
        Per-sample gradients of the model's output at the minimum.
    rtol : float
        Relative accuracy of the bisection (> 0).

    Returns
    -------
    StabilityThresholds

    Raises
    ------
    ValueError
        If ``G`` is not a finite non-zero matrix or ``rtol <= 0``.

    References
    ----------
    Wu, Ma and E (2018), NeurIPS; Wu and Su (2023), The implicit regularization of
    dynamical stability in stochastic gradient descent, ICML.

    Examples
    --------
    >>> G = torch.tensor([[1.0, 1.0], [1.0, 1.0]])  # two copies of one sample
    >>> t = stability_thresholds(G)  # SGD = GD here: every step is the full step
    >>> round(t.gd, 4), round(t.sgd, 4), round(t.trace, 4), round(t.per_sample, 4)
    (1.0, 1.0, 1.0, 1.0)
    """
    g = as_matrix(G, "G", dtype=torch.float64)  # float32 rounding would blur rate = 1
    rtol = check_positive(rtol, "rtol")
    if not bool((g != 0).any()):
        raise ValueError("G must have a non-zero entry")
    n = g.shape[0]
    norms = (g**2).sum(1)
    H = g.T @ g / n if g.shape[1] <= n else None
    lmax = (
        float(torch.linalg.eigvalsh(H)[-1])
        if H is not None
        else float(torch.linalg.eigvalsh(g @ g.T / n)[-1])
    )
    gd, trace, per_sample = 2 / lmax, 2 / float(norms.mean()), 2 / float(norms.max())
    Gr = _reduced(g)
    # The threshold cannot pass the trace bound: where the rate just past it is 1 to rounding
    # (equal sample norms), the bisection climbs to hi and the answer is capped at the bound.
    lo, hi = per_sample, trace * (1 + 1e-9)
    while hi - lo > rtol * lo:
        mid = 0.5 * (lo + hi)
        if _rate(Gr, mid) <= 1 + 1e-12:
            lo = mid
        else:
            hi = mid
    return StabilityThresholds(gd, min(0.5 * (lo + hi), trace), trace, per_sample)


def kernel_stable_lr(theta: torch.Tensor, fraction: float = 0.5) -> float:
    r"""A fraction of the largest stable learning rate of gradient descent in a kernel.

    For the squared loss :math:`\frac{1}{2n}\sum_i (f(x_i) - y_i)^2` and a fixed tangent kernel
    :math:`\Theta` on the :math:`n` training inputs, one step of gradient descent moves the
    training outputs by :math:`f \leftarrow f - \frac{\eta}{n}\Theta(f - y)`, so the residual
    shrinks in every eigendirection iff :math:`\eta < 2n/\lambda_{\max}(\Theta)` (Jacot et al.
    2018; Lee et al. 2019). This returns :math:`\text{fraction}\cdot 2n/\lambda_{\max}(\Theta)`;
    the default, half the largest stable step, :math:`\eta = n/\lambda_{\max}(\Theta)`, is the
    step the book's kernel-regime experiments use.

    Parameters
    ----------
    theta : Tensor (n, n)
        A symmetric positive semi-definite kernel matrix on the training inputs, not zero.
    fraction : float
        In (0, 1].

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``theta`` is not a finite square matrix or has no positive eigenvalue, or
        ``fraction`` is out of range.

    References
    ----------
    Jacot, Gabriel and Hongler (2018), Neural tangent kernel, NeurIPS; Lee et al. (2019), Wide
    neural networks of any depth evolve as linear models under gradient descent, NeurIPS.

    Examples
    --------
    >>> kernel_stable_lr(torch.diag(torch.tensor([4.0, 1.0])))  # n / lambda_max = 2 / 4
    0.5
    """
    k = check_square(theta, "theta")
    fraction = check_fraction(fraction, "fraction", low_open=True)
    top = float(torch.linalg.eigvalsh((k + k.T) / 2)[-1])
    if not top > 0:
        raise ValueError(f"theta must have a positive eigenvalue, got largest {top:.3g}")
    return fraction * 2 * k.shape[0] / top
