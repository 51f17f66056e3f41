r"""The diagonal linear network :math:`f(x) = \langle u \odot u - v \odot v, x\rangle`."""

from __future__ import annotations

import torch
from torch import nn

from ..core.params import Int, Positive, validate_params
from ..core.validate import check_int, check_positive

__all__ = ["DiagonalNet"]


class DiagonalNet(nn.Module):
    r"""A depth-2 diagonal linear network started at :math:`u = v = \alpha\mathbf 1`.

    It computes :math:`f(x) = x^\top w` with :math:`w = u\odot u - v\odot v`, so
    :math:`w = 0` at initialization for every scale :math:`\alpha`. Trained by gradient
    flow on the squared loss to interpolation it returns the minimizer of the potential
    :func:`dlt.implicit_bias.diagonal_potential` (Woodworth et al. 2020): sparse as
    :math:`\alpha \to 0`, minimum-:math:`\ell_2` as :math:`\alpha \to \infty`.

    Parameters
    ----------
    dim : int
        Input dimension :math:`d \ge 1`.
    alpha : float
        Initialization scale :math:`\alpha > 0`.
    dtype : torch.dtype, optional

    References
    ----------
    Woodworth et al. (2020), Kernel and rich regimes in overparametrized models, COLT.

    Examples
    --------
    >>> net = DiagonalNet(3, alpha=0.1)
    >>> net(torch.ones(2, 3)).tolist(), net.w.tolist()
    ([0.0, 0.0], [0.0, 0.0, 0.0])
    """

    @validate_params({"dim": Int(1), "alpha": Positive()})
    def __init__(self, dim: int, alpha: float, *, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        dim = check_int(dim, "dim", minimum=1)
        self.alpha = check_positive(alpha, "alpha")
        dtype = dtype or torch.get_default_dtype()
        self.u = nn.Parameter(torch.full((dim,), self.alpha, dtype=dtype))
        self.v = nn.Parameter(torch.full((dim,), self.alpha, dtype=dtype))

    @property
    def w(self) -> torch.Tensor:
        """The linear predictor :math:`u\\odot u - v\\odot v` (detached)."""
        return (self.u * self.u - self.v * self.v).detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs :math:`x^\\top w` of shape (n,)."""
        return x @ (self.u * self.u - self.v * self.v)
