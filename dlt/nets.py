r"""Small networks with explicit parameterizations.

:class:`MLP` is the fully connected network of :mod:`dlt.kernels`; it names its own
infinite-width kernels (:meth:`MLP.nngp`, :meth:`MLP.ntk`), so the finite network and
its limit sit side by side, as in neural-tangents' ``(init_fn, apply_fn, kernel_fn)``.

Parameterizations (for a layer with fan-in :math:`n`, weight and bias scales
:math:`\sigma_w, \sigma_b`):

``"ntk"``
    parameters :math:`W_{ij}, b_i \sim \mathcal{N}(0, 1)`, forward
    :math:`h = \frac{\sigma_w}{\sqrt{n}} W x + \sigma_b b` (Jacot et al. 2018).
``"standard"``
    parameters :math:`W_{ij} \sim \mathcal{N}(0, \sigma_w^2/n)`, :math:`b_i \sim
    \mathcal{N}(0, \sigma_b^2)`, forward :math:`h = W x + b`.

Both give the same function at initialization (hence the same NNGP kernel); they differ in
how gradient descent moves the parameters, which is what the NTK records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._validate import as_matrix, check_choice, check_int, check_nonnegative, check_positive, generator

__all__ = ["ACTIVATIONS", "MLP", "PatchCNN"]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "erf": torch.erf,
    "tanh": torch.tanh,
    "identity": lambda x: x,
}
PARAMETERIZATIONS = ("ntk", "standard")


class MLP(nn.Module):
    r"""A fully connected network with an explicit parameterization.

    Parameters
    ----------
    widths : sequence of int
        ``[d_in, n_1, ..., n_L, d_out]``: the input dimension, the widths of the ``L``
        hidden layers (``L = len(widths) - 2 >= 0``) and the output dimension.
    activation : {"relu", "erf", "tanh", "identity"}
    parameterization : {"ntk", "standard"}
        See the module docstring.
    sigma_w : float
        Weight scale :math:`\sigma_w > 0`.
    sigma_b : float
        Bias scale :math:`\sigma_b \ge 0`; with ``sigma_b = 0`` the network has no biases.
    seed : int or torch.Generator, optional
        Seed of the initialization (default: the global torch generator).
    dtype, device : optional
        Of the parameters.

    Examples
    --------
    >>> net = MLP([3, 64, 1], seed=0)
    >>> net(torch.randn(5, 3)).shape
    torch.Size([5, 1])
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "relu",
        parameterization: str = "ntk",
        sigma_w: float = 1.0,
        sigma_b: float = 0.0,
        *,
        seed: int | torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(widths, int | str) or len(widths) < 2:
            raise ValueError(f"widths must be a sequence [d_in, ..., d_out] of length >= 2, got {widths!r}")
        self.widths = [check_int(w, f"widths[{i}]", minimum=1) for i, w in enumerate(widths)]
        self.activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
        self.parameterization = check_choice(parameterization, "parameterization", PARAMETERIZATIONS)
        self.sigma_w = check_positive(sigma_w, "sigma_w")
        self.sigma_b = check_nonnegative(sigma_b, "sigma_b")
        self._phi = ACTIVATIONS[self.activation]
        dtype = dtype or torch.get_default_dtype()
        raw = self.sample_parameters(1, seed=seed, dtype=dtype, device=device)
        self.weights = nn.ParameterList([nn.Parameter(w[0]) for w in raw[0]])
        self.biases = nn.ParameterList([nn.Parameter(b[0]) for b in raw[1]]) if raw[1] else None

    @property
    def depth(self) -> int:
        """Number of hidden layers ``L``."""
        return len(self.widths) - 2

    def _scales(self, fan_in: int) -> tuple[float, float]:
        """(init std, forward multiplier) of the weights and of the biases of one layer."""
        if self.parameterization == "ntk":
            return 1.0, 1.0
        return self.sigma_w / math.sqrt(fan_in), self.sigma_b

    def _multipliers(self, fan_in: int) -> tuple[float, float]:
        if self.parameterization == "ntk":
            return self.sigma_w / math.sqrt(fan_in), self.sigma_b
        return 1.0, 1.0

    def sample_parameters(
        self,
        n_models: int,
        *,
        seed: int | torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Draw the parameters of ``n_models`` independent networks of this architecture.

        Returns
        -------
        weights : list of Tensors of shape ``(n_models, n_out, n_in)``
        biases : list of Tensors of shape ``(n_models, n_out)`` (empty without biases)
        """
        n_models = check_int(n_models, "n_models", minimum=1)
        g = generator(seed) if seed is not None else None
        dtype = dtype or torch.get_default_dtype()
        weights, biases = [], []
        for fan_in, fan_out in zip(self.widths[:-1], self.widths[1:], strict=True):
            std_w, std_b = self._scales(fan_in)
            w = torch.randn(n_models, fan_out, fan_in, generator=g, dtype=dtype) * std_w
            weights.append(w.to(device))
            if self.sigma_b > 0:
                biases.append((torch.randn(n_models, fan_out, generator=g, dtype=dtype) * std_b).to(device))
        return weights, biases

    def apply_params(
        self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor] | None, x: torch.Tensor
    ) -> torch.Tensor:
        """The forward pass with given parameters; weights may carry leading ensemble dimensions.

        With weights of shape ``(M, n_out, n_in)`` and ``x`` of shape ``(n, d_in)`` the result
        has shape ``(M, n, d_out)``: the outputs of ``M`` networks at once.
        """
        h = x
        last = len(weights) - 1
        for i, w in enumerate(weights):
            mw, mb = self._multipliers(w.shape[-1])
            h = mw * (h @ w.transpose(-1, -2))
            if biases:
                h = h + mb * biases[i].unsqueeze(-2)
            if i < last:
                h = self._phi(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape ``(n, d_out)`` for inputs ``x`` of shape ``(n, d_in)``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.widths[0]:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, {self.widths[0]}), got {shape}")
        return self.apply_params(list(self.weights), list(self.biases) if self.biases is not None else None, x)

    @torch.no_grad()
    def sample_outputs(
        self,
        x: torch.Tensor,
        n_models: int,
        *,
        seed: int | torch.Generator | None = 0,
        chunk: int = 1024,
    ) -> torch.Tensor:
        """Outputs at ``x`` of ``n_models`` freshly initialized networks of this architecture.

        Vectorised over networks in chunks of ``chunk`` (memory grows like
        ``chunk * max_width**2``).

        Returns
        -------
        Tensor of shape ``(n_models, n, d_out)``.
        """
        x = as_matrix(x, "x")
        if x.shape[1] != self.widths[0]:
            raise ValueError(f"x must have shape (n, {self.widths[0]}), got {tuple(x.shape)}")
        n_models = check_int(n_models, "n_models", minimum=1)
        chunk = check_int(chunk, "chunk", minimum=1)
        g = generator(seed)
        p = self.weights[0]
        x = x.to(dtype=p.dtype, device=p.device)
        out = []
        for start in range(0, n_models, chunk):
            m = min(chunk, n_models - start)
            w, b = self.sample_parameters(m, seed=g, dtype=p.dtype, device=p.device)
            out.append(self.apply_params(w, b, x))
        return torch.cat(out)

    @torch.no_grad()
    def readout_features(self, x: torch.Tensor) -> torch.Tensor:
        r"""The scaled inputs of the readout layer, :math:`\frac{\sigma_w}{\sqrt{n_L}}\phi(h^L(x))`.

        In both parameterizations the output is :math:`f(x) = \Phi(x) v + \sigma_b b` with
        :math:`v, b \sim \mathcal{N}(0, 1)` at initialization, where :math:`\Phi` is this
        feature map; see :meth:`empirical_nngp`.

        Returns
        -------
        Tensor of shape ``(n, n_L)`` (the input itself, scaled, when ``depth == 0``).
        """
        x = as_matrix(x, "x").to(dtype=self.weights[0].dtype, device=self.weights[0].device)
        if x.shape[1] != self.widths[0]:
            raise ValueError(f"x must have shape (n, {self.widths[0]}), got {tuple(x.shape)}")
        weights = list(self.weights)[:-1]
        biases = list(self.biases)[:-1] if self.biases is not None else None
        h = self._phi(self.apply_params(weights, biases, x)) if weights else x
        return h * (self.sigma_w / math.sqrt(h.shape[1]))

    def empirical_nngp(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        r"""The output covariance given the hidden layers: :math:`\Phi(x_1)\Phi(x_2)^\top + \sigma_b^2`.

        This is the kernel of Bayesian linear regression on the network's last hidden layer
        with the readout's prior; it tends to :meth:`nngp` as the widths grow
        (Lee et al. 2018). Returned in float64, shape ``(n1, n2)``.
        """
        f1 = self.readout_features(x1).double()
        f2 = f1 if x2 is None else self.readout_features(x2).double()
        return f1 @ f2.T + self.sigma_b**2

    def nngp(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        """The infinite-width NNGP kernel of this architecture (:func:`dlt.kernels.nngp`)."""
        from . import kernels

        self._check_kernel()
        return kernels.nngp(x1, x2, self.depth, self.sigma_w, self.sigma_b, activation=self.activation)

    def ntk(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        """The infinite-width NTK of this architecture (:func:`dlt.kernels.ntk`); NTK parameterization only."""
        from . import kernels

        self._check_kernel()
        if self.parameterization != "ntk":
            raise ValueError(
                "parameterization must be 'ntk' for an infinite-width NTK: in the standard "
                "parameterization the tangent kernel grows with width"
            )
        return kernels.ntk(x1, x2, self.depth, self.sigma_w, self.sigma_b, activation=self.activation)

    def _check_kernel(self) -> None:
        if self.activation not in ("relu", "erf"):
            raise ValueError(f"activation must be 'relu' or 'erf' for a closed-form kernel, got {self.activation!r}")
        if self.widths[-1] != 1:
            raise ValueError(f"the closed-form kernels are for one output (widths[-1] = 1), got {self.widths[-1]}")

    def extra_repr(self) -> str:
        return (
            f"widths={self.widths}, activation={self.activation!r}, "
            f"parameterization={self.parameterization!r}, sigma_w={self.sigma_w:g}, sigma_b={self.sigma_b:g}"
        )


# ---- Part III: benign overfitting ----


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
        w = self.init_std * torch.randn(self.n_models, self.width, self.dim, generator=g, dtype=torch.float64)
        signs = torch.ones(self.width, dtype=torch.float64)
        signs[self.width // 2 :] = -1.0
        a = (signs / self.width).expand(self.n_models, self.width).clone()
        self.W = nn.Parameter(w.to(dtype=dtype, device=device))
        self.a = nn.Parameter(a.to(dtype=dtype, device=device), requires_grad=bool(train_second_layer))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4) or x.shape[-1] != self.dim:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, P, {self.dim}) or (n, M, P, {self.dim}), got {shape}")
        if x.ndim == 3:
            pre = torch.einsum("npd,mrd->nmrp", x, self.W)
        else:
            if x.shape[1] != self.n_models:
                raise ValueError(f"x must have n_models={self.n_models} in dimension 1, got {x.shape[1]}")
            pre = torch.einsum("nmpd,mrd->nmrp", x, self.W)
        return (torch.relu(pre).sum(-1) * self.a).sum(-1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, width={self.width}, n_models={self.n_models}, init_std={self.init_std:g}"
