r"""Models built from a model: the linearized network and the output-scaled network of lazy training.

The linearized network (Lee et al. 2019, eq. 5) is the first-order Taylor model

.. math:: f^{\mathrm{lin}}(x; \theta) = f(x; \theta_0) + J_{\theta_0}(x)\,(\theta - \theta_0).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, jvp

from ..core.modules import trainable_parameters
from ..core.params import Model, Positive, validate_params
from ..core.validate import check_positive

__all__ = ["Linearized", "linearize", "OutputScaled"]


class Linearized(nn.Module):
    r"""A network replaced by its first-order Taylor model around :math:`\theta_0`.

    :math:`f^{\mathrm{lin}}(x;\theta) = f(x;\theta_0) + J_{\theta_0}(x)(\theta - \theta_0)`,
    evaluated with one Jacobian-vector product (``torch.func.jvp``) per call. Its
    parameters start at :math:`\theta_0` and can be trained like any module; the copy of
    the network it expands stays frozen.

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> lin = Linearized(MLP([2, 16, 1], seed=0))
    >>> sum(p.numel() for p in lin.parameters() if p.requires_grad)  # 32 + 16: theta, once
    48
    """

    @validate_params({"model": Model()})
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        params = trainable_parameters(model)
        self._base = copy.deepcopy(model).requires_grad_(False)
        self._names = list(params)
        for p in self._base.parameters():
            p.requires_grad_(False)
        self.theta0 = {k: v.clone() for k, v in params.items()}
        self.params = nn.ParameterList([nn.Parameter(v.clone()) for v in params.values()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = self._base
        theta0 = {k: v.to(x.device) for k, v in self.theta0.items()}
        delta = {k: p - theta0[k] for k, p in zip(self._names, self.params, strict=True)}

        def f(p: dict[str, torch.Tensor]) -> torch.Tensor:
            return functional_call(base, p, (x,))

        f0, df = jvp(f, (theta0,), (delta,))[:2]
        return f0 + df


@validate_params({"model": Model()})
def linearize(model: nn.Module) -> Linearized:
    """The linearized network of ``model`` around its current parameters (see :class:`Linearized`).

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> net = MLP([2, 16, 1], seed=0)
    >>> x = torch.randn(3, 2)
    >>> torch.allclose(linearize(net)(x), net(x))
    True
    """
    return Linearized(model)


class OutputScaled(nn.Module):
    r"""The centred, rescaled model of Chizat, Oyallon and Bach (2019).

    .. math:: f_\alpha(x; \theta) = \alpha\,\big(f(x;\theta) - f(x;\theta_0)\big)

    Training :math:`f_\alpha` on the squared loss with learning rate :math:`\eta/\alpha^2`
    follows, in the linear regime, the same function-space path for every :math:`\alpha`
    (its tangent kernel is :math:`\alpha^2\Theta`), while the parameters move
    :math:`\alpha` times less: large :math:`\alpha` is lazy, small :math:`\alpha` is not.
    The subtracted :math:`f(x;\theta_0)` comes from a frozen copy of the initial model.

    Parameters
    ----------
    model : nn.Module
        The network; its parameters are trained in place.
    alpha : float
        Output scale :math:`\alpha > 0`.

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> f = OutputScaled(MLP([2, 16, 1], seed=0), alpha=10.0)
    >>> f(torch.ones(3, 2)).abs().max().item()  # centred: zero at initialization
    0.0
    """

    @validate_params({"model": Model(), "alpha": Positive()})
    def __init__(self, model: nn.Module, alpha: float) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.alpha = check_positive(alpha, "alpha")
        self.model = model
        self._initial = copy.deepcopy(model).requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            f0 = self._initial(x)
        return self.alpha * (self.model(x) - f0)
