"""What any kind may ask of a ``torch.nn.Module``: its trainable parameters, by name."""

from __future__ import annotations

import torch
from torch import nn

from .params import Model, validate_params

__all__ = ["trainable_parameters"]


@validate_params({"model": Model()})
def trainable_parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """The detached parameters of ``model`` that require grad, by name; raise if there are none.

    The one place where the measurements (empirical NTK, Hessians, curvature tracking) and the
    wrappers (the linearized network) read a model's parameters for ``torch.func.functional_call``.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict of str to Tensor
        ``{name: parameter.detach()}`` for every parameter with ``requires_grad``, in the order
        of ``model.named_parameters()``.

    Raises
    ------
    TypeError
        If ``model`` is not an ``nn.Module``.
    ValueError
        If no parameter of ``model`` requires grad (a frozen model has a zero tangent kernel
        and a zero Hessian, which is never what a caller means).

    Examples
    --------
    >>> list(trainable_parameters(nn.Linear(2, 1)))
    ['weight', 'bias']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    if not params:
        raise ValueError(
            "model has no trainable parameters (every parameter has requires_grad=False), "
            "so its tangent kernel and Hessian are zero"
        )
    return params
