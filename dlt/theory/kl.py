r"""The binary kl divergence, its inverse, and the KL divergence of diagonal Gaussians.

The pieces of the PAC-Bayes-kl bound (:mod:`dlt.theory.bounds`): :func:`kl` between two
Bernoulli laws, :func:`kl_inverse`, the largest risk compatible with an empirical error and
a budget, and :func:`gaussian_kl`, the complexity term of a Gaussian posterior and prior.
"""

from __future__ import annotations

import torch

from ..core.params import Int, Tensor, validate_params
from ..core.validate import as_tensor, check_int

__all__ = ["kl", "kl_inverse", "gaussian_kl"]


def _exact(x: object) -> object:
    """Python numbers become float64 tensors (no detour through float32)."""
    if isinstance(x, int | float) and not isinstance(x, bool):
        return torch.tensor(float(x), dtype=torch.float64)
    return x


def _probabilities(x: object, name: str) -> torch.Tensor:
    t = as_tensor(_exact(x), name, ndim=range(0, 8), shape="(...) of numbers in [0, 1]")
    if bool(((t < 0) | (t > 1)).any()):
        raise ValueError(
            f"{name} must lie in [0, 1], got values from {float(t.min())} to {float(t.max())}"
        )
    return t


@validate_params(
    {
        "q": Tensor(tuple(range(8)), "(...) of numbers in [0, 1]"),
        "p": Tensor(tuple(range(8)), "(...) of numbers in [0, 1]"),
    }
)
def kl(q: object, p: object) -> torch.Tensor:
    r"""The binary kl divergence between Bernoulli(q) and Bernoulli(p), elementwise.

    .. math:: \operatorname{kl}(q\|p) = q \ln\frac qp + (1-q)\ln\frac{1-q}{1-p},

    with :math:`0 \ln 0 = 0`; it is :math:`+\infty` where :math:`p \in \{0, 1\}` and
    :math:`q \ne p`.

    Parameters
    ----------
    q, p : float or Tensor of any (broadcastable) shape
        Probabilities in :math:`[0, 1]`.

    Returns
    -------
    Tensor
        The divergence, of the broadcast shape and dtype of the inputs.

    Raises
    ------
    ValueError
        If an entry is outside :math:`[0, 1]` or not finite.

    References
    ----------
    Cover & Thomas (2006), Elements of Information Theory, 2nd ed., ch. 2.

    Examples
    --------
    >>> round(float(kl(0.1, 0.5)), 6)  # 0.1 ln 0.2 + 0.9 ln 1.8
    0.368064
    >>> float(kl(0.3, 0.3))
    0.0
    """
    qt, pt = torch.broadcast_tensors(_probabilities(q, "q"), _probabilities(p, "p"))
    zero = torch.zeros((), dtype=qt.dtype, device=qt.device)
    a = torch.where(qt > 0, qt * (torch.log(qt) - torch.log(pt)), zero)
    b = torch.where(qt < 1, (1 - qt) * (torch.log1p(-qt) - torch.log1p(-pt)), zero)
    return a + b


@validate_params({"q": Tensor(tuple(range(8)), "(...) of numbers in [0, 1]"), "iters": Int(1)})
def kl_inverse(q: object, c: object, *, iters: int = 100) -> torch.Tensor:
    r"""The largest :math:`p \ge q` with :math:`\operatorname{kl}(q\|p) \le c` (the kl "inverse").

    .. math:: \operatorname{kl}^{-1}(q, c) = \max\{p \in [q, 1] : \operatorname{kl}(q\|p) \le c\}.

    :math:`p \mapsto \operatorname{kl}(q\|p)` increases on :math:`[q, 1]`, so the answer is
    found by bisection (``iters`` halvings of :math:`[q, 1]`, computed in float64). Near
    :math:`p = q` the divergence is of order :math:`(p-q)^2`, so for budgets below about
    :math:`10^{-14}` the answer is accurate to about :math:`10^{-8}` only (rounding of the
    logarithms); :math:`c = 0` returns :math:`q` exactly. Closed cases:
    :math:`\operatorname{kl}^{-1}(0, c) = 1 - e^{-c}` and :math:`\operatorname{kl}^{-1}(q, 0) = q`.
    Pinsker's inequality gives :math:`\operatorname{kl}^{-1}(q, c) \le q + \sqrt{c/2}`.

    Parameters
    ----------
    q : float or Tensor
        Empirical error(s) in :math:`[0, 1]`.
    c : float or Tensor (broadcastable with ``q``)
        Budget(s) :math:`c \ge 0`.
    iters : int
        Number of bisection steps (``>= 1``).

    Returns
    -------
    Tensor
        The bound(s), of the broadcast shape and the dtype of ``q``.

    Raises
    ------
    ValueError
        If ``q`` is outside :math:`[0, 1]`, ``c`` is negative, or an entry is not finite.

    References
    ----------
    Seeger (2002), PAC-Bayesian generalisation error bounds for Gaussian process
    classification, JMLR 3; Langford (2005), Tutorial on practical prediction theory for
    classification, JMLR 6.

    Examples
    --------
    >>> round(float(kl_inverse(0.0, 1.0)), 6)  # 1 - exp(-1)
    0.632121
    >>> float(kl_inverse(0.2, 0.0))
    0.2
    """
    q = _probabilities(q, "q")
    c = as_tensor(
        _exact(c), "c", ndim=range(0, 8), shape="(...) of numbers >= 0", dtype=torch.float64
    )
    if bool((c < 0).any()):
        raise ValueError(f"c must be >= 0, got {float(c.min())}")
    iters = check_int(iters, "iters", minimum=1)
    dtype = q.dtype
    q64, c64 = torch.broadcast_tensors(q.double(), c.to(q.device, torch.float64))
    lo, hi = q64.clone(), torch.ones_like(q64)
    for _ in range(iters):
        mid = (lo + hi) / 2
        ok = kl(q64, mid) <= c64
        lo = torch.where(ok, mid, lo)
        hi = torch.where(ok, hi, mid)
    # at c = 0 rounding in kl(q || q + eps) would let eps ~ 1e-8 through: the answer is q
    return torch.where(c64 == 0, q64, lo).to(dtype)


@validate_params(
    {
        "sigma_q": Tensor((0, 1), "() or (D,)"),
        "sigma_p": Tensor((0, 1), "() or (D,)"),
        "mean_q": Tensor(1, "(D,)"),
        "mean_p": Tensor(1, "(D,)"),
    }
)
def gaussian_kl(mean_q: object, mean_p: object, sigma_q: object, sigma_p: object) -> torch.Tensor:
    r"""KL divergence between diagonal Gaussians :math:`Q = \mathcal N(\mu_q, \operatorname{diag}\sigma_q^2)`
    and :math:`P = \mathcal N(\mu_p, \operatorname{diag}\sigma_p^2)`.

    .. math:: \operatorname{KL}(Q\|P) = \frac12\sum_{i=1}^D\Big[\frac{\sigma_{q,i}^2}{\sigma_{p,i}^2}
              + \frac{(\mu_{q,i}-\mu_{p,i})^2}{\sigma_{p,i}^2} - 1
              + \ln\frac{\sigma_{p,i}^2}{\sigma_{q,i}^2}\Big].

    For isotropic scales this is
    :math:`\frac12\big[D\frac{\sigma_q^2}{\sigma_p^2} + \frac{\|\mu_q-\mu_p\|^2}{\sigma_p^2} - D +
    2D\ln\frac{\sigma_p}{\sigma_q}\big]`.

    Parameters
    ----------
    mean_q, mean_p : Tensor of shape (D,)
        The means (flattened weights, e.g. trained and initial).
    sigma_q, sigma_p : float or Tensor of shape (D,)
        Standard deviations (``> 0``), one per coordinate or one for all.

    Returns
    -------
    Tensor
        A 0-dimensional tensor, in the dtype of ``mean_q``.

    Raises
    ------
    ValueError
        If the means differ in length, a scale is not positive, or an entry is not finite.

    References
    ----------
    Dziugaite & Roy (2017), Computing nonvacuous generalization bounds for deep (stochastic)
    neural networks with many more parameters than training data, UAI.

    Examples
    --------
    >>> mu = torch.tensor([3.0, 4.0], dtype=torch.float64)
    >>> float(gaussian_kl(mu, torch.zeros(2, dtype=torch.float64), 1.0, 1.0))  # |mu|^2 / 2
    12.5
    """
    mq = as_tensor(mean_q, "mean_q", ndim=1, shape="(D,)")
    mp = as_tensor(mean_p, "mean_p", ndim=1, shape="(D,)").to(mq)
    if mp.shape != mq.shape:
        raise ValueError(
            f"mean_p must have shape {tuple(mq.shape)} like mean_q, got {tuple(mp.shape)}"
        )
    sq = _scale(sigma_q, "sigma_q", mq)
    sp = _scale(sigma_p, "sigma_p", mq)
    ratio = (sq / sp) ** 2
    terms = ratio + (mq - mp) ** 2 / sp**2 - 1 - torch.log(ratio)
    return 0.5 * terms.sum()


def _scale(s: object, name: str, like: torch.Tensor) -> torch.Tensor:
    t = as_tensor(_exact(s), name, ndim=(0, 1), shape=f"() or {tuple(like.shape)}").to(like)
    if t.ndim == 1 and t.shape != like.shape:
        raise ValueError(
            f"{name} must be a number or have shape {tuple(like.shape)}, got {tuple(t.shape)}"
        )
    if bool((t <= 0).any()):
        raise ValueError(f"{name} must be > 0, got {float(t.min())}")
    return t.expand_as(like)
