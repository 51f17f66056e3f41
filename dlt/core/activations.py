r"""The activation registry: each activation's function, derivative and Gaussian expectations.

One entry per activation, shared by the networks (:class:`dlt.nets.MLP`, random features)
and the infinite-width kernels (:mod:`dlt.kernels`): adding an activation here gives it to
both. An entry's ``gaussian`` maps the covariance of a centred Gaussian pair
:math:`(u, v)` to

.. math::
    \mathbb{E}[\phi(u)^2],\quad \mathbb{E}[\phi(v)^2],\quad
    \mathbb{E}[\phi(u)\phi(v)],\quad \mathbb{E}[\phi'(u)\phi'(v)],

the four numbers the NNGP and NTK recursions need (``None`` where no closed form is known,
for instance tanh).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch

__all__ = [
    "Activation",
    "GaussianExpectations",
    "ACTIVATIONS",
    "get_activation",
    "relu_expectations",
    "erf_expectations",
    "identity_expectations",
]

Fn = Callable[[torch.Tensor], torch.Tensor]


class GaussianExpectations(NamedTuple):
    """The four Gaussian expectations of an activation (diagonals, cross term, derivatives).

    Examples
    --------
    >>> one = torch.ones(1, dtype=torch.float64)
    >>> relu_expectations(one, one, one[:, None]).e12  # E[relu(u)^2] = 1/2 for u ~ N(0, 1)
    tensor([[0.5000]], dtype=torch.float64)
    """

    e11: torch.Tensor
    e22: torch.Tensor
    e12: torch.Tensor
    d12: torch.Tensor


Expectations = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], GaussianExpectations]


def relu_expectations(
    k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor
) -> GaussianExpectations:
    r"""Gaussian expectations of ReLU and its derivative (the arc-cosine kernels, Cho and Saul 2009).

    For :math:`(u, v)` centred Gaussian with variances ``k11``, ``k22`` and covariance
    ``k12``, and :math:`\theta = \arccos\big(k_{12} / \sqrt{k_{11} k_{22}}\big)`:

    .. math::
        \mathbb{E}[\mathrm{relu}(u)\,\mathrm{relu}(v)]
            = \frac{\sqrt{k_{11} k_{22}}}{2\pi}\big(\sin\theta + (\pi - \theta)\cos\theta\big),
        \qquad
        \mathbb{E}[\mathbf{1}_{u>0}\mathbf{1}_{v>0}] = \frac{\pi - \theta}{2\pi}.

    Parameters
    ----------
    k11 : Tensor of shape (n1,)
    k22 : Tensor of shape (n2,)
    k12 : Tensor of shape (n1, n2)

    Returns
    -------
    GaussianExpectations
        ``e11 = k11 / 2`` and ``e22 = k22 / 2`` (shapes (n1,), (n2,)); ``e12`` and ``d12`` of
        shape (n1, n2).

    References
    ----------
    Y. Cho and L. K. Saul, "Kernel methods for deep learning", NeurIPS 2009.

    Examples
    --------
    >>> one = torch.ones(1, dtype=torch.float64)
    >>> e = relu_expectations(one, one, torch.zeros(1, 1, dtype=torch.float64))
    >>> round(float(e.e12), 4), round(float(e.d12), 4)  # independent: (1/sqrt(2 pi))^2 and 1/4
    (0.1592, 0.25)
    """
    norms = torch.sqrt(k11[:, None] * k22[None, :])
    # A zero variance (a zero input without bias) has k12 = 0 too: cos 0/0 is taken as 0,
    # and e12 = 0 whatever it is.
    cos = torch.clamp(k12 / norms.clamp(min=torch.finfo(norms.dtype).tiny), -1.0, 1.0)
    theta = torch.arccos(cos)
    e12 = norms / (2 * math.pi) * (torch.sin(theta) + (math.pi - theta) * cos)
    d12 = (math.pi - theta) / (2 * math.pi)
    return GaussianExpectations(k11 / 2, k22 / 2, e12, d12)


def erf_expectations(
    k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor
) -> GaussianExpectations:
    r"""Gaussian expectations of erf and its derivative (Williams 1997).

    .. math::
        \mathbb{E}[\mathrm{erf}(u)\,\mathrm{erf}(v)]
            = \frac{2}{\pi}\arcsin\frac{2k_{12}}{\sqrt{(1+2k_{11})(1+2k_{22})}},
        \qquad
        \mathbb{E}[\mathrm{erf}'(u)\,\mathrm{erf}'(v)]
            = \frac{4}{\pi}\big((1+2k_{11})(1+2k_{22}) - 4k_{12}^2\big)^{-1/2}.

    Shapes as in :func:`relu_expectations`.

    References
    ----------
    C. K. I. Williams, "Computing with infinite networks", NeurIPS 1997.

    Examples
    --------
    >>> one = torch.ones(1, dtype=torch.float64)
    >>> e = erf_expectations(one, one, torch.zeros(1, 1, dtype=torch.float64))
    >>> float(e.e12), round(float(e.d12), 4)  # independent: 0 and (2/sqrt(3 pi))^2
    (0.0, 0.4244)
    """
    a1, a2 = 1 + 2 * k11, 1 + 2 * k22
    e11 = (2 / math.pi) * torch.arcsin(2 * k11 / a1)
    e22 = (2 / math.pi) * torch.arcsin(2 * k22 / a2)
    prod = a1[:, None] * a2[None, :]
    e12 = (2 / math.pi) * torch.arcsin(torch.clamp(2 * k12 / torch.sqrt(prod), -1.0, 1.0))
    d12 = (4 / math.pi) / torch.sqrt(torch.clamp(prod - 4 * k12**2, min=1e-300))
    return GaussianExpectations(e11, e22, e12, d12)


def identity_expectations(
    k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor
) -> GaussianExpectations:
    r"""Gaussian expectations of the identity: :math:`\mathbb{E}[uv] = k_{12}`, :math:`\phi' = 1`.

    Examples
    --------
    >>> k = torch.tensor([[0.3]], dtype=torch.float64)
    >>> identity_expectations(torch.ones(1), torch.ones(1), k).e12.item()
    0.3
    """
    return GaussianExpectations(k11, k22, k12, torch.ones_like(k12))


def _relu_derivative(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def _erf_derivative(x: torch.Tensor) -> torch.Tensor:
    return (2 / math.sqrt(math.pi)) * torch.exp(-x * x)


def _tanh_derivative(x: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(x) ** 2


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _one(x: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(x)


@dataclass(frozen=True)
class Activation:
    """One activation: its function, its derivative, and its Gaussian expectations (or None).

    Examples
    --------
    >>> relu = ACTIVATIONS["relu"]
    >>> relu.derivative(torch.tensor([-1.0, 2.0])), relu.has_kernel
    (tensor([0., 1.]), True)
    """

    name: str
    fn: Fn
    derivative: Fn
    gaussian: Expectations | None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    @property
    def has_kernel(self) -> bool:
        """Whether the infinite-width kernels have a closed form for this activation."""
        return self.gaussian is not None


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", torch.relu, _relu_derivative, relu_expectations),
    "erf": Activation("erf", torch.erf, _erf_derivative, erf_expectations),
    "tanh": Activation("tanh", torch.tanh, _tanh_derivative, None),
    "identity": Activation("identity", _identity, _one, identity_expectations),
}


def get_activation(name: str, *, kernel: bool = False) -> Activation:
    """The registry entry of ``name``; with ``kernel=True`` only activations with closed-form kernels.

    Raises
    ------
    ValueError
        If ``name`` is not registered (or has no closed-form kernel when one is required).

    Examples
    --------
    >>> get_activation("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    act = ACTIVATIONS[name]
    if kernel and not act.has_kernel:
        known = sorted(k for k, a in ACTIVATIONS.items() if a.has_kernel)
        raise ValueError(
            f"activation must be one of {known} for a closed-form kernel, got {name!r}"
        )
    return act
