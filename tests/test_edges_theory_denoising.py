"""Edges of dlt.theory.denoising: messages that name the argument from their start, sigma exactly
0 or below float32's range, the accepted shapes of x and sigma, the defaults against explicit
calls, and EDM scalings and the memorization baseline by hand."""

import math

import pytest
import torch

from dlt.theory.denoising import edm_scalings, memorization_baseline, optimal_denoiser

f64 = torch.float64
TRAIN = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=f64)


def _by_hand(x, sigma, train):
    """The softmax of -|x - x_i|^2 / (2 sigma^2), one point at a time, in Python floats."""
    out = []
    for p in x.tolist():
        logits = [-sum((a - b) ** 2 for a, b in zip(p, t, strict=True)) / (2 * sigma**2)
                  for t in train.tolist()]  # fmt: skip
        top = max(logits)
        w = [math.exp(v - top) for v in logits]
        out.append([sum(wi * t[j] for wi, t in zip(w, train.tolist(), strict=True)) / sum(w)
                    for j in range(train.shape[1])])  # fmt: skip
    return torch.tensor(out, dtype=f64)


# ---------------------------------------------------------------- optimal_denoiser


def test_optimal_denoiser_sigma_zero_or_negative_is_refused_by_name():
    """sigma = 0 is not > 0: a check `s < 0` would let it through (to a 0/0 softmax)."""
    x = torch.tensor([[0.5, 0.0]], dtype=f64)
    for bad in (0.0, -0.5, torch.tensor([0.3, 0.0]).reshape(2)[1:]):
        with pytest.raises(ValueError, match=r"^sigma must be > 0, got min "):
            optimal_denoiser(x, bad, TRAIN)


def test_optimal_denoiser_errors_name_the_argument_from_their_start():
    """A mangled message (or a columns check on the wrong axis) fails these matches."""
    x = torch.zeros(4, 2, dtype=f64)
    with pytest.raises(ValueError, match=r"^x must have 2 columns like train, got shape \(4, 3\)"):
        optimal_denoiser(torch.zeros(4, 3, dtype=f64), 0.3, TRAIN)
    with pytest.raises(ValueError, match=r"^sigma must have 4 entries, one per point, got 3$"):
        optimal_denoiser(x, torch.ones(3, dtype=f64), TRAIN)


def test_optimal_denoiser_python_sigma_below_float32_range_stays_positive():
    """sigma = 1e-50 is a positive float64; made a float32 tensor first, it would round to 0
    and be refused."""
    x = torch.tensor([[0.1, 0.0], [1.9, 0.0]], dtype=f64)
    torch.testing.assert_close(optimal_denoiser(x, 1e-50, TRAIN), TRAIN, rtol=0, atol=0)


def test_optimal_denoiser_one_dimensional_x_and_three_dimensional_x():
    """x of shape (d,) is one point (ndim 1 allowed) and (a, b, d) keeps its shape; each equals
    the softmax by hand."""
    x = torch.tensor([0.5, 0.25], dtype=f64)
    got = optimal_denoiser(x, 0.7, TRAIN)
    assert got.shape == (2,)
    torch.testing.assert_close(got, _by_hand(x[None], 0.7, TRAIN)[0], rtol=1e-13, atol=1e-14)
    x3 = torch.linspace(-1, 3, 12, dtype=f64).reshape(2, 3, 2)
    got3 = optimal_denoiser(x3, 0.9, TRAIN)
    assert got3.shape == (2, 3, 2)
    want = _by_hand(x3.reshape(-1, 2), 0.9, TRAIN).reshape(2, 3, 2)
    torch.testing.assert_close(got3, want, rtol=1e-13, atol=1e-14)


def test_optimal_denoiser_sigma_of_one_entry_broadcasts_over_points():
    """sigma of shape (1,) is one sigma for all points (the `in (1, m)` check), equal to the
    scalar call; a per-point sigma equals the by-hand softmax row by row."""
    x = torch.tensor([[0.5, 0.0], [1.2, 0.3], [3.0, -1.0]], dtype=f64)
    one = optimal_denoiser(x, torch.tensor([0.8], dtype=f64), TRAIN)
    torch.testing.assert_close(one, optimal_denoiser(x, 0.8, TRAIN), rtol=0, atol=0)
    torch.testing.assert_close(one, _by_hand(x, 0.8, TRAIN), rtol=1e-13, atol=1e-14)
    s = torch.tensor([0.3, 1.0, 2.5], dtype=f64)
    per = optimal_denoiser(x, s, TRAIN)
    for i in range(3):
        torch.testing.assert_close(per[i], _by_hand(x[i : i + 1], float(s[i]), TRAIN)[0])


def test_optimal_denoiser_float32_in_float32_out_computed_in_float64():
    """float32 points give float32 output, but the softmax runs in float64: at sigma = 1e-3 and
    a logit gap of 1e-3/(2e-6) the float32 answer is the float64 answer rounded."""
    train = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=f64)
    x = torch.tensor([[0.4, 0.45], [0.7, 0.1]], dtype=torch.float32)
    for sigma in (1e-3, 0.4):
        got = optimal_denoiser(x, sigma, train.float())
        assert got.dtype == torch.float32
        want = _by_hand(x.to(f64), sigma, train).float()
        torch.testing.assert_close(got, want, rtol=0, atol=1e-7)


def test_optimal_denoiser_far_from_the_origin_with_many_points():
    """Over 25 rows torch.cdist switches by default to |x|^2 - 2 x.y + |y|^2, which cancels
    catastrophically 1e6 away from the origin (an error of 1e-4 in a squared distance of 1):
    the differences-based distances keep D*(x + c; train + c) - c equal to D*(x; train)."""
    g = torch.Generator().manual_seed(0)
    train = torch.randn(30, 2, generator=g, dtype=f64)
    x = torch.randn(30, 2, generator=g, dtype=f64)
    c = torch.tensor([1e6, -1e6], dtype=f64)
    want = _by_hand(x, 0.1, train)
    torch.testing.assert_close(optimal_denoiser(x, 0.1, train), want, rtol=0, atol=1e-12)
    far = optimal_denoiser(x + c, 0.1, train + c) - c
    torch.testing.assert_close(far, want, rtol=0, atol=1e-6)


def test_optimal_denoiser_float32_sigma_tensor_is_used_in_float64():
    """A float32 sigma tensor (0-d or per point) beside float64 points: its value is squared in
    float64, so the answer equals the by-hand softmax at that value to 1e-13 (squaring in
    float32 is off by about 1e-8)."""
    x = torch.tensor([[0.9, 0.2], [1.3, -0.4]], dtype=f64)
    s = torch.tensor(0.3, dtype=torch.float32)
    want = _by_hand(x, float(s), TRAIN)
    torch.testing.assert_close(optimal_denoiser(x, s, TRAIN), want, rtol=1e-13, atol=1e-14)
    per = optimal_denoiser(x, torch.full((2,), 0.3, dtype=torch.float32), TRAIN)
    torch.testing.assert_close(per, want, rtol=1e-13, atol=1e-14)


def test_optimal_denoiser_at_the_midpoint_is_the_mean_of_the_two():
    """The docstring's example: halfway between two points at sigma = 1 gives their mean."""
    got = optimal_denoiser(torch.tensor([[1.0, 0.0]]), 1.0, TRAIN.float())
    torch.testing.assert_close(got, torch.tensor([[1.0, 0.0]]))


# ---------------------------------------------------------------- edm_scalings


def test_edm_scalings_by_hand_at_sigma_equal_sigma_data():
    """sigma = sigma_d = 0.5: c_skip = 1/2, c_out = 0.25/sqrt(0.5), c_in = 1/sqrt(0.5),
    c_noise = ln(0.5)/4; a Python number gives float64 0-dim tensors (not float32)."""
    c = edm_scalings(0.5, sigma_data=0.5)
    for t in c:
        assert t.dtype == f64 and t.shape == ()
    assert float(c.c_skip) == 0.5
    assert float(c.c_out) == pytest.approx(0.25 / math.sqrt(0.5), rel=1e-15)
    assert float(c.c_in) == pytest.approx(1 / math.sqrt(0.5), rel=1e-15)
    assert float(c.c_noise) == pytest.approx(math.log(0.5) / 4, rel=1e-15)


def test_edm_scalings_by_hand_with_different_sigma_and_sigma_data():
    """sigma = 3, sigma_d = 4: total 25, root 5, so (16/25, 12/5, 1/5, ln 3 / 4); exchanging
    sigma and sigma_d, or a power, changes each."""
    c = edm_scalings(torch.tensor([3.0], dtype=f64), 4.0)
    want = (16 / 25, 12 / 5, 1 / 5, math.log(3) / 4)
    for got, w in zip(c, want, strict=True):
        assert got.shape == (1,)
        assert float(got[0]) == pytest.approx(w, rel=1e-15)


def test_edm_scalings_default_sigma_data_is_one_half():
    """The documented default sigma_d = 0.5 (the EDM value), checked against an explicit call."""
    s = torch.tensor([0.2, 1.0, 7.0], dtype=f64)
    for a, b in zip(edm_scalings(s), edm_scalings(s, sigma_data=0.5), strict=True):
        assert torch.equal(a, b)
    assert float(edm_scalings(1.0).c_skip) == pytest.approx(0.25 / 1.25, rel=1e-15)


def test_edm_scalings_tiny_python_sigma_and_tensors_of_any_rank():
    """sigma = 1e-50 (below float32's range) is positive: c_skip = 1, c_out = sigma; 0-d, 2-d
    and 3-d tensors are accepted and keep their shape."""
    c = edm_scalings(1e-50, 1.0)
    assert float(c.c_skip) == 1.0 and float(c.c_out) == pytest.approx(1e-50, rel=1e-15)
    assert edm_scalings(torch.tensor(2.0)).c_in.shape == ()
    assert edm_scalings(torch.full((2, 3), 2.0)).c_skip.shape == (2, 3)
    s3 = torch.full((2, 1, 3), 2.0, dtype=f64)
    assert edm_scalings(s3).c_noise.shape == (2, 1, 3)


def test_edm_scalings_sigma_zero_is_refused_by_name():
    """sigma = 0 would give c_noise = -inf: refused, and `s < 0` would let it through."""
    for bad in (0.0, torch.tensor([1.0, 0.0]), -1.0):
        with pytest.raises(ValueError, match=r"^sigma must be > 0, got min "):
            edm_scalings(bad)


# ---------------------------------------------------------------- memorization_baseline


def test_memorization_baseline_default_and_powers_by_hand():
    """rho^k: the default rho = 1/3 against an explicit call, k = 1 (the lowest dimension
    allowed) and k = 3 by hand."""
    assert memorization_baseline(2) == memorization_baseline(2, 1 / 3) == pytest.approx(1 / 9)
    assert memorization_baseline(1, 0.25) == 0.25
    assert memorization_baseline(3, 0.5) == 0.125
    assert memorization_baseline(1) == pytest.approx(1 / 3, rel=1e-15)
