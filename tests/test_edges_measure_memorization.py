"""Edges of :func:`dlt.measure.memorization.memorization_fraction`: the inputs where a naive
version would differ (float32 input, exactly two training points, a sample on a training
point far from the origin, the one-row error message).

Each test compares against a hand computation or a brute-force distance, not the same code.
"""

import pytest
import torch

from dlt.measure.memorization import memorization_fraction

f64 = torch.float64


def _brute(x: torch.Tensor, tr: torch.Tensor) -> torch.Tensor:
    """All pairwise Euclidean distances, (m, n), by the definition."""
    return ((x[:, None, :] - tr[None, :, :]) ** 2).sum(-1).sqrt()


@pytest.mark.parametrize(("s_dtype", "t_dtype"), [(torch.float32, f64), (f64, torch.float32)])
def test_float32_inputs_give_float64_distances(s_dtype, t_dtype):
    """A float32 ``samples`` or ``train`` is promoted to float64 (the distances are promised
    float64): a version that keeps one argument's dtype fails in ``cdist`` on mixed dtypes or
    returns float32 distances."""
    train = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 8.0]], dtype=t_dtype)
    samples = torch.tensor([[1.0, 0.0], [2.0, 0.0]], dtype=s_dtype)
    m = memorization_fraction(samples, train)
    assert m.nearest.dtype == f64 and m.second.dtype == f64
    torch.testing.assert_close(m.nearest, torch.tensor([1.0, 2.0], dtype=f64))
    torch.testing.assert_close(m.second, torch.tensor([3.0, 2.0], dtype=f64))
    assert m.memorized.tolist() == [True, False]  # 1/3 exactly is memorized, a tie is not


def test_both_float32_inputs_give_float64_distances():
    """Two float32 inputs still give float64 distances: a version that drops the dtype of both
    returns float32 and loses the exact boundary ``d1 = d2 / 3``."""
    train = torch.tensor([[0.0], [4.0]], dtype=torch.float32)
    m = memorization_fraction(torch.tensor([[1.0]], dtype=torch.float32), train)
    assert m.nearest.dtype == f64 and m.second.dtype == f64
    assert m.memorized.tolist() == [True]


def test_exactly_two_training_points_are_enough():
    """``train`` with n = 2 rows is allowed (the docstring's n >= 2), and the second-nearest is
    the other row: an off-by-one row check (``<= 2``, ``< 3``) or a top-3 search refuses it.
    Hand computation on a line: train at 0 and 4, a sample at 1 has d1 = 1, d2 = 3."""
    train = torch.tensor([[0.0, 0.0], [4.0, 0.0]], dtype=f64)
    samples = torch.tensor([[1.0, 0.0], [1.01, 0.0], [2.0, 0.0], [4.0, 0.0]], dtype=f64)
    m = memorization_fraction(samples, train, ratio=1 / 3)
    assert m.nearest.tolist() == [1.0, 1.01, 2.0, 0.0]
    assert m.second.tolist() == [3.0, 2.99, 2.0, 4.0]
    assert m.memorized.tolist() == [True, False, False, True]
    assert m.fraction == 0.5


def test_one_training_row_message_counts_rows():
    """One training row is refused with a message naming ``train`` and its row count (1),
    not its column count (3)."""
    with pytest.raises(ValueError, match=r"^train must have at least 2 rows, got 1$"):
        memorization_fraction(torch.zeros(2, 3, dtype=f64), torch.ones(1, 3, dtype=f64))


def test_copies_far_from_the_origin_are_exactly_at_distance_zero():
    """A sample on a training point has ``d1 = 0`` exactly, and a copy of a repeated training
    point has ``d1 = d2 = 0``, even at coordinates near 1e4 and with more than 25 rows (where
    torch's default ``cdist`` switches to the matrix-product formula
    ``|x|^2 + |t|^2 - 2 x.t``, whose cancellation leaves distances of order 1e-4 and can turn
    a copy into a non-copy). The distances must match brute force to rounding."""
    g = torch.Generator().manual_seed(0)
    train = torch.randn(30, 3, generator=g, dtype=f64) + 1e4
    train = torch.cat([train, train[:1]])  # row 0 repeated
    samples = torch.cat([train[:30], train[:5] + 0.5])
    m = memorization_fraction(samples, train)
    assert m.nearest[:30].tolist() == [0.0] * 30
    assert float(m.second[0]) == 0.0  # the repeated row: d1 = d2 = 0, memorized
    assert bool(m.memorized[:30].all())
    want = _brute(samples, train).sort(dim=1).values
    torch.testing.assert_close(m.nearest, want[:, 0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(m.second, want[:, 1], rtol=1e-12, atol=1e-12)
