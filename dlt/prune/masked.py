"""A model with masks on some of its parameters, whose pruned weights stay zero, and rewinding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from ..core.params import Model, validate_params

__all__ = ["MaskedModel", "rewind"]


class MaskedModel(nn.Module):
    r"""Wrap ``model`` so that its parameters named in ``masks`` act as :math:`m \odot w`.

    The forward pass calls ``model`` with every masked parameter :math:`w` replaced by
    :math:`m \odot w` (``torch.func.functional_call``), so a pruned weight contributes
    nothing and receives the gradient :math:`m \odot \partial L/\partial(m\odot w) = 0`.
    At construction the stored pruned entries are set to zero as well. Under SGD (with or
    without momentum), Adam and AdamW, an entry with zero value and only zero gradients is
    never moved, so the stored pruned weights stay exactly zero through
    :func:`dlt.train.fit`; and whatever an optimizer did to them, the weights the network
    uses (:meth:`masked_weights`) are exactly zero there. The wrapped model's own
    parameters are the trainable ones (``masked.model.<name>``); the masks are buffers.

    Parameters
    ----------
    model : nn.Module
        Any model.
    masks : mapping of str to Tensor
        Parameter name (as in ``model.named_parameters()``) to a mask of its shape, 1 or
        ``True`` where the weight is kept.

    Raises
    ------
    ValueError
        If a name is not a parameter of ``model``, or a mask's shape or values are wrong.

    References
    ----------
    Frankle and Carbin (2019), The lottery ticket hypothesis, ICLR (pruned weights are held
    at zero by a mask during retraining).

    Examples
    --------
    >>> lin = nn.Linear(2, 1, bias=False)
    >>> masked = MaskedModel(lin, {"weight": torch.tensor([[1, 0]])})
    >>> float(lin.weight[0, 1]), masked(torch.tensor([[1.0, 5.0]])).shape
    (0.0, torch.Size([1, 1]))
    """

    @validate_params({"model": Model()})
    def __init__(self, model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
        super().__init__()
        if not isinstance(masks, Mapping) or not masks:
            raise ValueError("masks must be a non-empty mapping of parameter names to masks")
        self.model = model
        params = dict(model.named_parameters())
        self.names = tuple(masks)
        for i, name in enumerate(self.names):
            if name not in params:
                raise ValueError(
                    f"masks names {name!r}, which is not a parameter of model; parameters: {sorted(params)}"
                )
            m = torch.as_tensor(masks[name], device=params[name].device)
            if m.shape != params[name].shape:
                raise ValueError(
                    f"masks[{name!r}] must have shape {tuple(params[name].shape)}, got {tuple(m.shape)}"
                )
            if not bool(((m == 0) | (m == 1)).all()):
                raise ValueError(f"masks[{name!r}] must hold only 0 and 1 (or booleans)")
            self.register_buffer(f"mask_{i}", m.to(params[name].dtype))
        with torch.no_grad():
            for name, m in self.masks.items():
                params[name].mul_(m)

    @property
    def masks(self) -> dict[str, torch.Tensor]:
        """Parameter name to its mask (in the parameter's dtype: 1.0 kept, 0.0 pruned)."""
        return {n: getattr(self, f"mask_{i}") for i, n in enumerate(self.names)}

    def masked_weights(self) -> dict[str, torch.Tensor]:
        r"""Parameter name to :math:`m \odot w`, the weights the forward pass uses."""
        params = dict(self.model.named_parameters())
        return {n: params[n] * m for n, m in self.masks.items()}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """``model(*args, **kwargs)`` with the masked weights."""
        return functional_call(self.model, self.masked_weights(), args, kwargs)

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """The wrapped model's optimizer groups if it defines them, else one group."""
        groups = getattr(self.model, "param_groups", None)
        if callable(groups):
            return list(groups(lr))
        return [{"params": [p for p in self.model.parameters() if p.requires_grad], "lr": lr}]


def rewind(model: nn.Module, state: Mapping[str, torch.Tensor]) -> nn.Module:
    r"""Set the parameters of ``model`` named in ``state`` back to those values (in place).

    Rewinding to initialization (Frankle and Carbin 2019) sets
    :math:`w \leftarrow m \odot w_0`: the surviving weights of a pruned network take their
    values of before training, the pruned ones stay zero. ``state`` is a copy of the
    parameters taken at initialization (or at an early step :math:`k`, rewinding to
    iteration :math:`k`, Frankle et al. 2020), keyed as ``model.named_parameters()``; for a
    :class:`MaskedModel`, the names are those of the wrapped model (``masked.model``) and
    the masks are applied.

    Parameters
    ----------
    model : nn.Module
        A model, or a :class:`MaskedModel`.
    state : mapping of str to Tensor
        Parameter name to the values to restore (same shapes).

    Returns
    -------
    nn.Module
        ``model``, rewound.

    Raises
    ------
    ValueError
        If a name is not a parameter, or a shape differs.

    References
    ----------
    Frankle and Carbin (2019), The lottery ticket hypothesis, ICLR. Frankle, Dziugaite, Roy
    and Carbin (2020), Linear mode connectivity and the lottery ticket hypothesis, ICML.

    Examples
    --------
    >>> lin = nn.Linear(2, 1, bias=False)
    >>> w0 = {"weight": lin.weight.detach().clone()}
    >>> masked = MaskedModel(lin, {"weight": torch.tensor([[1, 0]])})
    >>> _ = lin.weight.data.add_(1.0)
    >>> _ = rewind(masked, w0)
    >>> bool(lin.weight[0, 0] == w0["weight"][0, 0]), float(lin.weight[0, 1])
    (True, 0.0)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(state, Mapping):
        raise TypeError(
            f"state must be a mapping of parameter names to tensors, got {type(state).__name__}"
        )
    target = model.model if isinstance(model, MaskedModel) else model
    params = dict(target.named_parameters())
    masks = model.masks if isinstance(model, MaskedModel) else {}
    with torch.no_grad():
        for name, value in state.items():
            if name not in params:
                raise ValueError(f"state names {name!r}, which is not a parameter of model")
            if tuple(value.shape) != tuple(params[name].shape):
                raise ValueError(
                    f"state[{name!r}] must have shape {tuple(params[name].shape)}, got {tuple(value.shape)}"
                )
            params[name].copy_(value)
            if name in masks:
                params[name].mul_(masks[name])
    return model
