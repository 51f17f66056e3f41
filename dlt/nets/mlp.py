r"""The fully connected network of the book, with its parameterization as data.

:class:`MLP` is the network of :mod:`dlt.kernels`; it names its own infinite-width kernels
(:meth:`MLP.nngp`, :meth:`MLP.ntk`), so the finite network and its limit sit side by side,
as in neural-tangents' ``(init_fn, apply_fn, kernel_fn)``. Its parameterization (standard,
NTK, mean field, muP) is a row of the table in :mod:`dlt.nets.parameterization`, exposed
per layer by :attr:`MLP.layers`: the forward pass, the per-layer learning rates
(:meth:`MLP.param_groups`) and the structured empirical NTK
(:func:`dlt.ntk.empirical_ntk`) all read that one view.

A layer with stored weight :math:`w`, bias :math:`b`, multipliers :math:`m_w, m_b` maps
:math:`a \mapsto z = m_w\, w\, a + m_b\, b`; hidden layers apply the activation
:math:`\phi` of the registry :mod:`dlt.core.activations` to :math:`z`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..core.activations import ACTIVATIONS, Activation, get_activation
from ..core.params import Choice, NonNegative, Positive, validate_params
from ..core.validate import as_matrix, check_int, generator
from .parameterization import PARAMETERIZATIONS, LayerScales, layer_scales

__all__ = ["MLP", "Layer", "Trace"]


@dataclass(frozen=True)
class Layer:
    """The public view of one dense layer of an :class:`MLP`.

    ``z = weight_multiplier * a @ weight.T + bias_multiplier * bias``, followed by
    ``activation`` (``None`` for the output layer).

    Examples
    --------
    >>> layer = MLP([2, 8, 1], seed=0).layers[0]
    >>> layer.preactivation(torch.ones(3, 2)).shape, layer.activation.name
    (torch.Size([3, 8]), 'relu')
    """

    weight: torch.Tensor
    bias: torch.Tensor | None
    scales: LayerScales
    activation: Activation | None

    @property
    def weight_multiplier(self) -> float:
        return self.scales.weight_multiplier

    @property
    def bias_multiplier(self) -> float:
        return self.scales.bias_multiplier

    def preactivation(self, a: torch.Tensor) -> torch.Tensor:
        """:math:`z = m_w\\, a w^\\top + m_b b` for inputs ``a`` of shape ``(..., n, fan_in)``."""
        z = self.scales.weight_multiplier * (a @ self.weight.transpose(-1, -2))
        if self.bias is not None:
            z = z + self.scales.bias_multiplier * self.bias.unsqueeze(-2)
        return z


@dataclass(frozen=True)
class Trace:
    """What one forward pass computed: each layer's input and pre-activation, and the output.

    Examples
    --------
    >>> trace = MLP([2, 8, 1], seed=0).forward_trace(torch.ones(3, 2))
    >>> [tuple(z.shape) for z in trace.preactivations], tuple(trace.output.shape)
    ([(3, 8), (3, 1)], (3, 1))
    """

    inputs: list[torch.Tensor]
    preactivations: list[torch.Tensor]
    output: torch.Tensor


class MLP(nn.Module):
    r"""A fully connected network with an explicit parameterization.

    Parameters
    ----------
    widths : sequence of int
        ``[d_in, n_1, ..., n_L, d_out]``: the input dimension, the widths of the ``L``
        hidden layers (``L = len(widths) - 2 >= 0``) and the output dimension.
    activation : str
        A name of the activation registry (``dlt.core.activations.ACTIVATIONS``):
        ``"relu"``, ``"erf"``, ``"tanh"``, ``"identity"``.
    parameterization : {"ntk", "standard", "mean_field", "mup"}
        A row of ``dlt.nets.PARAMETERIZATIONS``.
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
    >>> [round(layer.weight_multiplier, 3) for layer in net.layers]  # NTK: sigma_w / sqrt(fan_in)
    [0.577, 0.125]
    """

    @validate_params(
        {
            "activation": Choice(ACTIVATIONS),
            "parameterization": Choice(PARAMETERIZATIONS),
            "sigma_w": Positive(),
            "sigma_b": NonNegative(),
        }
    )
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
        self.scales = layer_scales(parameterization, list(widths), sigma_w, sigma_b)
        self.widths = [int(w) for w in widths]
        self.activation = get_activation(activation).name
        self.parameterization = parameterization
        self.sigma_w = float(sigma_w)
        self.sigma_b = float(sigma_b)
        self._phi = ACTIVATIONS[self.activation]
        dtype = dtype or torch.get_default_dtype()
        raw = self.sample_parameters(1, seed=seed, dtype=dtype, device=device)
        self.weights = nn.ParameterList([nn.Parameter(w[0]) for w in raw[0]])
        self.biases = nn.ParameterList([nn.Parameter(b[0]) for b in raw[1]]) if raw[1] else None

    @property
    def depth(self) -> int:
        """Number of hidden layers ``L``."""
        return len(self.widths) - 2

    @property
    def layers(self) -> list[Layer]:
        """The per-layer view: parameters, multipliers, lr scales and activation of each layer."""
        return self._layers(
            list(self.weights), list(self.biases) if self.biases is not None else None
        )

    def _layers(
        self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor] | None
    ) -> list[Layer]:
        last = len(weights) - 1
        return [
            Layer(w, biases[i] if biases else None, s, None if i == last else self._phi)
            for i, (w, s) in enumerate(zip(weights, self.scales, strict=True))
        ]

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
        for fan_in, fan_out, s in zip(self.widths[:-1], self.widths[1:], self.scales, strict=True):
            w = torch.randn(n_models, fan_out, fan_in, generator=g, dtype=dtype) * s.weight_std
            weights.append(w.to(device))
            if self.sigma_b > 0:
                b = torch.randn(n_models, fan_out, generator=g, dtype=dtype) * s.bias_std
                biases.append(b.to(device))
        return weights, biases

    def apply_params(
        self,
        weights: Sequence[torch.Tensor],
        biases: Sequence[torch.Tensor] | None,
        x: torch.Tensor,
    ) -> torch.Tensor:
        """The forward pass with given parameters; weights may carry leading ensemble dimensions.

        With weights of shape ``(M, n_out, n_in)`` and ``x`` of shape ``(n, d_in)`` the result
        has shape ``(M, n, d_out)``: the outputs of ``M`` networks at once.
        """
        h = x
        for layer in self._layers(weights, biases):
            h = layer.preactivation(h)
            if layer.activation is not None:
                h = layer.activation(h)
        return h

    def _check_x(self, x: object) -> torch.Tensor:
        x = as_matrix(x, "x")
        if x.shape[1] != self.widths[0]:
            raise ValueError(f"x must have shape (n, {self.widths[0]}), got {tuple(x.shape)}")
        p = self.weights[0]
        return x.to(dtype=p.dtype, device=p.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape ``(n, d_out)`` for inputs ``x`` of shape ``(n, d_in)``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.widths[0]:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, {self.widths[0]}), got {shape}")
        return self.apply_params(
            list(self.weights), list(self.biases) if self.biases is not None else None, x
        )

    def forward_trace(self, x: torch.Tensor) -> Trace:
        """One forward pass that keeps every layer's input and pre-activation (for the NTK).

        The pre-activations are differentiable with respect to themselves (each is made a
        leaf of the graph when it is not one already), so gradients of the output with
        respect to every pre-activation come from one backward pass.
        """
        x = self._check_x(x)
        weights = [w.detach() for w in self.weights]
        biases = [b.detach() for b in self.biases] if self.biases is not None else None
        inputs, pres = [], []
        h = x
        with torch.enable_grad():
            for layer in self._layers(weights, biases):
                inputs.append(h.detach())
                z = layer.preactivation(h)
                if not z.requires_grad:  # the first layer's pre-activation is a leaf
                    z.requires_grad_(True)
                pres.append(z)
                h = layer.activation(z) if layer.activation is not None else z
        return Trace(inputs, pres, h)

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """Optimizer parameter groups with the per-layer learning rates ``lr * lr_scale``.

        :func:`dlt.train.fit` uses them, so a ``mup`` or ``mean_field`` network trains with
        its own rates from one base ``lr``.
        """
        groups: list[dict[str, Any]] = []
        for layer in self.layers:
            groups.append({"params": [layer.weight], "lr": lr * layer.scales.weight_lr_scale})
            if layer.bias is not None:
                groups.append({"params": [layer.bias], "lr": lr * layer.scales.bias_lr_scale})
        return [g for g in groups if g["params"][0].requires_grad]

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

        Examples
        --------
        >>> MLP([2, 8, 1], seed=0).sample_outputs(torch.ones(3, 2), 5).shape
        torch.Size([5, 3, 1])
        """
        x = self._check_x(x)
        n_models = check_int(n_models, "n_models", minimum=1)
        chunk = check_int(chunk, "chunk", minimum=1)
        g = generator(seed)
        p = self.weights[0]
        out = []
        for start in range(0, n_models, chunk):
            m = min(chunk, n_models - start)
            w, b = self.sample_parameters(m, seed=g, dtype=p.dtype, device=p.device)
            out.append(self.apply_params(w, b, x))
        return torch.cat(out)

    @torch.no_grad()
    def readout_features(self, x: torch.Tensor) -> torch.Tensor:
        r"""The scaled inputs of the readout layer, :math:`\frac{\sigma_w}{\sqrt{n_L}}\phi(h^L(x))`.

        In the NTK and standard parameterizations the output is :math:`f(x) = \Phi(x) v +
        \sigma_b b` with :math:`v, b \sim \mathcal{N}(0, 1)` at initialization, where
        :math:`\Phi` is this feature map; see :meth:`empirical_nngp`.

        Returns
        -------
        Tensor of shape ``(n, n_L)`` (the input itself, scaled, when ``depth == 0``).
        """
        self._check_gaussian_readout()
        x = self._check_x(x)
        layers = self.layers
        h = x
        for layer in layers[:-1]:
            h = layer.activation(layer.preactivation(h))  # type: ignore[misc]
        s = layers[-1].scales
        return h * (s.weight_multiplier * s.weight_std)

    def empirical_nngp(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        r"""The output covariance given the hidden layers: :math:`\Phi(x_1)\Phi(x_2)^\top + \sigma_b^2`.

        This is the kernel of Bayesian linear regression on the network's last hidden layer
        with the readout's prior; it tends to :meth:`nngp` as the widths grow
        (Lee et al. 2018). Returned in float64, shape ``(n1, n2)``.

        Examples
        --------
        >>> net = MLP([2, 4096, 1], sigma_w=2 ** 0.5, seed=0)
        >>> x = torch.eye(2)
        >>> bool((net.empirical_nngp(x) - net.nngp(x)).abs().max() < 0.05)
        True
        """
        f1 = self.readout_features(x1).double()
        f2 = f1 if x2 is None else self.readout_features(x2).double()
        return f1 @ f2.T + self.sigma_b**2

    def nngp(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        """The infinite-width NNGP kernel of this architecture (:func:`dlt.kernels.nngp`)."""
        from ..theory.kernels import nngp

        self._check_kernel()
        self._check_gaussian_readout()
        return nngp(x1, x2, self.depth, self.sigma_w, self.sigma_b, activation=self.activation)

    def ntk(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        """The infinite-width NTK of this architecture (:func:`dlt.kernels.ntk`); NTK parameterization only."""
        from ..theory.kernels import ntk

        self._check_kernel()
        if self.parameterization != "ntk":
            raise ValueError(
                "parameterization must be 'ntk' for an infinite-width NTK: in the standard "
                "parameterization the tangent kernel grows with width, in mean field and muP "
                "it has no kernel limit"
            )
        return ntk(x1, x2, self.depth, self.sigma_w, self.sigma_b, activation=self.activation)

    def input_gradient_norm(self) -> float:
        r"""Expected :math:`\|J_x f\|_F^2` at initialization (ReLU; :func:`dlt.robustness.relu_input_gradient_norm`).

        The gains are fan-in times the variance of the effective weights (std times
        multiplier) of each layer of this parameterization.

        Examples
        --------
        >>> MLP([10, 512, 512, 1], parameterization="standard", sigma_w=2**0.5).input_gradient_norm()
        2.0
        """
        from ..theory.robustness import relu_input_gradient_norm

        if self.activation != "relu" or self.depth < 1:
            raise ValueError("the closed-form input-gradient norm is for ReLU and depth >= 1")
        gains = [
            f * (s.weight_std * s.weight_multiplier) ** 2
            for f, s in zip(self.widths[:-1], self.scales, strict=True)
        ]
        return round(float(relu_input_gradient_norm(gains, d_out=self.widths[-1])), 12)

    def _check_gaussian_readout(self) -> None:
        if self.parameterization not in ("ntk", "standard"):
            raise ValueError(
                f"parameterization must be 'ntk' or 'standard' for an NNGP limit, got "
                f"{self.parameterization!r}: its output at initialization vanishes as the width grows"
            )

    def _check_kernel(self) -> None:
        if not ACTIVATIONS[self.activation].has_kernel:
            get_activation(self.activation, kernel=True)
        if self.widths[-1] != 1:
            raise ValueError(
                f"the closed-form kernels are for one output (widths[-1] = 1), got {self.widths[-1]}"
            )

    def extra_repr(self) -> str:
        return (
            f"widths={self.widths}, activation={self.activation!r}, "
            f"parameterization={self.parameterization!r}, sigma_w={self.sigma_w:g}, sigma_b={self.sigma_b:g}"
        )
