"""Magnitude pruning: which weights to remove, globally or layer by layer, and random controls."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..core.params import Choice, validate_params
from ..core.validate import as_tensor, check_choice, check_fraction, generator

__all__ = ["prune_by_magnitude", "random_masks", "densities"]


def _as_weights(weights: object, name: str, members: bool) -> list[torch.Tensor]:
    if isinstance(weights, torch.Tensor) or not isinstance(weights, Sequence) or not weights:
        raise TypeError(f"{name} must be a non-empty list of tensors, got {type(weights).__name__}")
    lo = 2 if members else 1
    out = [
        as_tensor(w, name, ndim=range(lo, 9), shape="(n_models, ...)" if members else "(...)")
        for w in weights
    ]
    if members and len({w.shape[0] for w in out}) != 1:
        raise ValueError(
            f"{name} must share their first (member) dimension, got {[tuple(w.shape) for w in out]}"
        )
    return out


def _as_masks(
    masks: object, weights: list[torch.Tensor], name: str = "masks"
) -> list[torch.Tensor]:
    if masks is None:
        return [torch.ones_like(w, dtype=torch.bool) for w in weights]
    if (
        isinstance(masks, torch.Tensor)
        or not isinstance(masks, Sequence)
        or len(masks) != len(weights)
    ):
        raise ValueError(f"{name} must be a list of {len(weights)} tensors, one per weight")
    out = []
    for m, w in zip(masks, weights, strict=True):
        m = torch.as_tensor(m, device=w.device)
        if m.shape != w.shape:
            raise ValueError(
                f"{name} must have the shapes of the weights {tuple(w.shape)}, got {tuple(m.shape)}"
            )
        if not bool(((m == 0) | (m == 1)).all()):
            raise ValueError(f"{name} must hold only 0 and 1 (or booleans)")
        out.append(m.bool())
    return out


def _prune_rows(scores: torch.Tensor, alive: torch.Tensor, fraction: float) -> torch.Tensor:
    """Rows of ``scores`` (members x entries): keep all but the round(fraction * alive)
    smallest alive entries of each row, ties broken by position (the first pruned first)."""
    n_alive = alive.sum(1)
    k = torch.floor(fraction * n_alive.to(torch.float64) + 0.5).long()  # round half up
    s = torch.where(alive, scores.to(torch.float64), torch.tensor(-torch.inf, dtype=torch.float64))
    order = torch.sort(s, dim=1, stable=True).indices
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(s.shape[1], device=s.device).expand_as(order))
    n_dead = s.shape[1] - n_alive
    return rank >= (n_dead + k)[:, None]


@validate_params({"scope": Choice(("global", "layer"))})
def prune_by_magnitude(
    weights: Sequence[torch.Tensor],
    fraction: float | Sequence[float],
    scope: str = "global",
    masks: Sequence[torch.Tensor] | None = None,
    *,
    members: bool = False,
) -> list[torch.Tensor]:
    r"""Masks that remove the ``fraction`` of the surviving weights of smallest magnitude.

    The score of a weight is its magnitude :math:`|w|`. With ``scope="global"`` one
    threshold is shared by all the layers (global magnitude pruning, Blalock et al. 2020;
    Gupta et al. 2024): of the :math:`A` weights still alive in ``masks``, the
    :math:`k = \lfloor pA + \tfrac12 \rfloor` of smallest magnitude are removed, wherever they
    are. With ``scope="layer"`` each layer :math:`\ell` removes
    :math:`\lfloor p_\ell A_\ell + \tfrac12 \rfloor` of its own :math:`A_\ell` alive weights
    (the layer-wise pruning of Frankle and Carbin 2019). The count is exact: among equal
    magnitudes the weight that comes first (in the order of the layers, then of the
    flattened entries) is removed first, so ties never remove more or fewer than :math:`k`.
    Weights already pruned stay pruned, and a new mask never revives one.

    Parameters
    ----------
    weights : list of Tensors
        The weights to score, one per layer, any shapes (with ``members``, each of shape
        ``(n_models, ...)``, and member :math:`m` is pruned on its own).
    fraction : float or sequence of float
        :math:`p \in [0, 1]`, the fraction of the alive weights to remove; with
        ``scope="layer"``, also one :math:`p_\ell` per layer.
    scope : {"global", "layer"}
    masks : list of Tensors, optional
        The current masks (1 or ``True``: alive), of the shapes of ``weights``; default all
        alive.
    members : bool
        Whether the first dimension of every weight indexes independent networks.

    Returns
    -------
    list of bool Tensors
        The new masks, of the shapes of ``weights``.

    Raises
    ------
    ValueError
        If ``fraction`` is outside [0, 1] or has the wrong length, ``scope`` is unknown, or
        the masks do not match the weights.
    TypeError
        If ``weights`` is not a list of tensors.

    References
    ----------
    Frankle and Carbin (2019), The lottery ticket hypothesis, ICLR.
    Blalock, Gonzalez Ortiz, Frankle and Guttag (2020), What is the state of neural network
    pruning?, MLSys. Gupta, Siddiqui, Ahmed and Khan (2024), Is complexity required for
    neural network pruning? A case study on global magnitude pruning, IEEE CAI.

    Examples
    --------
    >>> w = [torch.tensor([[0.1, -3.0], [2.0, 0.5]]), torch.tensor([[0.05, -0.02]])]
    >>> [m.int().tolist() for m in prune_by_magnitude(w, 0.5)]  # one threshold: 3 of 6 go
    [[[0, 1], [1, 1]], [[0, 0]]]
    >>> [m.int().tolist() for m in prune_by_magnitude(w, 0.5, scope="layer")]
    [[[0, 1], [1, 0]], [[1, 0]]]
    >>> [m.int().tolist() for m in prune_by_magnitude(w, [0.25, 0.0], scope="layer")]
    [[[0, 1], [1, 1]], [[1, 1]]]
    """
    scope = check_choice(scope, "scope", ("global", "layer"))
    ws = _as_weights(weights, "weights", members)
    ms = _as_masks(masks, ws)
    if isinstance(fraction, Sequence) and not isinstance(fraction, str):
        if scope != "layer" or len(fraction) != len(ws):
            raise ValueError(
                f"fraction must be a number, or one per layer ({len(ws)}) with scope='layer', got {fraction!r}"
            )
        fracs = [check_fraction(f, "fraction") for f in fraction]
    else:
        fracs = [check_fraction(fraction, "fraction")] * len(ws)
    rows = [w.reshape(w.shape[0] if members else 1, -1) for w in ws]
    alive = [m.reshape(r.shape) for m, r in zip(ms, rows, strict=True)]
    if scope == "global":
        kept = _prune_rows(torch.cat(rows, 1).abs(), torch.cat(alive, 1), fracs[0])
        parts = kept.split([r.shape[1] for r in rows], dim=1)
    else:
        parts = tuple(
            _prune_rows(r.abs(), a, f) for r, a, f in zip(rows, alive, fracs, strict=True)
        )
    return [p.reshape(w.shape) for p, w in zip(parts, ws, strict=True)]


def random_masks(
    masks: Sequence[torch.Tensor],
    *,
    members: bool = False,
    seed: int | torch.Generator | None = 0,
) -> list[torch.Tensor]:
    r"""Random masks with the same number of alive weights as ``masks`` in every layer.

    In each layer (and each member), the positions of the :math:`A_\ell` alive weights are
    a uniformly random subset of size :math:`A_\ell`: the control that keeps a pruned
    network's layer-wise densities but not its choice of weights (Frankle and Carbin 2019,
    random pruning).

    Parameters
    ----------
    masks : list of Tensors
        Masks (1 or ``True``: alive), any shapes (with ``members``, ``(n_models, ...)``).
    members : bool
        Whether the first dimension indexes independent networks (counted separately).
    seed : int or torch.Generator
        Seed of the positions.

    Returns
    -------
    list of bool Tensors

    Raises
    ------
    ValueError
        If a mask holds values other than 0 and 1.

    Examples
    --------
    >>> m = [torch.tensor([[1, 0, 0], [1, 1, 0]])]
    >>> r = random_masks(m, seed=3)
    >>> int(r[0].sum()), r[0].shape
    (3, torch.Size([2, 3]))
    """
    ms = _as_masks(list(masks), _as_weights(list(masks), "masks", members))
    g = generator(seed)
    out = []
    for m in ms:
        rows = m.reshape(m.shape[0] if members else 1, -1)
        scores = torch.rand(rows.shape, generator=g, dtype=torch.float64).to(m.device)
        keep = rows.shape[1] - rows.sum(1)  # prune the n_dead smallest random scores
        order = scores.argsort(1)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(rows.shape[1], device=m.device).expand_as(order))
        out.append((rank >= keep[:, None]).reshape(m.shape))
    return out


def densities(masks: Sequence[torch.Tensor], *, members: bool = False) -> torch.Tensor:
    r"""The fraction of alive weights of each layer, :math:`A_\ell / N_\ell`, and overall.

    Parameters
    ----------
    masks : list of Tensors
        One per layer (with ``members``, each ``(n_models, ...)``).
    members : bool
        Whether the first dimension indexes independent networks.

    Returns
    -------
    Tensor of shape (L + 1,) or (n_models, L + 1)
        float64: the density of each layer, then that of all layers together.

    Examples
    --------
    >>> densities([torch.tensor([1, 0, 0, 1]), torch.tensor([1, 1, 1, 1])]).tolist()
    [0.5, 1.0, 0.75]
    """
    ms = _as_masks(list(masks), _as_weights(list(masks), "masks", members))
    rows = [m.reshape(m.shape[0] if members else 1, -1).to(torch.float64) for m in ms]
    alive = torch.stack([r.sum(1) for r in rows], 1)
    sizes = torch.tensor([r.shape[1] for r in rows], dtype=torch.float64, device=alive.device)
    out = torch.cat([alive / sizes, alive.sum(1, keepdim=True) / sizes.sum()], 1)
    return out if members else out[0]
