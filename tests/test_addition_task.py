"""The addition task of chapter 18 against brute force: every decoded sum equals a + b, the
reversed format is the digit reversal of the plain one, the length split holds, bad input is
rejected with the argument named."""

import pytest
import torch

from dlt.length_generalization import ADDITION_FORMATS, IGNORE, addition_task

BOS, PLUS, EQ, PAD = 10, 11, 12, 13


def _decode(t, fmt):
    """(a, b, c, k) per row, read back from tokens and scored targets by brute force."""
    out = []
    for row, tgt, k in zip(t.tokens.tolist(), t.targets.tolist(), t.lengths.tolist(), strict=True):
        assert row[0] == BOS and row[k + 1] == PLUS and row[2 * k + 2] == EQ
        a = int("".join(map(str, row[1 : k + 1])))
        b = int("".join(map(str, row[k + 2 : 2 * k + 2])))
        scored = [x for x in tgt if x != IGNORE]
        assert len(scored) == k + 1 and all(0 <= x <= 9 for x in scored)
        digits = scored if fmt == "plain" else scored[::-1]
        out.append((a, b, int("".join(map(str, digits))), k, row, tgt))
    return out


@pytest.mark.parametrize("fmt", ADDITION_FORMATS)
def test_addition_targets_are_the_sum(fmt):
    t = addition_task(300, 1, 6, output_format=fmt, pad_to=25, seed=4)
    assert t.tokens.shape == t.targets.shape == (300, 25) and t.vocab == 14
    assert t.tokens.dtype == torch.long
    for a, b, c, k, row, tgt in _decode(t, fmt):
        assert c == a + b and a < 10**k and b < 10**k
        # scored exactly at the k + 1 positions after "=", teacher-forced inputs, padding
        assert all(x == IGNORE for x in tgt[: 2 * k + 2] + tgt[3 * k + 3 :])
        assert row[2 * k + 3 : 3 * k + 3] == tgt[2 * k + 2 : 3 * k + 2]
        assert all(x == PAD for x in row[3 * k + 4 :])


def test_reversed_is_the_digit_reversal():
    p = addition_task(200, 2, 7, output_format="plain", seed=9)
    r = addition_task(200, 2, 7, output_format="reversed", seed=9)
    assert torch.equal(p.lengths, r.lengths)
    for row_p, row_r, tp, tr, k in zip(
        p.tokens, r.tokens, p.targets, r.targets, p.lengths.tolist(), strict=True
    ):
        assert torch.equal(row_p[: 2 * k + 3], row_r[: 2 * k + 3])  # same operands
        assert torch.equal(tp[2 * k + 2 : 3 * k + 3].flip(0), tr[2 * k + 2 : 3 * k + 3])


def test_operands_cover_carries_and_leading_zeros():
    sums = [(a, b) for a, b, *_ in _decode(addition_task(2000, 3, seed=0), "plain")]
    assert any(a + b >= 1000 for a, b in sums) and any(a < 100 for a, b in sums)
    assert len({a for a, _ in sums}) > 800  # spread over 0..999


def test_addition_length_split():
    t = addition_task(500, 3, 5, seed=1)
    assert set(t.lengths.tolist()) == {3, 4, 5}
    assert t.tokens.shape[1] == 3 * 5 + 3
    one = addition_task(20, 4, seed=2)
    assert bool((one.lengths == 4).all()) and one.tokens.shape == (20, 15)
    assert bool((one.tokens != PAD).all())
    assert torch.equal(addition_task(5, 3, seed=1).tokens, addition_task(5, 3, seed=1).tokens)
    assert not torch.equal(addition_task(50, 3, seed=1).tokens, addition_task(50, 3, seed=2).tokens)


def test_single_digit_brute_force():
    t = addition_task(400, 1, output_format="reversed", seed=3)
    pairs = {(a, b) for a, b, c, *_ in _decode(t, "reversed") if c == a + b}
    assert len(pairs) > 90  # nearly all 100 one-digit pairs appear, every one summed right


def test_addition_rejects_bad_input():
    with pytest.raises(ValueError, match="n"):
        addition_task(0, 3)
    with pytest.raises(ValueError, match="min_length"):
        addition_task(2, 0)
    with pytest.raises(ValueError, match="max_length"):
        addition_task(2, 3, 2)
    with pytest.raises(ValueError, match="output_format"):
        addition_task(2, 3, output_format="backwards")
    with pytest.raises(ValueError, match="pad_to"):
        addition_task(2, 3, pad_to=11)
