"""The two-layer ReLU CNN of the benign-overfitting papers (Cao et al. 2022; Kou et al. 2023)."""

from __future__ import annotations

import torch
from torch import nn

from ..core.params import Int, Positive, validate_params
from ..core.validate import check_int, check_positive, generator

__all__ = ["PatchCNN"]


class PatchCNN(nn.Module):
    r"""The two-layer ReLU CNN of the benign-overfitting papers, both layers trainable.

    .. math:: f(x) = \sum_{r=1}^{m} a_r \sum_{p=1}^{P} \mathrm{relu}\big(\langle w_r, x^{(p)}\rangle\big)

    for an input of ``P`` patches :math:`x^{(p)} \in \mathbb{R}^d` (the data of
    :func:`dlt.data.signal_noise_patches`). At initialization :math:`w_r \sim \mathcal N(0,
    \sigma_0^2 I)` and :math:`a_r = \pm 1/m` (half of the filters each sign), which is the
    network :math:`F_{+1} - F_{-1}` of Kou et al. (2023); here the second layer :math:`a` is
    trained too unless ``train_second_layer=False``.

    ``n_models`` independent networks live in one module (parameters of shape
    ``(n_models, m, d)`` and ``(n_models, m)``), so a grid of experiments trains in one
    :func:`dlt.train.fit` call: their losses add, their gradients do not mix.

    Parameters
    ----------
    dim : int
        Patch dimension ``d``.
    width : int
        Number of filters ``m`` (even, ``>= 2``).
    n_models : int
        Number of independent networks ``M >= 1``.
    init_std : float
        :math:`\sigma_0 > 0`.
    train_second_layer : bool
        Whether :math:`a` is a trainable parameter.
    seed : int or torch.Generator

    Notes
    -----
    Shapes: ``forward(x)`` with ``x`` of shape ``(n, P, d)`` (the same inputs for every model) or
    ``(n, M, P, d)`` (one data set per model) gives outputs of shape ``(n, M)``.

    References
    ----------
    Y. Cao, Z. Chen, M. Belkin, Q. Gu, NeurIPS 2022; Y. Kou, Z. Chen, Y. Chen, Q. Gu, ICML 2023.

    Examples
    --------
    >>> net = PatchCNN(16, width=8, n_models=3, seed=0)
    >>> net(torch.randn(5, 2, 16)).shape
    torch.Size([5, 3])
    """

    @validate_params({"dim": Int(1), "width": Int(2), "n_models": Int(1), "init_std": Positive()})
    def __init__(
        self,
        dim: int,
        width: int = 20,
        *,
        n_models: int = 1,
        init_std: float = 0.01,
        train_second_layer: bool = True,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.width = check_int(width, "width", minimum=2)
        if self.width % 2:
            raise ValueError(f"width must be even (half the filters of each sign), got {width}")
        self.n_models = check_int(n_models, "n_models", minimum=1)
        self.init_std = check_positive(init_std, "init_std")
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)
        w = self.init_std * torch.randn(
            self.n_models, self.width, self.dim, generator=g, dtype=torch.float64
        )
        signs = torch.ones(self.width, dtype=torch.float64)
        signs[self.width // 2 :] = -1.0
        a = (signs / self.width).expand(self.n_models, self.width).clone()
        self.W = nn.Parameter(w.to(dtype=dtype, device=device))
        self.a = nn.Parameter(
            a.to(dtype=dtype, device=device), requires_grad=bool(train_second_layer)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4) or x.shape[-1] != self.dim:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"x must have shape (n, P, {self.dim}) or (n, M, P, {self.dim}), got {shape}"
            )
        if x.ndim == 3:
            pre = torch.einsum("npd,mrd->nmrp", x, self.W)
        else:
            if x.shape[1] != self.n_models:
                raise ValueError(
                    f"x must have n_models={self.n_models} in dimension 1, got {x.shape[1]}"
                )
            pre = torch.einsum("nmpd,mrd->nmrp", x, self.W)
        return (torch.relu(pre).sum(-1) * self.a).sum(-1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, width={self.width}, n_models={self.n_models}, init_std={self.init_std:g}"
