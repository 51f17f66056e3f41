r"""The NNGP and NTK recursions fused: both kernels, every layer, one block of pairs at a time.

The recursion of :mod:`dlt.theory.kernels` is elementwise in the pair :math:`(x, x')` once the
diagonals :math:`K^\ell(x, x)` are known, and those are vectors, computed first. So each block
of rows of the kernel matrices is taken through all the layers while it sits in cache:

.. math::
    K^{\ell} = \sigma_w^2\, \mathbb{E}[\phi(u)\phi(v)] + \sigma_b^2,\qquad
    \Theta^{\ell} = K^{\ell} + \sigma_w^2\, \mathbb{E}[\phi'(u)\phi'(v)]\, \Theta^{\ell-1},

in place, in four work buffers, and written once. With ``x2`` absent only the blocks on and
above the diagonal are computed and the rest is mirrored: half the work. ReLU, erf and the
identity have in-place closed forms here; any other activation of the registry with
Gaussian expectations runs through its ``gaussian`` entry, block by block. The memory is the
two outputs and the buffers, so 10,000 inputs take 1.6 GB in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from ..core.activations import Expectations, get_activation
from ..core.validate import as_matrix, check_int, check_nonnegative, check_positive

__all__ = ["Kernels", "nngp_ntk"]

_BLOCK = 2**17  # elements of one work buffer: 1 MB in float64, so the four stay in cache
_TWO_PI = 2 * math.pi


class Kernels(NamedTuple):
    """The NNGP kernel and the NTK of one architecture on the same inputs.

    Examples
    --------
    >>> k = nngp_ntk(torch.eye(2), depth=1)
    >>> k.nngp.shape, k.ntk.shape
    (torch.Size([2, 2]), torch.Size([2, 2]))
    """

    nngp: torch.Tensor
    ntk: torch.Tensor


def _prepare(x1: object, x2: object | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    a = as_matrix(x1, "x1", dtype=torch.float64)
    if x2 is None:
        return a, None
    b = as_matrix(x2, "x2", dtype=torch.float64).to(a.device)
    if b.shape[1] != a.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of features, got x1 with {a.shape[1]} and x2 with {b.shape[1]}"
        )
    return a, b


# A step maps the block ``k`` of K^{l-1} (overwritten), the diagonals ``q1`` (rows) and ``q2``
# (columns) of K^{l-1} and the buffers ``e, d, w`` to K^{l} = sigma_w^2 E[phi(u) phi(v)] +
# sigma_b^2 and E[phi'(u) phi'(v)], both in the buffers. ``unit_diag``: the block's diagonal
# pairs are x = x' (their correlation is exactly 1).
Step = Callable[..., tuple[torch.Tensor, torch.Tensor]]


def _scalar(v: float, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(v, dtype=like.dtype, device=like.device)


def _relu_step(
    k: torch.Tensor,
    q1: torch.Tensor,
    q2: torch.Tensor,
    sw2: float,
    sb2: float,
    e: torch.Tensor,
    d: torch.Tensor,
    w: torch.Tensor,
    unit_diag: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Arc-cosine kernels (Cho and Saul 2009), with :math:`\cos\theta = k_{12}/\sqrt{k_{11}k_{22}}`:
    :math:`\mathbb{E}[\phi\phi] = \frac{\sqrt{k_{11}k_{22}}}{2\pi}(\sin\theta + (\pi-\theta)\cos\theta)`,
    :math:`\mathbb{E}[\phi'\phi'] = \frac{\pi-\theta}{2\pi}`."""
    c = k.mul_(torch.outer(q1.rsqrt(), q2.rsqrt(), out=e)).clamp_(-1.0, 1.0)
    if unit_diag:
        c.diagonal().fill_(1.0)
    torch.add(_scalar(0.5, c), torch.arccos(c, out=d), alpha=-1 / _TWO_PI, out=d)
    quarter = 1 / _TWO_PI**2  # sin(theta) / (2 pi) = sqrt((1 - cos^2) / (4 pi^2))
    sin = torch.addcmul(_scalar(quarter, c), c, c, value=-quarter, out=w).clamp_(min=0.0)
    sin.sqrt_().addcmul_(d, c)
    scale = torch.outer(sw2 * q1.sqrt(), q2.sqrt(), out=e)
    return torch.addcmul(_scalar(sb2, c), scale, sin, out=e), d


def _erf_step(
    k: torch.Tensor,
    q1: torch.Tensor,
    q2: torch.Tensor,
    sw2: float,
    sb2: float,
    e: torch.Tensor,
    d: torch.Tensor,
    w: torch.Tensor,
    unit_diag: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Williams (1997), with :math:`c = 2k_{12} r_1 r_2` and :math:`r_i = (1 + 2k_{ii})^{-1/2}`:
    :math:`\mathbb{E}[\phi\phi] = \frac{2}{\pi}\arcsin c`,
    :math:`\mathbb{E}[\phi'\phi'] = \frac{4}{\pi} r_1 r_2 (1 - c^2)^{-1/2}`."""
    r = torch.outer(2 * (1 + 2 * q1).rsqrt(), (1 + 2 * q2).rsqrt(), out=d)  # 2 r1 r2
    c = k.mul_(r).clamp_(-1.0, 1.0)
    one = _scalar(1.0, c)
    inv = torch.addcmul(one, c, c, value=-1.0, out=w).clamp_(min=1e-300).rsqrt_()
    d.mul_(inv).mul_(2 / math.pi)
    kernel = torch.add(_scalar(sb2, c), torch.arcsin(c, out=e), alpha=2 * sw2 / math.pi, out=e)
    return kernel, d


def _identity_step(
    k: torch.Tensor,
    q1: torch.Tensor,
    q2: torch.Tensor,
    sw2: float,
    sb2: float,
    e: torch.Tensor,
    d: torch.Tensor,
    w: torch.Tensor,
    unit_diag: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.add(_scalar(sb2, k), k, alpha=sw2, out=e), d.fill_(1.0)


_STEPS: dict[str, Step] = {"relu": _relu_step, "erf": _erf_step, "identity": _identity_step}


def _registry_step(expect: Expectations) -> Step:
    """Any activation with Gaussian expectations in the registry, one block at a time."""

    def step(
        k: torch.Tensor,
        q1: torch.Tensor,
        q2: torch.Tensor,
        sw2: float,
        sb2: float,
        e: torch.Tensor,
        d: torch.Tensor,
        w: torch.Tensor,
        unit_diag: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = expect(q1, q2, k)
        return torch.add(_scalar(sb2, k), out.e12, alpha=sw2, out=e), d.copy_(out.d12)

    return step


def _diagonals(
    x: torch.Tensor, depth: int, sw2: float, sb2: float, expect: Expectations
) -> list[torch.Tensor]:
    """:math:`K^\\ell(x, x)` for ``l = 0 .. depth``; ``E[phi(u)^2]`` depends on ``K(x, x)`` only."""
    q = sw2 * (x * x).sum(1) / x.shape[1] + sb2
    out = [q]
    for _ in range(depth):
        e11 = expect(q, q[:1], q.new_zeros(q.shape[0], 1)).e11
        q = sw2 * e11 + sb2
        out.append(q)
    return out


def nngp_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
) -> Kernels:
    r"""The NNGP kernel :math:`K^L` and the NTK :math:`\Theta^L` of an MLP, computed together.

    The recursion of :func:`dlt.kernels.nngp` and :func:`dlt.kernels.ntk` (module docstring
    of :mod:`dlt.theory.kernels`), with :math:`K^0 = \sigma_w^2 x^\top x'/d + \sigma_b^2`,
    :math:`\Theta^0 = K^0` and for each hidden layer

    .. math::
        K^{\ell} = \sigma_w^2\, \mathbb{E}[\phi(u)\phi(v)] + \sigma_b^2,\qquad
        \Theta^{\ell} = K^{\ell} + \sigma_w^2\, \mathbb{E}[\phi'(u)\phi'(v)]\,\Theta^{\ell-1},

    fused: each block of pairs goes through every layer in cache, in place, and with ``x2``
    absent only half the pairs are computed (the kernels are symmetric), as the kernel
    functions of Novak et al. (2020, 2022) do in JAX.

    Parameters
    ----------
    x1 : Tensor of shape (n1, d)
    x2 : Tensor of shape (n2, d), optional
        Defaults to ``x1``.
    depth : int
        Number of hidden layers ``L >= 0``.
    sigma_w, sigma_b : float
        Weight scale :math:`> 0` and bias scale :math:`\ge 0`.
    activation : str
        An activation of the registry with Gaussian expectations (``"relu"``, ``"erf"``,
        ``"identity"``).

    Returns
    -------
    Kernels
        ``nngp`` and ``ntk``, each of shape (n1, n2), float64.

    Raises
    ------
    ValueError
        As :func:`dlt.kernels.nngp`.

    References
    ----------
    Lee et al. (2018), Deep neural networks as Gaussian processes, ICLR; Jacot, Gabriel and
    Hongler (2018), NeurIPS; Novak et al. (2020), Neural Tangents, ICLR; Novak,
    Sohl-Dickstein and Schoenholz (2022), Fast finite width neural tangent kernel, ICML.

    Examples
    --------
    >>> x = torch.eye(2)
    >>> k = nngp_ntk(x, depth=1, sigma_w=2 ** 0.5)
    >>> round(k.nngp[0, 1].item() * math.pi, 12), round(k.ntk[0, 0].item(), 12)  # 1/pi and 2
    (1.0, 2.0)
    """
    return fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=True)


def fused_kernels(
    x1: object,
    x2: object | None,
    depth: int,
    sigma_w: float,
    sigma_b: float,
    activation: str,
    *,
    with_ntk: bool,
) -> Kernels:
    """:func:`nngp_ntk`, or the NNGP alone (``ntk`` is then the same tensor) for a third less work."""
    a, b = _prepare(x1, x2)
    depth = check_int(depth, "depth", minimum=0)
    sw2 = check_positive(sigma_w, "sigma_w") ** 2
    sb2 = check_nonnegative(sigma_b, "sigma_b") ** 2
    act = get_activation(activation, kernel=True)
    assert act.gaussian is not None
    step = _STEPS.get(act.name) or _registry_step(act.gaussian)
    q1 = _diagonals(a, depth, sw2, sb2, act.gaussian)
    q2 = q1 if b is None else _diagonals(b, depth, sw2, sb2, act.gaussian)
    bb = a if b is None else b
    n1, n2, d = a.shape[0], bb.shape[0], a.shape[1]
    nngp = a.new_empty(n1, n2)
    ntk = a.new_empty(n1, n2) if with_ntk else nngp
    rows = max(1, _BLOCK // n2)
    bufs = [a.new_empty(rows * n2) for _ in range(4)]
    for i in range(0, n1, rows):
        i1 = min(i + rows, n1)
        j = i if b is None else 0  # symmetric: the blocks on and above the diagonal only
        shape = (i1 - i, n2 - j)
        k, e, dd, w = (buf[: shape[0] * shape[1]].view(shape) for buf in bufs)
        torch.matmul(a[i:i1], bb[j:].T, out=k).mul_(sw2 / d).add_(sb2)
        if b is None:  # K(x, x) exactly as its diagonal recursion, so cos(x, x) = 1 exactly
            k.diagonal()[:] = q1[0][i:i1]
        t = ntk[i:i1, j:]
        if with_ntk:
            t.copy_(k)
        for ell in range(depth):
            e, dd = step(k, q1[ell][i:i1], q2[ell][j:], sw2, sb2, e, dd, w, b is None)
            if b is None:
                e.diagonal()[:] = q1[ell + 1][i:i1]
            if with_ntk:  # Theta^l = K^l + sigma_w^2 E[phi' phi'] Theta^{l-1}
                torch.add(e, t.mul_(dd), alpha=sw2, out=t)
            k, e = e, k
        nngp[i:i1, j:] = k
        if b is None:  # mirror: below the diagonal, and in the square on it
            for out in (nngp, ntk) if with_ntk else (nngp,):
                out[i1:, i:i1] = out[i:i1, i1:].T
                square = out[i:i1, i:i1]
                square.copy_(torch.triu(square) + torch.triu(square, 1).T)
    if not with_ntk:
        ntk = nngp
    return Kernels(nngp, ntk)
