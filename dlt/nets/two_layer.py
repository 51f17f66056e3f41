r"""The two-layer network of Du et al. (2019): the first layer trained, the readout fixed to ±1.

.. math:: f(x) = \frac{1}{\sqrt m}\sum_{r=1}^{m} a_r\,\phi(w_r^\top x),
          \qquad w_r \sim \mathcal N(0, I_d),\ a_r \sim \mathrm{Unif}\{-1, +1\},

with only :math:`W = (w_1, \dots, w_m)` trainable. Its Gram matrix
:math:`H(W)_{ij} = \langle \partial f(x_i)/\partial W, \partial f(x_j)/\partial W\rangle`
is :meth:`FixedReadoutNet.gram`; for ReLU it tends to :func:`dlt.convergence.h_infinity`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..core.activations import ACTIVATIONS, get_activation
from ..core.params import Choice, Int, validate_params
from ..core.validate import as_matrix, check_int, generator

__all__ = ["FixedReadoutNet"]


class FixedReadoutNet(nn.Module):
    r"""Du et al.'s two-layer network :math:`f(x) = m^{-1/2}\sum_r a_r\phi(w_r^\top x)`, readout fixed.

    The first layer is an ``nn.Linear(in_features, width, bias=False)`` (``self.hidden``)
    with standard Gaussian weights; the readout :math:`a \in \{-1, +1\}^m` is a buffer, so
    :func:`dlt.train.fit` trains :math:`W` alone and :func:`dlt.ntk.empirical_ntk` gives
    :math:`H(W)`.

    Parameters
    ----------
    in_features : int
        Input dimension :math:`d \ge 1`.
    width : int
        Number of hidden units :math:`m \ge 1`.
    activation : str
        A name of the activation registry (``"relu"`` in the paper).
    seed : int or torch.Generator, optional
    dtype : torch.dtype, optional

    References
    ----------
    Du, Zhai, Poczos and Singh (2019), Gradient descent provably optimizes
    over-parameterized neural networks, ICLR, section 3.

    Examples
    --------
    >>> net = FixedReadoutNet(3, 64, seed=0)
    >>> net(torch.randn(5, 3)).shape, [n for n, _ in net.named_parameters()]
    (torch.Size([5, 1]), ['hidden.weight'])
    """

    @validate_params({"in_features": Int(1), "width": Int(1), "activation": Choice(ACTIVATIONS)})
    def __init__(
        self,
        in_features: int,
        width: int,
        activation: str = "relu",
        *,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.width = check_int(width, "width", minimum=1)
        self.phi = get_activation(activation)
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)
        w = torch.randn(self.width, self.in_features, generator=g, dtype=torch.float64)
        a = 2.0 * torch.randint(0, 2, (self.width,), generator=g) - 1.0
        self.hidden = nn.Linear(self.in_features, self.width, bias=False, dtype=dtype)
        with torch.no_grad():
            self.hidden.weight.copy_(w.to(dtype))
        self.readout: torch.Tensor
        self.register_buffer("readout", a.to(dtype))

    @property
    def weight(self) -> torch.Tensor:
        """The trainable first layer :math:`W`, shape ``(width, in_features)``."""
        return self.hidden.weight

    def _check_x(self, x: object) -> torch.Tensor:
        x = as_matrix(x, "x")
        if x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (n, {self.in_features}), got {tuple(x.shape)}")
        return x.to(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape ``(n, 1)`` for inputs of shape ``(n, in_features)``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.in_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, {self.in_features}), got {shape}")
        return (self.phi(self.hidden(x)) @ self.readout)[:, None] / math.sqrt(self.width)

    @torch.no_grad()
    def gram(self, x: torch.Tensor) -> torch.Tensor:
        r"""The Gram matrix :math:`H(W)` at the current weights, in float64.

        .. math:: H_{ij} = \frac{x_i^\top x_j}{m}\sum_{r=1}^m \phi'(w_r^\top x_i)\,
                  \phi'(w_r^\top x_j)

        (:math:`a_r^2 = 1`); for ReLU, :math:`\phi' = \mathbb 1\{\cdot > 0\}` and
        :math:`H(W(0)) \to H^\infty` as :math:`m \to \infty`.

        Examples
        --------
        >>> x = torch.eye(2, dtype=torch.float64)
        >>> net = FixedReadoutNet(2, 20000, seed=0, dtype=torch.float64)
        >>> bool((net.gram(x) - 0.5 * torch.eye(2)).abs().max() < 0.02)
        True
        """
        x = self._check_x(x).double()
        s = self.phi.derivative(x @ self.weight.double().T)
        return (x @ x.T) * (s @ s.T) / self.width

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, width={self.width}, activation={self.phi.name!r}"
