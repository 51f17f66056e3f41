r"""Private: the structured empirical NTK of a chain of dense layers, without hooks or autograd.

A chain is a network that applies dense layers and pointwise activations one after the
other: an :class:`dlt.nets.MLP` (through its layer view) or an ``nn.Sequential`` of
``nn.Linear`` layers and the activations of ``POINTWISE``. For such a network the
factors of the structured NTK (:mod:`dlt.measure._structured`) follow from the chain rule by
hand. With :math:`z_\ell = m_\ell W_\ell a_\ell + b_\ell` and :math:`a_{\ell+1} =
\phi_\ell(z_\ell)`, the gradients of the :math:`k` outputs with respect to :math:`z_\ell` are

.. math::
    \delta_L = I_k,\qquad
    \delta_{\ell} = m_{\ell+1}\,(\delta_{\ell+1} W_{\ell+1}) \odot \phi_\ell'(z_\ell),

one matrix product per layer, and the layer's share of the kernel is
:math:`(\delta_\ell\delta_\ell'^\top) \odot (m_\ell^2\, a_\ell a_\ell'^\top + m_b^2)`. The
hook-based path records the same quantities through autograd; here the forward pass and the
backward recursion are a few PyTorch operations per layer, which for the 3 x 512 MLP of
``benchmarks/kernels_speed.py`` took its kernel from 2.1-2.3 ms to 1.9-2.0 ms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._structured import Factors

__all__: list[str] = []

#: The activation and its derivative at once, from the pre-activation ``z`` (which they may
#: overwrite): ``(phi(z), phi'(z))``, the derivative ``None`` when it is 1.
Pointwise = Callable[[nn.Module, torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _relu(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h = z.clamp_min_(0.0)
    return h, torch.sign(h)  # 1 where z > 0, else 0 (h >= 0)


def _leaky_relu(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    slope = float(m.negative_slope)  # type: ignore[arg-type]
    d = torch.full_like(z, slope).masked_fill_(z > 0, 1.0)  # the slope in z's precision
    return F.leaky_relu(z, slope), d


def _tanh(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h = torch.tanh(z)
    return h, torch.addcmul(torch.ones_like(h), h, h, value=-1.0)


def _sigmoid(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h = torch.sigmoid(z)
    return h, h * (1 - h)


def _gelu(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # GELU(z) = z Phi(z); its derivative Phi(z) + z phi(z) (the exact form, approximate="none")
    cdf = torch.erf(z * _SQRT_HALF).add_(1.0).mul_(0.5)
    pdf = torch.exp(-0.5 * z * z).mul_(_INV_SQRT_2PI)
    return z * cdf, cdf.addcmul_(z, pdf)


def _silu(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = torch.sigmoid(z)  # SiLU(z) = z s(z); derivative s (1 + z (1 - s))
    return z * s, s * (1 + z * (1 - s))


def _identity(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, None]:
    return z, None


def _flatten(m: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, None]:
    return z.flatten(1), None  # only before the first dense layer or on (n, d): no derivative


#: Pointwise modules a chain may hold, with their derivatives.
POINTWISE: dict[type, Pointwise] = {
    nn.ReLU: _relu,
    nn.LeakyReLU: _leaky_relu,
    nn.Tanh: _tanh,
    nn.Sigmoid: _sigmoid,
    nn.GELU: _gelu,
    nn.SiLU: _silu,
    nn.Identity: _identity,
}


def _registry(name: str) -> Pointwise:
    """The pointwise rule of an activation of dlt's registry (``MLP(activation=...)``)."""

    def rule(m: Any, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return m(z), m.derivative(z)

    known: dict[str, Pointwise] = {"relu": _relu, "identity": _identity, "tanh": _tanh}
    return known.get(name, rule)


class Dense:
    """One dense layer of a chain: ``z = m_w a W^T + m_b b``, and which parameters train."""

    __slots__ = ("weight", "bias", "m_w", "m_b", "train_w", "train_b")

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        m_w: float = 1.0,
        m_b: float = 1.0,
    ) -> None:
        self.weight, self.bias = weight.detach(), None if bias is None else bias.detach()
        self.m_w, self.m_b = m_w, m_b
        self.train_w = weight.requires_grad
        self.train_b = bias is not None and bias.requires_grad

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            z = a @ self.weight.T
            return z.mul_(self.m_w) if self.m_w != 1.0 else z
        return torch.addmm(self.bias, a, self.weight.T, beta=self.m_b, alpha=self.m_w)


#: A chain: dense layers and pointwise steps ``(rule, module)``, in the order they apply.
Chain = list["Dense | tuple[Pointwise, Any]"]


def _flat(seq: nn.Sequential) -> list[nn.Module]:
    """The modules of nested ``nn.Sequential`` in the order they apply, each use listed
    (``modules()`` would list a module used twice once)."""
    return [
        m for child in seq for m in (_flat(child) if isinstance(child, nn.Sequential) else [child])
    ]


def sequential_chain(model: nn.Module) -> Chain | None:
    """The chain of an ``nn.Sequential``, or None when the model is not one.

    Not a chain: a module other than ``nn.Linear``, ``POINTWISE``, ``nn.Flatten()`` and
    an inactive ``Dropout`` (nested ``nn.Sequential`` are read through), a dense layer used
    twice, GELU's tanh approximation, or a negative LeakyReLU slope.
    """
    if not isinstance(model, nn.Sequential):
        return None
    chain: Chain = []
    seen: set[int] = set()
    for m in _flat(model):
        if isinstance(m, nn.Dropout) and (not m.training or m.p == 0):
            continue
        if isinstance(m, nn.Linear):
            if id(m) in seen:
                return None
            seen.add(id(m))
            chain.append(Dense(m.weight, m.bias))
            continue
        if isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1:
            chain.append((_flatten, m))
            continue
        rule = POINTWISE.get(type(m))
        if (
            rule is None
            or any(True for _ in m.parameters(recurse=False))
            or (isinstance(m, nn.GELU) and m.approximate != "none")
            or (isinstance(m, nn.LeakyReLU) and m.negative_slope < 0)
        ):
            return None
        chain.append((rule, m))
    return chain if any(isinstance(s, Dense) for s in chain) else None


def reads(chain: Chain, ndim: int) -> bool:
    """Whether inputs with ``ndim`` dimensions reach every dense layer of ``chain`` as (n, d)
    (not as positions, which the hook-based path handles)."""
    for step in chain:
        if isinstance(step, Dense):
            return ndim == 2
        if step[0] is _flatten:
            ndim = min(ndim, 2)
    return False


def mlp_chain(model: Any) -> Chain:
    """The chain of a network with a layer view (:attr:`dlt.nets.MLP.layers`)."""
    chain: Chain = []
    for layer in model.layers:
        chain.append(
            Dense(layer.weight, layer.bias, layer.weight_multiplier, layer.bias_multiplier)
        )
        if layer.activation is not None:
            chain.append((_registry(layer.activation.name), layer.activation))
    return chain


def chain_factors(chain: Chain, x: torch.Tensor) -> list[Factors]:
    """Each dense layer's factors at inputs ``x`` of shape (n, d): forward, then backward by hand."""
    n = x.shape[0]
    inputs: list[torch.Tensor] = []  # each dense layer's input
    derivs: list[torch.Tensor | None] = []  # each step's phi'(z) (None: dense, or phi' = 1)
    h = x
    with torch.no_grad():
        for step in chain:
            if isinstance(step, Dense):
                inputs.append(h)
                h = step(h)
                derivs.append(None)
            else:  # a rule may overwrite its input: never the caller's x
                rule, module = step
                h, d = rule(module, h.clone() if h is x else h)
                derivs.append(d)
        k = h.shape[1]
        # The gradients of the k outputs with respect to the current point, (n, k, width);
        # None while they are the identity (above the last dense layer and its activations).
        delta: torch.Tensor | None = None
        owned = False  # delta is a fresh tensor (not a view of a weight): update it in place
        out: list[Factors] = []
        j = len(inputs)
        for step, d in zip(reversed(chain), reversed(derivs), strict=True):
            if isinstance(step, Dense):
                j -= 1
                dz = delta
                if dz is None:
                    dz = torch.eye(k, dtype=h.dtype, device=h.device).expand(n, k, k)
                a = inputs[j] if step.m_w == 1.0 else inputs[j] * step.m_w
                a = a if step.train_w else a[:, :0]
                out.append((a[:, None, None], dz[:, :, None, None], step.m_b**2 * step.train_b))
                if j == 0:
                    break
                w = step.weight
                if delta is None:
                    delta = w.expand(n, k, w.shape[1])
                    delta, owned = (delta * step.m_w, True) if step.m_w != 1.0 else (delta, False)
                else:  # one product of (n k) rows, not n products of k rows
                    delta = (delta.reshape(n * k, -1) @ w).reshape(n, k, -1)
                    delta, owned = delta.mul_(step.m_w) if step.m_w != 1.0 else delta, True
            elif d is not None:
                if delta is None:
                    delta, owned = torch.diag_embed(d), True
                else:
                    delta = delta.mul_(d.unsqueeze(1)) if owned else delta * d.unsqueeze(1)
                    owned = True
    return out[::-1]
