r"""Closed forms of robustness at initialization: the input-gradient norm and IBP tightness.

For a ReLU network :math:`f(x) = v^\top \phi(W_L \cdots \phi(W_1 x))` whose layer
:math:`l` has fan-in :math:`n_{l-1}` and i.i.d. centred Gaussian weights of variance
:math:`\mathrm{Var}(W_l)`, the *gain* of the layer is :math:`g_l = n_{l-1}\mathrm{Var}(W_l)`.
Propagating the gradient backwards, each ReLU keeps half of the squared norm in
expectation and each layer multiplies it by its gain, so

.. math:: \mathbb E\,\|\nabla_x f(x)\|_2^2 = d_{\mathrm{out}}\, g_{L+1} \prod_{l=1}^{L}
    \frac{g_l}{2}

(the mean-field backward recursion of Schoenholz et al. 2017 for ReLU). With the first
layer :math:`\mathcal N(0, \sigma_w^2/d)`, hidden layers :math:`\mathcal N(0,
\sigma_w^2/m)` and the readout :math:`\mathcal N(0, \sigma_v^2/m)` this is
:math:`\sigma_w^2 (\sigma_v^2/2)(\sigma_w^2/2)^{L-1}`: independent of the depth under He
initialization (:math:`\sigma_w^2 = 2`), :math:`\propto 2^{-L}` under LeCun
(:math:`\sigma_w^2 = 1`) -- the starting point of Zhu et al. (2022)'s "depth helps under
LeCun, hurts under He and NTK initialization".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..core.validate import as_tensor, check_int, check_positive

__all__ = ["relu_input_gradient_norm", "input_gradient_norm", "ibp_tightness_at_init"]


def relu_input_gradient_norm(gains: Sequence[float] | torch.Tensor, d_out: int = 1) -> torch.Tensor:
    r"""The expected squared input-Jacobian norm of a random ReLU network from its layer gains.

    .. math:: \mathbb E\,\|J_x f\|_F^2 = d_{\mathrm{out}}\, g_{L+1} \prod_{l=1}^{L}
        \frac{g_l}{2}, \qquad g_l = n_{l-1}\,\mathrm{Var}(W_l)

    for ``L = len(gains) - 1`` hidden ReLU layers, at any input :math:`x \ne 0`.

    Parameters
    ----------
    gains : sequence of L + 1 positive floats, or Tensor of shape (..., L + 1)
        :math:`g_1, \dots, g_{L+1}`: fan-in times the variance of the effective weights
        of each layer (multiplier times stored weight), the readout last.
    d_out : int
        Number of outputs (the Frobenius norm sums over them).

    Returns
    -------
    Tensor of shape (...)

    References
    ----------
    Schoenholz, Gilmer, Ganguli and Sohl-Dickstein (2017), Deep information propagation;
    Zhu, Liu, Chrysos and Cevher (2022), Robustness in deep learning: the good (width), the
    bad (depth), and the ugly (initialization).

    Examples
    --------
    >>> relu_input_gradient_norm([2.0, 2.0, 2.0, 1.0])  # He, readout gain 1: depth-neutral
    tensor(1., dtype=torch.float64)
    """
    if not isinstance(gains, torch.Tensor):
        try:
            gains = torch.tensor([float(v) for v in gains], dtype=torch.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"gains must be a sequence of numbers, got {gains!r}") from err
    g = as_tensor(gains, "gains", ndim=range(1, 8), shape="(..., L + 1)")
    if bool((g <= 0).any()):
        raise ValueError("gains must be > 0")
    d_out = check_int(d_out, "d_out", minimum=1)
    return d_out * g[..., -1] * (g[..., :-1] / 2).prod(-1)


def input_gradient_norm(depth: int, sigma_w: float, sigma_v: float = 1.0) -> float:
    r"""The expected squared input-gradient norm of a scalar ReLU MLP at initialization.

    .. math:: \mathbb E\,\|\nabla_x f\|_2^2 = \sigma_w^2\,\frac{\sigma_v^2}{2}
        \Big(\frac{\sigma_w^2}{2}\Big)^{L-1}

    for the first layer :math:`\mathcal N(0, \sigma_w^2/d)`, the hidden layers
    :math:`\mathcal N(0, \sigma_w^2/m)`, the readout :math:`\mathcal N(0, \sigma_v^2/m)`
    and ``depth`` :math:`= L \ge 1` hidden layers, at any width and any input :math:`x \ne
    0`. The ``standard`` and ``ntk`` parameterizations of :mod:`dlt.nets.parameterization`
    give the same function at initialization, hence the same value; He is
    :math:`\sigma_w^2 = 2`, LeCun :math:`\sigma_w^2 = 1`.

    Parameters
    ----------
    depth : int
        Number of hidden layers :math:`L \ge 1`.
    sigma_w, sigma_v : float
        Weight scales of the hidden layers and of the readout (> 0).

    Returns
    -------
    float

    References
    ----------
    Zhu, Liu, Chrysos and Cevher (2022), section 4 (depth and initialization).

    Examples
    --------
    >>> input_gradient_norm(4, sigma_w=2 ** 0.5), input_gradient_norm(4, sigma_w=1.0)
    (1.0, 0.0625)
    """
    depth = check_int(depth, "depth", minimum=1)
    sw2 = check_positive(sigma_w, "sigma_w") ** 2
    sv2 = check_positive(sigma_v, "sigma_v") ** 2
    return float(sw2 * (sv2 / 2) * (sw2 / 2) ** (depth - 1))


def ibp_tightness_at_init(width: int, depth: int) -> float:
    r"""The approximate IBP tightness of a Gaussian deep linear network at initialization.

    .. math:: \tau \approx \Big(\frac{\pi}{2n}\Big)^{(L-1)/2}

    for ``depth`` :math:`L` layers of hidden width :math:`n`: each layer after the first
    divides the tightness by about :math:`\sqrt{2n/\pi}`, the ratio of
    :math:`\mathbb E\sum_j |a_j| |w_j|` to :math:`\mathbb E|\sum_j a_j w_j|` for :math:`n`
    independent Gaussian terms. It is an approximation for large :math:`n`, not a bound; the
    log-slope per layer is :math:`\tfrac12\ln(\pi/(2n))`. Mao et al. (2024)
    prove the decrease with width and depth.

    Parameters
    ----------
    width : int
        Hidden width :math:`n \ge 2`.
    depth : int
        Number of linear layers :math:`L \ge 1`.

    Returns
    -------
    float

    References
    ----------
    Mao, Müller, Fischer and Vechev (2024), Understanding certified training with interval
    bound propagation.

    Examples
    --------
    >>> round(ibp_tightness_at_init(64, 1), 3), round(math.log(ibp_tightness_at_init(1024, 2)), 3)
    (1.0, -3.24)
    """
    width = check_int(width, "width", minimum=2)
    depth = check_int(depth, "depth", minimum=1)
    return float((math.pi / (2 * width)) ** ((depth - 1) / 2))
