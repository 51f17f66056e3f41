"""Edges of ``dlt.measure.perturbation``: Gaussian posteriors and flatness, computed by hand.

The model ``Threshold`` has one scalar weight w (0 at the mean) and logits (x_0, |w|): a row
is misclassified as class 1 exactly when |w| > x_0. Under the posterior w = sigma z, with the
draws z known from the seed, the error of every scale is a count done by hand, and the
sharpness is the scale at which a chosen number of rows flips.
"""

import math

import pytest
import torch
from torch import nn

from dlt.measure.perturbation import Sharpness, posterior_errors, sharpness


class Threshold(nn.Module):
    """Logits (x_0, |w|) with w a scalar parameter, 0 at the posterior mean."""

    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.w = nn.Parameter(torch.zeros((), dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x[:, 0], self.w.abs() + 0 * x[:, 0]], 1)


class Frozen(nn.Module):
    """Logits that do not depend on the parameter: no noise ever changes the error."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x[:, 0], 0 * self.w + x[:, 1]], 1)


class Fragile(nn.Module):
    """Class 1 wins as soon as w != 0 (logit 1e300 w^2): any noise misclassifies every row."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([0 * x[:, 0], 1e300 * self.w * self.w + 0 * x[:, 0]], 1)


def _draws(samples: int, seed: int) -> torch.Tensor:
    """The posterior draws z_j of the scalar weight for this seed (float64, like the model)."""
    return torch.randn(samples, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _by_hand(x0: torch.Tensor, sigmas, samples: int, seed: int) -> torch.Tensor:
    z = _draws(samples, seed).abs()
    s = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    flips = s[:, None, None] * z[None, :, None] > x0[None, None, :]
    return flips.double().mean(2).mean(1)


X = torch.tensor([[0.1, 0.0], [0.2, 0.0], [0.4, 0.0], [0.8, 0.0]], dtype=torch.float64)
Y = torch.zeros(4, dtype=torch.long)


# ----------------------------------------------------------------------------- posterior_errors


def test_posterior_errors_count_by_hand():
    """Errors at several scales equal the count of rows with sigma |z_j| > x_0, averaged over
    the float64 draws z_j of the seed, the same draws at every scale. Rejects fresh draws per
    scale, float32 draws for a float64 model, a wrong seed or number of draws."""
    sig = torch.tensor([0.0, 0.05, 0.15, 0.3, 0.6, 1.0, 10.0])
    for samples, seed in ((1, 0), (7, 3)):
        got = posterior_errors(Threshold(), X, Y, sig, samples, seed=seed)
        torch.testing.assert_close(got, _by_hand(X[:, 0], sig, samples, seed), rtol=0, atol=1e-15)
    # one draw, one scale: exactly the fraction of flipped rows
    z = float(_draws(1, 0).abs()[0])
    got = posterior_errors(Threshold(), X, Y, 0.3 / z, 1, seed=0)
    assert got.tolist() == [0.5]


def test_posterior_errors_defaults_and_dtype():
    """Default samples=20 and seed=0 (checked against the explicit call and against 21 draws);
    the result is in the model's dtype whatever the dtype of ``sigmas``, and sigmas are
    converted to it (a scale of 0.15 in float64, not its float32 rounding)."""
    sig = [0.15, 0.3, 0.45]
    m = Threshold()
    default = posterior_errors(m, X, Y, sig)
    assert default.dtype == torch.float64 and default.shape == (3,)
    torch.testing.assert_close(default, posterior_errors(m, X, Y, sig, 20, seed=0))
    torch.testing.assert_close(default, _by_hand(X[:, 0], sig, 20, 0), rtol=0, atol=1e-15)
    assert not torch.equal(default, posterior_errors(m, X, Y, sig, 21, seed=0))
    assert not torch.equal(default, posterior_errors(m, X, Y, sig, 20, seed=1))
    f32 = posterior_errors(m, X, Y, torch.tensor(sig, dtype=torch.float32))
    assert f32.dtype == torch.float64
    m32 = Threshold(torch.float32)
    assert posterior_errors(m32, X.float(), Y, torch.tensor(sig, dtype=torch.float64)).dtype == (
        torch.float32
    )


def test_posterior_errors_python_float_scales_stay_double():
    """A Python float (a double) reaches a float64 model unrounded. One row sits exactly at
    sigma |z| for sigma = 0.1: not flipped (|w| > x_0 is strict). Through float32, 0.1 becomes
    0.100000001490116... and the row flips: the bug this rejects (it also cost ``sharpness``
    all digits past the eighth)."""
    z = float(_draws(1, 0).abs()[0])
    x = torch.tensor([[0.1 * z, 0.0]], dtype=torch.float64)
    y = torch.zeros(1, dtype=torch.long)
    assert posterior_errors(Threshold(), x, y, 0.1, 1, seed=0).tolist() == [0.0]
    assert posterior_errors(Threshold(), x, y, [0.1, 0.1], 1, seed=0).tolist() == [0.0, 0.0]
    as_float32 = torch.tensor(0.1, dtype=torch.float32)  # a float32 tensor is taken as given
    assert posterior_errors(Threshold(), x, y, as_float32, 1, seed=0).tolist() == [1.0]


def test_posterior_errors_a_float_count_of_draws():
    """``samples`` may be a float with an integer value (2.0 is 2 draws)."""
    torch.testing.assert_close(
        posterior_errors(Threshold(), X, Y, 0.3, 2.0, seed=5),
        posterior_errors(Threshold(), X, Y, 0.3, 2, seed=5),
    )


def test_posterior_errors_scale_zero_is_allowed_and_negative_is_not():
    """sigma = 0 is the model itself (error 0 here, not an error); sigma < 0 raises naming
    ``sigmas`` and the smallest value; a single draw is allowed."""
    assert posterior_errors(Threshold(), X, Y, 0.0, 1).tolist() == [0.0]
    assert posterior_errors(Threshold(), X, Y, [0.0, 0.5], 1).shape == (2,)
    with pytest.raises(ValueError, match=r"^sigmas must be >= 0, got -2\.0$"):
        posterior_errors(Threshold(), X, Y, [0.5, -2.0, -1.0])
    with pytest.raises(ValueError, match=r"^samples must be >= 1, got 0"):
        posterior_errors(Threshold(), X, Y, 0.5, 0)


# ----------------------------------------------------------------------------- sharpness


def test_sharpness_is_the_scale_where_the_allowed_rows_have_flipped():
    """One draw z: the error is (rows with sigma |z| > x_0) / 4 and base error 0. With
    deviation 0.25 one flipped row is tolerated (0.25 <= 0 + 0.25, the tie allowed), so
    sigma' = x_0[1] / |z| = 0.2 / |z|; a strict < would give 0.1 / |z|, fresh draws at each
    bisection step or another seed a different z."""
    z = float(_draws(1, 4).abs()[0])
    s = sharpness(Threshold(), X, Y, deviation=0.25, samples=1, iters=50, seed=4)
    assert isinstance(s, Sharpness)
    assert s.sigma == pytest.approx(0.2 / z, rel=1e-9)
    assert s.value == pytest.approx((z / 0.2) ** 2, rel=1e-9)
    # deviation just under 1/4: no flipped row is tolerated
    s = sharpness(Threshold(), X, Y, deviation=0.24, samples=1, iters=50, seed=4)
    assert s.sigma == pytest.approx(0.1 / z, rel=1e-9)


def test_sharpness_one_bisection_step_from_the_documented_interval():
    """Bisection in log sigma on [1e-4, 1e2]: one step tests sigma = 0.1. A model that noise
    never hurts keeps it (sigma = 0.1, value 100), two steps give sqrt(10); a model that any
    noise breaks never leaves 1e-4 (value 1e8)."""
    Xf = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    yf = torch.tensor([0, 1])
    s = sharpness(Frozen(), Xf, yf, iters=1)
    assert s.sigma == pytest.approx(0.1, rel=1e-12)
    assert s.value == pytest.approx(100.0, rel=1e-12)
    assert sharpness(Frozen(), Xf, yf, iters=2).sigma == pytest.approx(math.sqrt(10), rel=1e-12)
    s = sharpness(Fragile(), Xf, torch.zeros(2, dtype=torch.long), iters=3, samples=4)
    assert s.sigma == pytest.approx(1e-4, rel=1e-12)
    assert s.value == pytest.approx(1e8, rel=1e-12)
    # after many steps on a model that never breaks, sigma tends to the top of the interval
    assert sharpness(Frozen(), Xf, yf, iters=40).sigma == pytest.approx(100.0, rel=1e-9)


def test_sharpness_defaults_are_the_documented_ones():
    """Defaults deviation=0.1, samples=20, iters=20, seed=0: the same answer as the explicit
    call, and each of them changes the answer here (so a changed default would show)."""
    x = torch.zeros(10, 2, dtype=torch.float64)
    x[:, 0] = torch.linspace(0.1, 1.0, 10, dtype=torch.float64)
    y = torch.zeros(10, dtype=torch.long)
    m = Threshold()
    default = sharpness(m, x, y)
    explicit = dict(deviation=0.1, samples=20, iters=20, seed=0)
    assert default == sharpness(m, x, y, **explicit)
    for change in ({"deviation": 0.2}, {"samples": 21}, {"iters": 21}, {"seed": 1}):
        assert sharpness(m, x, y, **{**explicit, **change}) != default


def test_sharpness_argument_errors():
    """Out-of-range arguments raise naming the argument; one draw and one step are allowed."""
    m = Threshold()
    with pytest.raises(ValueError, match=r"^deviation must be in \(0, 1\)"):
        sharpness(m, X, Y, deviation=1.0)
    with pytest.raises(ValueError, match=r"^iters must be >= 1, got 0"):
        sharpness(m, X, Y, iters=0)
    with pytest.raises(ValueError, match=r"^samples must be >= 1, got 0"):
        sharpness(m, X, Y, samples=0)
    with pytest.raises(ValueError, match=r"^y must have shape \(4,\)"):
        sharpness(m, X, Y[:3])
    assert sharpness(m, X, Y, samples=1, iters=1).sigma in (pytest.approx(1e-4), 0.1)
