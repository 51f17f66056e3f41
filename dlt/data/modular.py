r"""Modular arithmetic: the algorithmic data sets of grokking (Power et al. 2022).

Every pair :math:`(a, b) \in \mathbb Z_p^2` (for division, :math:`b \ne 0`) is labelled
:math:`c = a \circ b \bmod p`; a seeded random fraction of the pairs is the training set
and the rest the test set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from ..core.params import Fraction, Int, validate_params
from ..core.validate import check_choice, check_fraction, check_int, generator

__all__ = ["OPERATIONS", "ModularData", "modular_arithmetic", "one_hot_pairs"]


def _inverse(b: torch.Tensor, p: int) -> torch.Tensor:
    # Fermat: b^(p-2) mod p, by repeated squaring on int64 (p < 2^31 keeps products exact)
    out, base, e = torch.ones_like(b), b % p, p - 2
    while e:
        if e & 1:
            out = out * base % p
        base, e = base * base % p, e >> 1
    return out


#: The operations by name: ``(a, b, p) -> (a o b) mod p`` on int64 tensors.
OPERATIONS: dict[str, Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]] = {
    "add": lambda a, b, p: (a + b) % p,
    "sub": lambda a, b, p: (a - b) % p,
    "mul": lambda a, b, p: a * b % p,
    "div": lambda a, b, p: a * _inverse(b, p) % p,
    "x2+y2": lambda a, b, p: (a * a + b * b) % p,
}


class ModularData(NamedTuple):
    """A modular-arithmetic task split into training and test pairs.

    ``X_*`` hold token pairs ``(a, b)`` as int64 of shape (n, 2), ``y_*`` the labels
    ``a o b mod p`` of shape (n,); ``p`` is the modulus and ``operation`` its name.

    Examples
    --------
    >>> d = modular_arithmetic(3, "mul", 0.5, seed=0)
    >>> d.p, d.operation, d.X_train.shape
    (3, 'mul', torch.Size([4, 2]))
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    p: int
    operation: str


def _is_prime(p: int) -> bool:
    return p >= 2 and all(p % q for q in range(2, int(p**0.5) + 1))


@validate_params({"p": Int(2), "train_fraction": Fraction(low_open=True, high_open=True)})
def modular_arithmetic(
    p: int = 31,
    operation: str = "add",
    train_fraction: float = 0.5,
    *,
    seed: int | torch.Generator | None = 0,
    device: torch.device | str | None = None,
) -> ModularData:
    r"""All pairs of :math:`\mathbb Z_p`, labelled by a binary operation, split at random.

    The table is :math:`\{((a, b), a \circ b \bmod p)\}` over :math:`a, b \in \{0, \dots, p-1\}`
    (:math:`b \ne 0` for ``"div"``, where :math:`a / b = a\, b^{p-2} \bmod p`), so it has
    :math:`p^2` rows (:math:`p(p-1)` for division). A seeded permutation puts
    :math:`\lfloor f N \rceil` of the :math:`N` rows in the training set and the rest in the
    test set, as in Power et al. (2022).

    Parameters
    ----------
    p : int
        Modulus, at least 2; ``"div"`` needs a prime.
    operation : {"add", "sub", "mul", "div", "x2+y2"}
        The operation (the keys of ``OPERATIONS``).
    train_fraction : float
        Fraction of the table used for training, in (0, 1); both sets get at least one row.
    seed : int or torch.Generator
        Seed of the split.
    device : torch.device or str, optional

    Returns
    -------
    ModularData
        Token pairs (int64, shape (n, 2)) and labels (int64, shape (n,)) of both sets.

    Raises
    ------
    ValueError
        If ``p < 2``, ``operation`` is unknown, ``p`` is not prime for ``"div"``, or a set
        would be empty.

    References
    ----------
    Power, Burda, Edwards, Babuschkin and Misra (2022), Grokking: generalization beyond
    overfitting on small algorithmic datasets, arXiv:2201.02177.

    Examples
    --------
    >>> d = modular_arithmetic(5, "add", 0.6, seed=0)
    >>> len(d.y_train), len(d.y_test)
    (15, 10)
    >>> bool(((d.X_train.sum(1) % 5) == d.y_train).all())
    True
    """
    p = check_int(p, "p", minimum=2)
    operation = check_choice(operation, "operation", tuple(OPERATIONS))
    train_fraction = check_fraction(train_fraction, "train_fraction", low_open=True, high_open=True)
    if operation == "div" and not _is_prime(p):
        raise ValueError(f"p must be prime for operation 'div', got {p}")
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    if operation == "div":
        a, b = a[b != 0], b[b != 0]
    c = OPERATIONS[operation](a, b, p)
    n = a.numel()
    n_train = int(round(train_fraction * n))
    if not 1 <= n_train <= n - 1:
        raise ValueError(
            f"train_fraction = {train_fraction} leaves an empty set for a table of {n} rows"
        )
    perm = torch.randperm(n, generator=generator(seed))
    X = torch.stack([a, b], dim=1)[perm].to(device)
    y = c[perm].to(device)
    return ModularData(X[:n_train], y[:n_train], X[n_train:], y[n_train:], p, operation)


@validate_params({"p": Int(2)})
def one_hot_pairs(X: torch.Tensor, p: int, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    r"""Concatenated one-hot codes :math:`[e_a, e_b] \in \{0, 1\}^{2p}` of token pairs.

    Parameters
    ----------
    X : Tensor of shape (n, 2)
        Integer tokens in ``{0, ..., p - 1}``.
    p : int
        Modulus (number of tokens), at least 2.
    dtype : torch.dtype, optional
        Float dtype of the result (default: torch's default).

    Returns
    -------
    Tensor of shape (n, 2p)

    Raises
    ------
    ValueError
        If ``X`` is not (n, 2), not integer, or holds a token outside ``{0, ..., p - 1}``.

    Examples
    --------
    >>> one_hot_pairs(torch.tensor([[0, 2]]), 3).tolist()
    [[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    """
    p = check_int(p, "p", minimum=2)
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be an integer tensor of shape (n, 2), got {type(X).__name__}")
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, 2), got shape {tuple(X.shape)}")
    if X.is_floating_point() or X.is_complex():
        raise ValueError(f"X must hold integer tokens, got dtype {X.dtype}")
    if bool((X < 0).any()) or bool((X >= p).any()):
        raise ValueError(f"X must hold tokens in 0..{p - 1}")
    eye = torch.eye(p, dtype=dtype or torch.get_default_dtype(), device=X.device)
    return torch.cat([eye[X[:, 0]], eye[X[:, 1]]], dim=1)
