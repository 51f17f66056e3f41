r"""Generalization bounds in closed form: the binary kl, its inverse, PAC-Bayes-kl and VC.

The PAC-Bayes-kl bound (Seeger 2002; Maurer 2004) bounds the risk of a *stochastic*
classifier :math:`Q` (a distribution over weights) by the inverse of the binary kl
divergence,

.. math:: \operatorname{kl}\big(\hat L_S(Q)\,\|\,L(Q)\big) \le
          \frac{\operatorname{KL}(Q\|P) + \ln(2\sqrt n/\delta)}{n},

so :math:`L(Q) \le \operatorname{kl}^{-1}(\hat L_S(Q), c)` (:func:`kl_inverse`). With
Gaussian :math:`P` and :math:`Q` the KL is :func:`gaussian_kl`; the empirical error of
:math:`Q` estimated from :math:`m` weight samples is itself bounded by a second kl inverse
(Langford & Caruana 2001, :func:`mc_error_bound`); :func:`pac_bayes_bound` puts the pieces
together with a union bound over a grid of prior and posterior scales, as Dziugaite & Roy
(2017) do. :func:`vc_bound` is the classical parameter-counting bound it is compared with.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..core.params import Fraction, Int, Tensor, validate_params
from ..core.validate import as_tensor, check_fraction, check_int
from .kl import _exact, _probabilities, kl_inverse

__all__ = [
    "mc_error_bound",
    "pac_bayes_kl_bound",
    "PacBayesBound",
    "pac_bayes_bound",
    "vc_bound",
]


@validate_params(
    {
        "error": Tensor(tuple(range(8)), "(...) of numbers in [0, 1]"),
        "samples": Int(1),
        "delta": Fraction(low_open=True, high_open=True),
    }
)
def mc_error_bound(error: object, samples: int, delta: float) -> torch.Tensor:
    r"""Bound on a stochastic classifier's error from its average over ``samples`` draws.

    If :math:`\hat e_m` is the mean error of :math:`m` independent draws :math:`h_j \sim Q`
    on a fixed sample, then with probability at least :math:`1-\delta` over the draws
    (Langford & Caruana 2001; used so by Dziugaite & Roy 2017)

    .. math:: \hat L_S(Q) \le \operatorname{kl}^{-1}\Big(\hat e_m, \frac{\ln(2/\delta)}{m}\Big).

    Parameters
    ----------
    error : float or Tensor
        Monte Carlo error(s) :math:`\hat e_m \in [0, 1]`.
    samples : int
        Number of draws :math:`m \ge 1`.
    delta : float
        Failure probability in :math:`(0, 1)`.

    Returns
    -------
    Tensor
        The bound(s), in the dtype of ``error``.

    Raises
    ------
    ValueError
        If ``error`` is outside :math:`[0, 1]`, ``samples < 1`` or ``delta`` is outside (0, 1).

    References
    ----------
    Langford & Caruana (2001), (Not) bounding the true error, NeurIPS.

    Examples
    --------
    >>> round(float(mc_error_bound(0.0, 100, 0.01)), 4)  # 1 - (delta/2)^(1/m)
    0.0516
    """
    samples = check_int(samples, "samples", minimum=1)
    delta = check_fraction(delta, "delta", low_open=True, high_open=True)
    e = _probabilities(error, "error")
    return kl_inverse(e, math.log(2 / delta) / samples)


@validate_params(
    {
        "error": Tensor(tuple(range(8)), "(...) of numbers in [0, 1]"),
        "n": Int(8),
        "delta": Fraction(low_open=True, high_open=True),
    }
)
def pac_bayes_kl_bound(error: object, kl_divergence: object, n: int, delta: float) -> torch.Tensor:
    r"""The PAC-Bayes-kl bound (Seeger 2002; Maurer 2004) on the risk of a stochastic classifier.

    For a prior :math:`P` chosen before seeing the :math:`n` samples, with probability at least
    :math:`1-\delta`, simultaneously for every posterior :math:`Q`,

    .. math:: L(Q) \le \operatorname{kl}^{-1}\Big(\hat L_S(Q),
              \frac{\operatorname{KL}(Q\|P) + \ln(2\sqrt n/\delta)}{n}\Big).

    Parameters
    ----------
    error : float or Tensor
        Empirical error(s) :math:`\hat L_S(Q) \in [0, 1]` (or an upper bound on it).
    kl_divergence : float or Tensor (broadcastable with ``error``)
        :math:`\operatorname{KL}(Q\|P) \ge 0`.
    n : int
        Number of training samples, ``n >= 8`` (Maurer's constant :math:`2\sqrt n` is proved
        for :math:`n \ge 8`; smaller samples raise ``ValueError``).
    delta : float
        Failure probability in (0, 1).

    Returns
    -------
    Tensor
        The bound(s), in the dtype of ``error``.

    Raises
    ------
    ValueError
        If an argument is out of range or not finite.

    References
    ----------
    Maurer (2004), A note on the PAC Bayesian theorem, arXiv:cs/0411099; Seeger (2002),
    JMLR 3.

    Examples
    --------
    >>> b = pac_bayes_kl_bound(0.0, 0.0, 10_000, 0.05)  # 1 - exp(-ln(2 * 100 / 0.05) / 1e4)
    >>> round(float(b), 5)
    0.00083
    """
    n = check_int(n, "n", minimum=8)  # Maurer's ln(2 sqrt(n) / delta) is proved for n >= 8
    delta = check_fraction(delta, "delta", low_open=True, high_open=True)
    e = _probabilities(error, "error")
    k = as_tensor(
        _exact(kl_divergence), "kl_divergence", ndim=range(0, 8), shape="(...) of numbers >= 0"
    )
    if bool((k < 0).any()):
        raise ValueError(f"kl_divergence must be >= 0, got {float(k.min())}")
    return kl_inverse(e, (k.double() + math.log(2 * math.sqrt(n) / delta)) / n)


class PacBayesBound(NamedTuple):
    """The PAC-Bayes bound over a grid of (prior, posterior) scales and its best cell.

    ``bounds[i, j]`` is the bound with prior scale ``i`` and posterior scale ``j``, after both
    union bounds, ``mc_errors[j]`` the Monte Carlo training error of posterior ``j`` and
    ``train_bounds[j]`` its kl-inverse upper bound; ``prior`` and ``posterior`` index the
    smallest bound; ``bound``, ``kl``, ``mc_error``, ``train_bound`` and ``complexity``
    (:math:`(\\mathrm{KL} + \\ln(2\\sqrt n\\,k/\\delta))/n`) are at that cell.

    Examples
    --------
    >>> r = pac_bayes_bound(torch.tensor([0.1]), torch.tensor([[50.0]]), 1000, 20)
    >>> r.bounds.shape, r.prior, r.posterior
    (torch.Size([1, 1]), 0, 0)
    """

    bounds: torch.Tensor
    bound: torch.Tensor
    prior: int
    posterior: int
    kl: torch.Tensor
    mc_error: torch.Tensor
    train_bound: torch.Tensor
    complexity: torch.Tensor
    mc_errors: torch.Tensor
    train_bounds: torch.Tensor


@validate_params(
    {
        "mc_errors": Tensor(1, "(r,)"),
        "kl_divergences": Tensor(2, "(k, r)"),
        "n": Int(8),
        "samples": Int(1),
        "delta": Fraction(low_open=True, high_open=True),
        "delta_mc": Fraction(low_open=True, high_open=True),
    }
)
def pac_bayes_bound(
    mc_errors: object,
    kl_divergences: object,
    n: int,
    samples: int,
    *,
    delta: float = 0.025,
    delta_mc: float = 0.01,
) -> PacBayesBound:
    r"""The PAC-Bayes-kl bound with Monte Carlo training errors and a union over scale grids.

    With :math:`k` prior scales (each prior fixed before training, e.g. centred at the
    initialization) and :math:`r` posterior scales, evaluated by :math:`m` weight draws each:

    .. math:: \bar e_j = \operatorname{kl}^{-1}\Big(\hat e_{m,j}, \frac{\ln(2r/\delta')}{m}\Big),
              \qquad
              B_{ij} = \operatorname{kl}^{-1}\Big(\bar e_j,
              \frac{\operatorname{KL}(Q_j\|P_i) + \ln(2k\sqrt n/\delta)}{n}\Big),

    and with probability at least :math:`1 - \delta - \delta'` every :math:`B_{ij}` bounds
    the risk :math:`L(Q_j)`; the smallest is reported. The price of the grids is
    :math:`\ln k` in the KL term and :math:`\ln r` in the Monte Carlo term.

    Parameters
    ----------
    mc_errors : Tensor of shape (r,)
        Monte Carlo training errors of the posteriors, in :math:`[0, 1]`.
    kl_divergences : Tensor of shape (k, r)
        :math:`\operatorname{KL}(Q_j\|P_i) \ge 0`.
    n, samples : int
        Training-set size ``n >= 8`` (as in :func:`pac_bayes_kl_bound`) and draws per
        posterior ``samples >= 1``.
    delta, delta_mc : float
        Failure probabilities of the PAC-Bayes and the Monte Carlo bounds, in (0, 1).

    Returns
    -------
    PacBayesBound

    Raises
    ------
    ValueError
        If the shapes disagree, or an argument is out of range or not finite.

    References
    ----------
    Dziugaite & Roy (2017), UAI, section 5; Langford & Caruana (2001), NeurIPS.

    Examples
    --------
    >>> r = pac_bayes_bound(torch.tensor([0.0, 0.05]),
    ...                     torch.tensor([[400.0, 100.0]]), n=4000, samples=100)
    >>> r.posterior, round(float(r.bound), 3)
    (0, 0.222)
    """
    errors = _probabilities(as_tensor(mc_errors, "mc_errors", ndim=1, shape="(r,)"), "mc_errors")
    kls = as_tensor(kl_divergences, "kl_divergences", ndim=2, shape="(k, r)")
    if bool((kls < 0).any()):  # checked here, so the error names this function's argument
        raise ValueError(f"kl_divergences must be >= 0, got {float(kls.min())}")
    if kls.shape[1] != errors.shape[0]:
        raise ValueError(
            f"kl_divergences must have shape (k, {errors.shape[0]}) to match mc_errors, "
            f"got {tuple(kls.shape)}"
        )
    n = check_int(n, "n", minimum=8)  # as pac_bayes_kl_bound
    samples = check_int(samples, "samples", minimum=1)
    delta = check_fraction(delta, "delta", low_open=True, high_open=True)
    delta_mc = check_fraction(delta_mc, "delta_mc", low_open=True, high_open=True)
    k, r = kls.shape
    train = mc_error_bound(errors, samples, delta_mc / r)
    bounds = pac_bayes_kl_bound(train.expand(k, r), kls.to(train), n, delta / k)
    flat = int(torch.argmin(bounds))
    i, j = divmod(flat, r)
    c = (kls[i, j] + math.log(2 * k * math.sqrt(n) / delta)) / n
    return PacBayesBound(
        bounds, bounds[i, j], i, j, kls[i, j], errors[j], train[j], c.to(train), errors, train
    )


@validate_params(
    {
        "error": Fraction(),
        "vc_dimension": Int(1),
        "n": Int(1),
        "delta": Fraction(low_open=True, high_open=True),
    }
)
def vc_bound(error: float, vc_dimension: int, n: int, delta: float) -> float:
    r"""The classical VC bound on the risk of any classifier from a class of VC dimension :math:`d`.

    With probability at least :math:`1-\delta`, for every :math:`h` in the class
    (Mohri, Rostamizadeh & Talwalkar 2018, ch. 3, for :math:`n \ge d`),

    .. math:: L(h) \le \hat L_S(h) + \sqrt{\frac{2d\ln(en/d)}{n}} + \sqrt{\frac{\ln(1/\delta)}{2n}}.

    For :math:`n < d` the class can shatter the sample and no bound below 1 follows; the
    function returns ``inf`` there.

    Parameters
    ----------
    error : float
        Training error in :math:`[0, 1]`.
    vc_dimension, n : int
        VC dimension :math:`d \ge 1` and sample size :math:`n \ge 1`.
    delta : float
        Failure probability in (0, 1).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If an argument is out of range or not finite.

    References
    ----------
    Vapnik (1998), Statistical Learning Theory; Mohri, Rostamizadeh & Talwalkar (2018),
    Foundations of Machine Learning, 2nd ed., ch. 3.

    Examples
    --------
    >>> round(vc_bound(0.0, 2302, 4000, 0.05), 3)  # a 20-100-2 network on 4000 samples
    1.357
    """
    e = check_fraction(error, "error")
    d = check_int(vc_dimension, "vc_dimension", minimum=1)
    n = check_int(n, "n", minimum=1)
    delta = check_fraction(delta, "delta", low_open=True, high_open=True)
    if n < d:
        return math.inf
    return (
        e
        + math.sqrt(2 * d * math.log(math.e * n / d) / n)
        + math.sqrt(math.log(1 / delta) / (2 * n))
    )
