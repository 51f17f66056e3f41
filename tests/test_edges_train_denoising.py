"""Edge tests of dlt/train/denoising.py: the EDM denoising loss.

Each test names the plausible bug it rejects; expected values are computed by hand for a
denoiser that returns zeros, at a noise level pinned by a range of width 1e-12.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlt.train.denoising import DenoisingLoss

F64 = torch.float64


class _Zero(nn.Module):
    """A denoiser that answers 0, with an optional ``sigma_data`` attribute."""

    def __init__(self, sigma_data: float | None = None) -> None:
        super().__init__()
        if sigma_data is not None:
            self.sigma_data = sigma_data

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def test_explicit_sigma_data_overrides_the_models():
    """Rejects a loss that ignores its own ``sigma_data`` and reads the model's: with
    ``D = 0``, clean points of all ones and sigma = 1, the loss is the weight
    (sigma^2 + sd^2) / (sigma^2 sd^2): 5 for sd = 0.5 given to the loss, 2 for the model's
    sd = 1, and a model without the attribute must not be asked for it."""
    x0 = torch.ones(4, 3, dtype=F64)
    sig = dict(sigma_min=1.0, sigma_max=1.0 + 1e-12)
    got = DenoisingLoss(**sig, sigma_data=0.5)(_Zero(sigma_data=1.0), x0, None, 0)
    torch.testing.assert_close(got, torch.tensor(5.0, dtype=F64), rtol=1e-9, atol=0)
    got = DenoisingLoss(**sig, sigma_data=0.5)(_Zero(), x0, None, 0)  # no attribute at all
    torch.testing.assert_close(got, torch.tensor(5.0, dtype=F64), rtol=1e-9, atol=0)
    got = DenoisingLoss(**sig)(_Zero(sigma_data=1.0), x0, None, 0)  # default: the model's
    torch.testing.assert_close(got, torch.tensor(2.0, dtype=F64), rtol=1e-9, atol=0)
    # (B, n_models, d): summed over the 2 members
    got = DenoisingLoss(**sig, sigma_data=0.5)(_Zero(), torch.ones(4, 2, 3, dtype=F64), None, 0)
    torch.testing.assert_close(got, torch.tensor(10.0, dtype=F64), rtol=1e-9, atol=0)


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2, 2)])
def test_wrong_dimension_of_x0_is_refused_naming_it(shape):
    """Rejects a mangled or missing message for clean points that are neither (B, d) nor
    (B, n_models, d): a ValueError starting with ``x0`` and stating the shape received."""
    want = r"^x0 must have shape \(B, d\) or \(B, n_models, d\), got " + (
        r"\(3,\)$" if len(shape) == 1 else r"\(2, 2, 2, 2\)$"
    )
    with pytest.raises(ValueError, match=want):
        DenoisingLoss(sigma_data=0.5)(_Zero(), torch.ones(shape), None, 0)
