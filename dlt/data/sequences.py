r"""Sequence tasks with a known algorithm, split by length: copying and multi-digit addition.

A task returns token sequences for next-token prediction: ``tokens`` are the model's
inputs, ``targets`` the next tokens, with ``IGNORE`` (-100, the ``ignore_index`` of
:func:`torch.nn.functional.cross_entropy`) wherever the answer is not scored and on the
padding. Sequences of several lengths in one batch are padded on the right with the task's
pad token; a causal model's outputs at the scored positions do not depend on it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..core.params import Choice, Int, validate_params
from ..core.validate import check_choice, check_int, generator

__all__ = ["ADDITION_FORMATS", "IGNORE", "SequenceTask", "addition_task", "copy_task"]

#: The output formats of :func:`addition_task`.
ADDITION_FORMATS = ("plain", "reversed")

#: The target of an unscored position.
IGNORE = -100


class SequenceTask(NamedTuple):
    """Token sequences, their scored next tokens and their lengths.

    ``tokens`` and ``targets`` are int64 of shape (n, T); ``targets`` holds ``IGNORE``
    where nothing is scored; ``lengths`` (n,) is each sequence's problem size (the number of
    tokens to copy); ``vocab`` the number of token ids (padding included).

    Examples
    --------
    >>> t = copy_task(2, 3, seed=0)
    >>> t.tokens.shape, t.vocab
    (torch.Size([2, 7]), 35)
    """

    tokens: torch.Tensor
    targets: torch.Tensor
    lengths: torch.Tensor
    vocab: int


@validate_params({"n": Int(1), "min_length": Int(1), "max_length": Int(1), "n_symbols": Int(2)})
def copy_task(
    n: int,
    min_length: int,
    max_length: int | None = None,
    *,
    n_symbols: int = 32,
    pad_to: int | None = None,
    seed: int | torch.Generator | None = 0,
    device: torch.device | str | None = None,
) -> SequenceTask:
    r"""The copy task with unique tokens: ``[BOS, a_1..a_k, SEP, a_1..a_k]``, the second half scored.

    :math:`a` is the first :math:`k` entries of a uniform random permutation of the
    ``n_symbols`` symbols (so no token repeats and the copy is an induction-head task: find
    the previous occurrence of the current token and output the one after it); :math:`k` is
    uniform on ``min_length..max_length`` per sequence. Ids: symbols ``0..n_symbols - 1``,
    BOS ``n_symbols``, SEP ``n_symbols + 1``, padding ``n_symbols + 2``. Inputs are the
    padded sequence without its last column, targets the sequence shifted by one, scored at
    the :math:`k` copied tokens only (the prediction of SEP is not scored: the symbols before
    it are unpredictable); a sequence shorter than the padding keeps its last token as an
    unscored input.

    Parameters
    ----------
    n : int
        Number of sequences.
    min_length, max_length : int
        Range of :math:`k` (``max_length`` defaults to ``min_length``; at most ``n_symbols``).
    n_symbols : int
        Size of the alphabet (>= 2).
    pad_to : int, optional
        Input length :math:`T \ge 2\,` ``max_length`` :math:`+ 1` (default: exactly that).
    seed : int or torch.Generator
    device : torch.device or str, optional

    Returns
    -------
    SequenceTask

    References
    ----------
    Zhou, Bradley, Littwin, Razin, Saremi, Susskind, Bengio and Nakkiran (2024), What
    algorithms can transformers learn? A study in length generalization, ICLR.

    Examples
    --------
    >>> t = copy_task(1, 2, seed=0, n_symbols=5)
    >>> t.tokens.tolist(), t.targets.tolist()
    ([[5, 1, 2, 6, 1]], [[-100, -100, -100, 1, 2]])
    """
    n = check_int(n, "n", minimum=1)
    lo = check_int(min_length, "min_length", minimum=1)
    hi = lo if max_length is None else check_int(max_length, "max_length", minimum=lo)
    v = check_int(n_symbols, "n_symbols", minimum=2)
    if hi > v:
        raise ValueError(f"max_length must be <= n_symbols = {v} (unique tokens), got {hi}")
    width = 2 * hi + 1
    T = width if pad_to is None else check_int(pad_to, "pad_to", minimum=width)
    g = generator(seed)
    k = torch.randint(lo, hi + 1, (n,), generator=g)
    perm = torch.rand(n, v, generator=g).argsort(1)[:, :hi]
    bos, sep, pad = v, v + 1, v + 2
    seq = torch.full((n, T + 1), pad, dtype=torch.long)
    pos = torch.arange(T + 1).unsqueeze(0)
    kk = k.unsqueeze(1)
    first = (pos >= 1) & (pos <= kk)
    second = (pos >= kk + 2) & (pos <= 2 * kk + 1)
    seq[:, 0] = bos
    seq[first] = perm.gather(1, (pos - 1).clamp(0, hi - 1).expand(n, -1))[first]
    seq[pos.expand(n, -1) == kk + 1] = sep
    seq[second] = perm.gather(1, (pos - kk - 2).clamp(0, hi - 1))[second]
    targets = seq[:, 1:].clone()
    targets[~second[:, 1:]] = IGNORE
    return SequenceTask(seq[:, :-1].to(device), targets.to(device), k.to(device), v + 3)


@validate_params(
    {
        "n": Int(1),
        "min_length": Int(1),
        "max_length": Int(1),
        "output_format": Choice(ADDITION_FORMATS),
    }
)
def addition_task(
    n: int,
    min_length: int,
    max_length: int | None = None,
    *,
    output_format: str = "plain",
    pad_to: int | None = None,
    seed: int | torch.Generator | None = 0,
    device: torch.device | str | None = None,
) -> SequenceTask:
    r"""Multi-digit addition ``[BOS, a, +, b, =, c]`` with :math:`c = a + b`, the sum scored.

    The operands :math:`a, b` are uniform on :math:`0..10^k - 1` and written with exactly
    :math:`k` digits, most significant first (leading zeros kept), :math:`k` uniform on
    ``min_length..max_length`` per sequence; the sum is written with :math:`k + 1` digits
    (leading zero kept), most significant first in the ``"plain"`` format and least
    significant first in the ``"reversed"`` one. Reversed, each digit of the sum is a function
    of the two operand digits of its place and the carry from the previous output, the order
    in which the school algorithm produces it (Lee et al. 2023). Ids: digits ``0..9``, BOS
    10, ``+`` 11, ``=`` 12, padding 13 (vocabulary 14). Inputs are the padded sequence
    without its last column, targets the sequence shifted by one, scored at the
    :math:`k + 1` digits of the sum only (its first digit is predicted at ``=``).

    Parameters
    ----------
    n : int
        Number of sequences.
    min_length, max_length : int
        Range of the number of digits :math:`k` of each operand (``max_length`` defaults to
        ``min_length``).
    output_format : {"plain", "reversed"}
        Order of the sum's digits.
    pad_to : int, optional
        Input length :math:`T \ge 3\,` ``max_length`` :math:`+ 3` (default: exactly that).
    seed : int or torch.Generator
    device : torch.device or str, optional

    Returns
    -------
    SequenceTask
        ``lengths`` holds :math:`k`.

    References
    ----------
    Lee, Sreenivasan, Lee, Lee and Papailiopoulos (2024), Teaching arithmetic to small
    transformers, ICLR.

    Examples
    --------
    >>> t = addition_task(1, 2, seed=0, output_format="reversed")
    >>> t.tokens.tolist()[0], t.targets.tolist()[0]  # 39 + 93 = 132, written 2 3 1
    ([10, 3, 9, 11, 9, 3, 12, 2, 3], [-100, -100, -100, -100, -100, -100, 2, 3, 1])
    """
    n = check_int(n, "n", minimum=1)
    lo = check_int(min_length, "min_length", minimum=1)
    hi = lo if max_length is None else check_int(max_length, "max_length", minimum=lo)
    fmt = check_choice(output_format, "output_format", ADDITION_FORMATS)
    width = 3 * hi + 3
    T = width if pad_to is None else check_int(pad_to, "pad_to", minimum=width)
    g = generator(seed)
    k = torch.randint(lo, hi + 1, (n,), generator=g)
    j = torch.arange(hi + 1).unsqueeze(0)
    kk = k.unsqueeze(1)
    # operand digits, least significant first, zero beyond the k-th
    a = torch.randint(0, 10, (n, hi + 1), generator=g) * (j < kk)
    b = torch.randint(0, 10, (n, hi + 1), generator=g) * (j < kk)
    c = torch.zeros(n, hi + 1, dtype=torch.long)
    carry = torch.zeros(n, dtype=torch.long)
    for i in range(hi + 1):  # the school algorithm, over digit places (all sequences at once)
        s = a[:, i] + b[:, i] + carry
        c[:, i], carry = s % 10, s // 10
    bos, plus, eq, pad = 10, 11, 12, 13
    seq = torch.full((n, T + 1), pad, dtype=torch.long)
    pos = torch.arange(T + 1).unsqueeze(0)
    first = (pos >= 1) & (pos <= kk)
    second = (pos >= kk + 2) & (pos <= 2 * kk + 1)
    third = (pos >= 2 * kk + 3) & (pos <= 3 * kk + 3)
    seq[:, 0] = bos
    seq[first] = a.gather(1, (kk - pos).clamp(0, hi))[first]
    seq[second] = b.gather(1, (2 * kk + 1 - pos).clamp(0, hi))[second]
    seq[pos.expand(n, -1) == kk + 1] = plus
    seq[pos.expand(n, -1) == 2 * kk + 2] = eq
    place = pos - 2 * kk - 3 if fmt == "reversed" else 3 * kk + 3 - pos
    seq[third] = c.gather(1, place.clamp(0, hi))[third]
    targets = seq[:, 1:].clone()
    targets[~third[:, 1:]] = IGNORE
    return SequenceTask(seq[:, :-1].to(device), targets.to(device), k.to(device), 14)
