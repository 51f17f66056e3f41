"""The signal-plus-noise patch data of the benign-overfitting CNN papers."""

from __future__ import annotations

import torch

from ..core.params import Int, NonNegative, Positive, validate_params
from ..core.validate import check_int, check_nonnegative, check_positive, generator
from .inputs import finish

__all__ = ["signal_noise_patches"]


@validate_params(
    {
        "n": Int(1),
        "dim": Int(2),
        "n_patches": Int(2),
        "signal_norm": NonNegative(),
        "noise": Positive(),
        "label_noise": NonNegative(),
    }
)
def signal_noise_patches(
    n: int,
    dim: int,
    *,
    signal_norm: float = 1.0,
    noise: float = 1.0,
    label_noise: float = 0.0,
    n_patches: int = 2,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The signal-plus-noise patch data of the benign-overfitting CNN papers.

    Each input has ``n_patches`` patches in :math:`\mathbb{R}^d`: one signal patch
    :math:`y\,\mu` at a uniformly random position and noise patches
    :math:`\xi \sim \mathcal N\big(0, \sigma_p^2 (I - \mu\mu^\top/\|\mu\|^2)\big)` elsewhere,
    with :math:`\mu = \|\mu\|\,e_1`. The clean label :math:`y` is a fair sign; the observed
    label is :math:`\tilde y = -y` with probability ``label_noise`` (Kou et al. 2023; Cao
    et al. 2022 have no label flips). The signal-to-noise ratio is
    :math:`\mathrm{SNR} = \|\mu\| / (\sigma_p \sqrt{d})`; Kou et al. prove that a two-layer
    ReLU CNN with its second layer fixed (for :math:`d` large compared with :math:`n^2`, a small
    step size and a small initialization) trained to zero training loss overfits benignly when
    :math:`n\|\mu\|^4 \ge C\sigma_p^4 d` and harmfully when :math:`n\|\mu\|^4 \le C'\sigma_p^4 d`.

    Parameters
    ----------
    n, dim : int
        Sample size and patch dimension ``d >= 2``.
    signal_norm : float
        :math:`\|\mu\| \ge 0`.
    noise : float
        :math:`\sigma_p > 0`.
    label_noise : float
        Flip probability in ``[0, 1/2)``.
    n_patches : int
        Number of patches ``>= 2``.
    seed : int or torch.Generator

    Returns
    -------
    X : Tensor of shape ``(n, n_patches, dim)``
    y : Tensor of shape ``(n,)``, the observed labels ``±1`` (flipped with probability ``label_noise``)
    y_clean : Tensor of shape ``(n,)``, the clean labels ``±1``

    References
    ----------
    Y. Cao, Z. Chen, M. Belkin, Q. Gu, "Benign overfitting in two-layer convolutional neural
    networks", NeurIPS 2022. Y. Kou, Z. Chen, Y. Chen, Q. Gu, "Benign overfitting in two-layer
    ReLU convolutional neural networks", ICML 2023.

    Examples
    --------
    >>> X, y, yc = signal_noise_patches(8, 16, signal_norm=3.0, seed=0)
    >>> X.shape, bool(((X[:, :, 0] * yc[:, None]).sum(1) == 3.0).all())
    (torch.Size([8, 2, 16]), True)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=2)
    n_patches = check_int(n_patches, "n_patches", minimum=2)
    signal_norm = check_nonnegative(signal_norm, "signal_norm")
    noise = check_positive(noise, "noise")
    label_noise = check_nonnegative(label_noise, "label_noise")
    if label_noise >= 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    g = generator(seed)
    y_clean = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    flip = torch.rand(n, generator=g) < label_noise
    y = torch.where(flip, -y_clean, y_clean)
    X = noise * torch.randn(n, n_patches, dim, generator=g, dtype=torch.float64)
    X[:, :, 0] = 0.0  # noise orthogonal to mu = |mu| e_1
    pos = torch.randint(n_patches, (n,), generator=g)
    X[torch.arange(n), pos, :] = 0.0
    X[torch.arange(n), pos, 0] = signal_norm * y_clean
    return finish(X, dtype, device), finish(y, dtype, device), finish(y_clean, dtype, device)
