r"""Measurements behind the global-convergence results: NTK scores and activation flips.

:func:`ntk_scores` gives the extreme eigenvalues and the condition number of a model's
empirical NTK on a batch, the training-free score of NTK-based architecture search;
:func:`activation_flips` the fraction of ReLU activation patterns that training changed,
which Du et al. (2019) bound by :math:`O(1/\sqrt m)`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..core.params import Matrix, Model, Tensor, validate_params
from ..core.validate import as_matrix
from .ntk import empirical_ntk

__all__ = ["NTKScores", "ntk_scores", "activation_flips"]


class NTKScores(NamedTuple):
    """The spectrum summary of an empirical NTK Gram matrix: ``lambda_min``, ``lambda_max``
    and ``condition = lambda_max / lambda_min`` (``inf`` when ``lambda_min <= 0``).

    Examples
    --------
    >>> NTKScores(1.0, 4.0, 4.0).condition
    4.0
    """

    lambda_min: float
    lambda_max: float
    condition: float


@validate_params({"model": Model(), "x": Tensor(tuple(range(2, 9)), "(n, ...) with n >= 1")})
def ntk_scores(model: nn.Module, x: torch.Tensor, *, trace_outputs: bool = True) -> NTKScores:
    r"""The smallest and largest eigenvalues of the empirical NTK Gram matrix on a batch.

    .. math:: \hat\Theta = \sum_{p} J_p(X) J_p(X)^\top \in \mathbb R^{n\times n},\qquad
              \text{score} = \lambda_{\min}(\hat\Theta),\quad
              \kappa = \lambda_{\max}(\hat\Theta)/\lambda_{\min}(\hat\Theta),

    the sum running over the model's outputs :math:`p` (``trace_outputs=True``; with
    ``False`` the full :math:`nk \times nk` kernel of :math:`k` outputs is used). In the
    lazy regime gradient descent with step :math:`\eta` shrinks the residual along the
    slowest eigenvector by :math:`1 - \eta\lambda_{\min}` per step, so a larger
    :math:`\lambda_{\min}` means faster training at a fixed step, and Zhu et al. (2022) bound
    the generalization error of the trained network by a quantity that decreases with it:
    they rank architectures by it without training (TE-NAS, Chen et al. 2021, uses
    :math:`\kappa`).

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(n, ...)`` to ``(n, k)`` or ``(n,)``.
    x : Tensor of shape (n, ...)
        The batch.
    trace_outputs : bool
        Sum the kernel over the outputs (default) or use the full kernel.

    Returns
    -------
    NTKScores
        Computed in float64 from :func:`dlt.ntk.empirical_ntk`.

    Raises
    ------
    ValueError
        If ``x`` does not fit the model.

    References
    ----------
    Zhu, Liu, Chrysos and Cevher (2022), Generalization properties of NAS under activation
    and skip connection search, NeurIPS; Chen, Gong and Wang (2021), Neural architecture
    search on ImageNet in four GPU hours: a theoretically inspired perspective, ICLR.

    Examples
    --------
    >>> lin = nn.Linear(2, 1, bias=False)  # NTK = X X^T
    >>> s = ntk_scores(lin, torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> s.lambda_min, s.lambda_max, s.condition
    (1.0, 4.0, 4.0)
    """
    if not isinstance(trace_outputs, bool):
        raise TypeError(f"trace_outputs must be a bool, got {trace_outputs!r}")
    k = empirical_ntk(model, x, trace_outputs=trace_outputs).double()
    if k.ndim == 4:  # (n, n, k, k) -> (n k, n k)
        n, _, o, _ = k.shape
        k = k.permute(0, 2, 1, 3).reshape(n * o, n * o)
    ev = torch.linalg.eigvalsh((k + k.T) / 2)
    lo, hi = float(ev[0]), float(ev[-1])
    return NTKScores(lo, hi, hi / lo if lo > 0 else float("inf"))


@validate_params({"weight0": Matrix(), "weight": Matrix(), "x": Matrix()})
def activation_flips(weight0: object, weight: object, x: object) -> float:
    r"""The fraction of ReLU activation patterns that changed between two first layers.

    .. math:: \frac{1}{mn}\sum_{r=1}^{m}\sum_{i=1}^{n}
              \mathbb 1\bigl\{\mathbb 1\{w_r(0)^\top x_i > 0\} \ne
              \mathbb 1\{w_r^\top x_i > 0\}\bigr\}.

    Du et al. (2019) show that the weights of a wide two-layer network move by
    :math:`O(1/\sqrt m)` during training, so this fraction falls like :math:`m^{-1/2}`:
    the network stays close to its linearization.

    Parameters
    ----------
    weight0, weight : Tensor of shape (m, d)
        The first layer at initialization and after training.
    x : Tensor of shape (n, d)
        The inputs.

    Returns
    -------
    float
        In ``[0, 1]``.

    Raises
    ------
    ValueError
        If the shapes disagree.

    References
    ----------
    Du, Zhai, Poczos and Singh (2019), ICLR, Lemma 3.2 and its proof (the set of flipped
    patterns).

    Examples
    --------
    >>> w0 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> w = torch.tensor([[-1.0, 0.0], [0.0, 1.0]])  # the first unit flips on x = (1, 1)
    >>> activation_flips(w0, w, torch.tensor([[1.0, 1.0]]))
    0.5
    """
    w0 = as_matrix(weight0, "weight0")
    w = as_matrix(weight, "weight")
    xs = as_matrix(x, "x")
    if w.shape != w0.shape:
        raise ValueError(
            f"weight must have the shape of weight0 {tuple(w0.shape)}, got {tuple(w.shape)}"
        )
    if xs.shape[1] != w0.shape[1]:
        raise ValueError(f"x must have {w0.shape[1]} columns, got shape {tuple(xs.shape)}")
    dtype = torch.promote_types(torch.promote_types(w0.dtype, w.dtype), xs.dtype)
    xs = xs.to(dtype)
    before = xs @ w0.to(dtype).T > 0
    after = xs @ w.to(dtype).T > 0
    return float((before != after).double().mean())
