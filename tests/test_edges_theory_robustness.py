"""Edges of the promises of ``dlt.theory.robustness``: the smallest valid sizes, errors that
name the argument (matched from the start of the message), a gain exactly 0, readout gains
and weight scales away from 1, the dtype of the result (the survivors of ``tools/mutation.py``)."""

import math

import pytest
import torch

from dlt.theory.robustness import (
    ibp_tightness_at_init,
    input_gradient_norm,
    relu_input_gradient_norm,
)

# ---------------------------------------------------------------- relu_input_gradient_norm


def test_relu_input_gradient_norm_by_hand_with_a_readout_gain_away_from_one():
    """d_out g_{L+1} prod g_l / 2: gains (4, 3, 0.5) and d_out = 3 give 3 * 0.5 * 2 * 1.5 =
    4.5; rejects dividing by the readout gain (18) or by d_out."""
    assert float(relu_input_gradient_norm([4.0, 3.0, 0.5], d_out=3)) == pytest.approx(4.5)
    assert float(relu_input_gradient_norm([4.0, 3.0, 0.5])) == pytest.approx(1.5)
    assert float(relu_input_gradient_norm([5.0])) == 5.0  # no hidden layer: the readout gain
    batch = torch.tensor([[4.0, 3.0, 0.5], [2.0, 2.0, 1.0]], dtype=torch.float64)
    got = relu_input_gradient_norm(batch, d_out=2)
    torch.testing.assert_close(got, torch.tensor([3.0, 2.0], dtype=torch.float64))


def test_relu_input_gradient_norm_dtype():
    """A sequence is read in float64 (1 + 2**-30 is not a float32) and a tensor keeps its
    dtype: rejects converting with the default dtype, or converting tensors element by
    element (which a batch of rows cannot survive)."""
    got = relu_input_gradient_norm([2.0, 1 + 2**-30])
    assert got.dtype == torch.float64 and float(got) == 1 + 2**-30
    got = relu_input_gradient_norm((2, 2, 3))  # integers too
    assert got.dtype == torch.float64 and float(got) == 3.0
    t32 = torch.tensor([[2.0, 4.0], [4.0, 1.0]], dtype=torch.float32)
    got = relu_input_gradient_norm(t32)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, torch.tensor([4.0, 2.0]))


def test_relu_input_gradient_norm_refuses_a_gain_of_zero():
    """Rejects ``g < 0`` for the documented ``g > 0`` (a gain exactly 0), no check at all, and
    a message that does not start with the name."""
    for bad in ([2.0, 0.0], [0.0, 1.0], torch.tensor([[1.0, 1.0], [1.0, -1.0]])):
        with pytest.raises(ValueError, match=r"^gains must be > 0$"):
            relu_input_gradient_norm(bad)


def test_relu_input_gradient_norm_errors_name_gains_and_its_shape():
    """Rejects a mangled name or shape text in the shape check, and a check that lets a
    0-d or 8-d tensor through (the documented shape is (..., L + 1) with up to 7 dims)."""
    for bad in (torch.tensor(2.0), torch.ones((1,) * 8)):
        with pytest.raises(
            ValueError, match=r"^gains must have shape \(\.\.\., L \+ 1\), got shape \("
        ):
            relu_input_gradient_norm(bad)
    assert float(relu_input_gradient_norm(torch.full((1,) * 7, 2.0))) == 2.0  # 7 dims: accepted
    with pytest.raises(ValueError, match=r"^gains must be finite, got 1 NaN entries$"):
        relu_input_gradient_norm([1.0, math.nan])
    with pytest.raises(ValueError, match=r"^gains must be non-empty"):
        relu_input_gradient_norm([])


def test_relu_input_gradient_norm_refuses_what_is_not_numbers():
    """Rejects a TypeError without the name for a sequence holding a string, or a number."""
    for bad, shown in ((["a", 1.0], r"\['a', 1\.0\]"), (3.0, r"3\.0")):
        with pytest.raises(TypeError, match=rf"^gains must be a sequence of numbers, got {shown}$"):
            relu_input_gradient_norm(bad)


def test_relu_input_gradient_norm_d_out():
    """d_out = 1 is the default; d_out = 0 is refused by name; rejects a check without the
    minimum (which would return 0)."""
    assert float(relu_input_gradient_norm([2.0, 3.0], d_out=1)) == 3.0
    with pytest.raises(ValueError, match=r"^d_out must be >= 1, got 0$"):
        relu_input_gradient_norm([2.0, 3.0], d_out=0)
    with pytest.raises(TypeError, match=r"^d_out must be an integer, got 1\.5$"):
        relu_input_gradient_norm([2.0, 3.0], d_out=1.5)


# ---------------------------------------------------------------- input_gradient_norm


def test_input_gradient_norm_by_hand():
    """sigma_w^2 (sigma_v^2 / 2) (sigma_w^2 / 2)^(L - 1), with depth 1 (the smallest, rejects
    a minimum of 2) and weight scales away from 1 (rejects a wrong power of sigma_v)."""
    assert input_gradient_norm(1, sigma_w=3.0, sigma_v=2.0) == pytest.approx(9 * 2.0)
    assert input_gradient_norm(3, sigma_w=3.0, sigma_v=0.5) == pytest.approx(9 * 0.125 * 4.5**2)
    assert input_gradient_norm(2, 3.0) == input_gradient_norm(2, 3.0, 1.0) == pytest.approx(20.25)
    # the same number from the layer gains: (sigma_w^2, sigma_w^2, sigma_w^2, sigma_v^2)
    want = float(relu_input_gradient_norm([9.0, 9.0, 9.0, 0.25]))
    assert input_gradient_norm(3, sigma_w=3.0, sigma_v=0.5) == pytest.approx(want, rel=1e-14)


def test_input_gradient_norm_errors_name_the_argument():
    """Rejects mangled names in the checks of depth, sigma_w and sigma_v."""
    with pytest.raises(ValueError, match=r"^depth must be >= 1, got 0$"):
        input_gradient_norm(0, 1.0)
    with pytest.raises(ValueError, match=r"^sigma_w must be > 0, got 0\.0$"):
        input_gradient_norm(2, 0.0)
    with pytest.raises(ValueError, match=r"^sigma_v must be > 0, got -1\.0$"):
        input_gradient_norm(2, 1.0, sigma_v=-1.0)


# ---------------------------------------------------------------- ibp_tightness_at_init


def test_ibp_tightness_at_the_smallest_sizes():
    """(pi / 2n)^((L - 1)/2) at width 2 (the smallest: pi/4 per layer) and depth 1 (the
    smallest: 1 at any width); rejects minimums of 3 and 2."""
    assert ibp_tightness_at_init(2, 3) == pytest.approx(math.pi / 4, rel=1e-15)
    assert ibp_tightness_at_init(2, 2) == pytest.approx(math.sqrt(math.pi / 4), rel=1e-15)
    assert ibp_tightness_at_init(2, 1) == 1.0
    assert ibp_tightness_at_init(8, 1) == 1.0


def test_ibp_tightness_errors_name_the_argument():
    """Rejects a check without its minimum (width 1 or depth 0 would give a number) and a
    mangled name in either check."""
    with pytest.raises(ValueError, match=r"^width must be >= 2, got 1$"):
        ibp_tightness_at_init(1, 2)
    with pytest.raises(ValueError, match=r"^depth must be >= 1, got 0$"):
        ibp_tightness_at_init(4, 0)
    with pytest.raises(TypeError, match=r"^width must be an integer, got 2\.5$"):
        ibp_tightness_at_init(2.5, 2)
    with pytest.raises(TypeError, match=r"^depth must be an integer, got 1\.5$"):
        ibp_tightness_at_init(4, 1.5)
