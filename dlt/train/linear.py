r"""Long runs of first-order methods on the logistic loss of a linear classifier.

The implicit-bias results of Soudry et al. (2018) and Zhang et al. (2024) are about
:math:`10^4`-:math:`10^6` steps on a linear model, where an autograd step of
:func:`dlt.train.fit` costs more than the arithmetic. :func:`logistic_descent` takes the same
steps as ``fit`` with ``loss="logistic"`` and a bias-free linear model (the tests check that
the iterates agree to rounding with ``torch.optim.SGD`` and ``torch.optim.Adam``), with the
gradient written out, :math:`\nabla L(w) = -\frac1n Z^\top\sigma(-Zw)`, with :math:`\sigma(-m)`
computed without cancellation (it stays relative-accurate, :math:`\approx e^{-m}`, at large
margins, where sign descent and Adam still move).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..core.params import Choice, Fraction, Int, Matrix, NonNegative, Positive, validate_params
from ..core.validate import (
    as_matrix,
    check_choice,
    check_fraction,
    check_int,
    check_nonnegative,
    check_positive,
)

__all__ = ["LogisticPath", "logistic_descent"]


def _sigmoid_of_minus(m: np.ndarray) -> np.ndarray:
    r"""Return :math:`\sigma(-m) = 1/(1 + e^{m})` to full relative precision for every ``m``.

    With :math:`e = e^{-|m|} \in (0, 1]` it is :math:`e/(1+e)` for :math:`m \ge 0` and
    :math:`1/(1+e)` for :math:`m < 0`: no difference of nearly equal numbers, so a margin of 40
    gives :math:`\approx e^{-40}`, not 0. (The form :math:`(1 - \tanh(m/2))/2` cancels: in
    float64 it is exactly 0 once :math:`m > 37`, and with it the whole gradient.)
    """
    e = np.exp(-np.abs(m))
    return np.where(m >= 0, e, 1.0) / (1.0 + e)


def _scaled_gradient(z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Return :math:`(\tilde g, s)` with :math:`\nabla L(w) = e^{-s}\tilde g` exactly.

    :math:`s = \max(0, \min_i m_i)` for the margins :math:`m = Zw`. Once every margin is
    positive, :math:`\sigma(-m_i) = e^{-s}\,e^{-(m_i - s)}/(1 + e^{-m_i})`, and the factor
    :math:`e^{-s}` is kept apart: in float64 :math:`e^{-m}` underflows past :math:`m \approx 745`
    (and Adam's :math:`g^2` past :math:`m \approx 372`), while sign descent and Adam only need
    the gradient up to a positive factor and keep moving there.
    """
    margins = z @ w
    shift = float(margins.min())
    if shift <= 0.0:
        return -(z.T @ _sigmoid_of_minus(margins)) / len(z), 0.0
    e = np.exp(shift - margins)  # e^{-(m - s)} in (0, 1]
    s = e / (1.0 + e * np.exp(-shift))  # e^{-m} = e^{-(m - s)} e^{-s}
    return -(z.T @ s) / len(z), shift


class LogisticPath(NamedTuple):
    """Recorded iterates of :func:`logistic_descent`: ``step`` (T,), ``w`` (T, d), ``loss`` (T,).

    Examples
    --------
    >>> p = LogisticPath(torch.tensor([1]), torch.zeros(1, 2), torch.ones(1))
    >>> p.w.shape
    torch.Size([1, 2])
    """

    step: torch.Tensor
    w: torch.Tensor
    loss: torch.Tensor


@validate_params(
    {
        "Z": Matrix(),
        "optimizer": Choice(("gd", "sign", "adam")),
        "lr": Positive(),
        "steps": Int(1),
        "decay": Fraction(),
        "eps": NonNegative(),
    }
)
def logistic_descent(
    Z: torch.Tensor,
    optimizer: str = "gd",
    lr: float = 1.0,
    steps: int = 1000,
    *,
    decay: float = 0.0,
    eps: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    record: Sequence[int] | None = None,
) -> LogisticPath:
    r"""Gradient, sign or Adam descent from :math:`w_0 = 0` on :math:`L(w) = \frac1n\sum_i \log(1 + e^{-z_i^\top w})`.

    With :math:`g_t = \nabla L(w_t)` and :math:`\eta_t = \text{lr}\,(t+1)^{-\text{decay}}`:

    - ``"gd"``: :math:`w_{t+1} = w_t - \eta_t g_t`;
    - ``"sign"``: :math:`w_{t+1} = w_t - \eta_t \operatorname{sign}(g_t)` (steepest descent in
      :math:`\ell_\infty` with normalized steps);
    - ``"adam"``: :math:`m_{t+1} = \beta_1 m_t + (1-\beta_1)g_t`,
      :math:`v_{t+1} = \beta_2 v_t + (1-\beta_2)g_t^2`,
      :math:`w_{t+1} = w_t - \eta_t \hat m/(\sqrt{\hat v} + \epsilon)` with the bias
      corrections :math:`\hat m = m_{t+1}/(1-\beta_1^{t+1})`,
      :math:`\hat v = v_{t+1}/(1-\beta_2^{t+1})`, exactly as ``torch.optim.Adam``.
      :math:`m` and :math:`v` are stored multiplied by :math:`e^{L}`, :math:`e^{2L}` for a
      scale :math:`L` chosen each step (the step does not depend on it), so that nothing
      underflows where :math:`e^{-m}` does: the tests follow a 50-digit reference past
      margins of 7000.

    Parameters
    ----------
    Z : Tensor of shape (n, d)
        Rows :math:`z_i = y_i x_i`.
    optimizer : {"gd", "sign", "adam"}
    lr : float
        Base step size (> 0).
    steps : int
        Number of steps (>= 1).
    decay : float
        Exponent of the step-size schedule :math:`\eta_t = \text{lr}/(t+1)^{\text{decay}}`, in [0, 1].
    eps : float
        Adam's stability constant (>= 0); 0 is the setting of Zhang et al. (2024).
    betas : (float, float)
        Adam's :math:`(\beta_1, \beta_2)`, each in [0, 1).
    record : sequence of int, optional
        Steps after which to record :math:`w_t` (each in 1..steps); default: about 60
        log-spaced steps and the last.

    Returns
    -------
    LogisticPath
        float64 tensors on ``Z``'s device.

    Raises
    ------
    ValueError
        On a non-finite ``Z``, an unknown optimizer, or out-of-range numbers.

    References
    ----------
    Soudry et al. (2018), The implicit bias of gradient descent on separable data, JMLR;
    Gunasekar et al. (2018), Characterizing implicit bias in terms of optimization geometry,
    ICML; Zhang, Zou and Cao (2024), The implicit bias of Adam on separable data, NeurIPS.

    Examples
    --------
    >>> Z = torch.tensor([[1.0, 0.5], [1.0, -0.5]])
    >>> p = logistic_descent(Z, "gd", lr=1.0, steps=1000, record=[10, 1000])
    >>> p.w[-1, 1].abs().item() < 1e-12 and p.loss[-1] < p.loss[0]  # the symmetric direction
    tensor(True)
    """
    z = as_matrix(Z, "Z")
    optimizer = check_choice(optimizer, "optimizer", ("gd", "sign", "adam"))
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=1)
    decay = check_fraction(decay, "decay")
    eps = check_nonnegative(eps, "eps")
    b1 = check_fraction(betas[0], "betas[0]", high_open=True)
    b2 = check_fraction(betas[1], "betas[1]", high_open=True)
    if record is None:
        grid = np.unique(np.geomspace(1, steps, 60).round().astype(int))
    else:
        grid = np.unique([check_int(s, "record", minimum=1) for s in record])
        if grid.size == 0 or grid[-1] > steps:
            raise ValueError(f"record must hold steps in 1..{steps}, got {list(record)}")
    zn = z.detach().cpu().double().numpy()
    n, d = zn.shape
    w, m, v = np.zeros(d), np.zeros(d), np.zeros(d)
    want = set(grid.tolist())
    ws, losses = [], []
    # Adam's m and v are stored multiplied by e^L and e^{2L}: the true moments underflow past
    # margins of 372-745, and their ratio, the step, does not change with L (eps becomes eps e^L).
    log_scale = 0.0
    for t in range(steps):
        g, shift = _scaled_gradient(zn, w)  # the gradient is exp(-shift) * g
        eta = lr / (t + 1) ** decay
        if optimizer == "gd":
            w = w - eta * (g * np.exp(-shift) if shift > 0 else g)
        elif optimizer == "sign":
            w = w - eta * np.sign(g)
        else:
            # Choose the new scale L' so that the largest entry of |m| and sqrt(v), old terms and
            # new gradient alike, is about 1: nothing overflows (m / sqrt(v) is unbounded when
            # b1^2 > b2), and what underflows is negligible beside that entry.
            with np.errstate(divide="ignore"):  # log 0 = -inf: a term that is all zeros
                top = max(
                    np.log(b1 * np.abs(m).max()) - log_scale,
                    np.log(b2 * v.max()) / 2 - log_scale,
                    np.log(max(1 - b1, np.sqrt(1 - b2)) * np.abs(g).max()) - shift,
                )
            if top > -np.inf:  # else g = 0, m = 0 and v = 0: nothing to rescale
                new_scale = -top  # the old m (v) counts in top unless b1 = 0 (b2 = 0) or it is 0
                keep_m, keep_v = b1 > 0 and bool(m.any()), b2 > 0 and bool(v.any())
                m = m * np.exp(new_scale - log_scale) if keep_m else np.zeros(d)
                v = v * np.exp(2 * (new_scale - log_scale)) if keep_v else np.zeros(d)
                g, log_scale = g * np.exp(new_scale - shift), new_scale
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            with np.errstate(over="ignore"):  # eps e^L = inf: eps dominates, no step
                eps_scaled = eps * np.exp(log_scale) if eps > 0 else 0.0  # not 0 * inf
            denom = np.sqrt(v / (1 - b2 ** (t + 1))) + eps_scaled
            step = np.divide(m / (1 - b1 ** (t + 1)), denom, out=np.zeros(d), where=denom > 0)
            w = w - eta * step
        if t + 1 in want:
            ws.append(w.copy())
            losses.append(float(np.logaddexp(0.0, -(zn @ w)).mean()))
    kw = dict(dtype=torch.float64, device=z.device)
    return LogisticPath(
        torch.as_tensor(grid, device=z.device),
        torch.as_tensor(np.array(ws), **kw),  # type: ignore[arg-type]
        torch.as_tensor(np.array(losses), **kw),  # type: ignore[arg-type]
    )
