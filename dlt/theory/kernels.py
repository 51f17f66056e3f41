r"""Infinite-width kernels of fully connected networks, and kernel methods.

Conventions (shared with :class:`dlt.nets.MLP` in the NTK parameterization): a network
with ``depth`` hidden layers computes

.. math::
    h^{1}(x) = \frac{\sigma_w}{\sqrt{d}} W^{0} x + \sigma_b b^{0}, \qquad
    h^{\ell+1}(x) = \frac{\sigma_w}{\sqrt{n_\ell}} W^{\ell} \phi(h^{\ell}(x)) + \sigma_b b^{\ell},

with all entries of :math:`W^\ell, b^\ell` i.i.d. :math:`\mathcal{N}(0, 1)` and the output
:math:`f(x) = h^{L+1}(x)` for :math:`L` = ``depth``. As every width tends to infinity,
:math:`f` at initialization is a Gaussian process with covariance :math:`K^{L}` (the NNGP
kernel; Neal 1996, Lee et al. 2018, Matthews et al. 2018), and gradient descent on it is
governed by the fixed kernel :math:`\Theta^{L}` (the NTK; Jacot et al. 2018):

.. math::
    K^{0}(x, x') = \sigma_w^2 \frac{x^\top x'}{d} + \sigma_b^2,\qquad
    K^{\ell}(x, x') = \sigma_w^2\, \mathbb{E}[\phi(u)\phi(v)] + \sigma_b^2,

    \Theta^{0} = K^{0},\qquad
    \Theta^{\ell} = K^{\ell} + \sigma_w^2\, \mathbb{E}[\phi'(u)\phi'(v)]\, \Theta^{\ell-1},

where :math:`(u, v)` is centred Gaussian with covariance
:math:`\begin{pmatrix} K^{\ell-1}(x,x) & K^{\ell-1}(x,x') \\ K^{\ell-1}(x,x') & K^{\ell-1}(x',x')\end{pmatrix}`.
The Gaussian expectations have closed forms for ReLU (the arc-cosine kernels of Cho and
Saul 2009) and for erf (Williams 1997), taken from the activation registry
:mod:`dlt.core.activations`. Everything here is computed in float64.

Two paths compute the same numbers (equal to about 1e-12, tested on every activation with a
closed form). ``method="reference"`` is :func:`dlt.kernels.textbook_kernels`, this recursion line for
line on whole matrices: read it to see the equations at work. ``method="fused"`` (the
default, ``"auto"``) is a private tiled, in-place version of it that takes each block of
pairs through every layer while it sits in cache, and computes half the pairs when ``x2``
is absent; it is several times faster and is what the chapters use.
"""

from __future__ import annotations

import math  # noqa: F401  (the doctests use it)
from typing import NamedTuple

import torch

from ..core.activations import ACTIVATIONS, get_activation
from ..core.params import Choice, Int, Matrix, NonNegative, Positive, validate_params
from ..core.validate import (
    as_matrix,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)
from ._fused import fused_kernels

__all__ = [
    "nngp",
    "ntk",
    "nngp_ntk",
    "Kernels",
    "textbook_kernels",
    "relu_nngp",
    "relu_ntk",
    "erf_nngp",
    "erf_ntk",
]

METHODS = ("auto", "fused", "reference")
# What every kernel function's arguments must be (checked at call time, and by the common test).
_ARGS = {
    "x1": Matrix(),
    "x2": Matrix(),
    "depth": Int(0),
    "sigma_w": Positive(),
    "sigma_b": NonNegative(),
}
_ACTIVATION = Choice(tuple(name for name, a in ACTIVATIONS.items() if a.has_kernel))
_WITH_METHOD = {**_ARGS, "activation": _ACTIVATION, "method": Choice(METHODS)}


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


@validate_params({**_ARGS, "activation": _ACTIVATION})
def textbook_kernels(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
) -> Kernels:
    r"""The NNGP and NTK recursions as written, layer by layer: ``method="reference"``.

    With :math:`\phi` = ``activation``, :math:`d` the input dimension and :math:`L` = ``depth``:

    .. math::
        K^{0}(x, x') = \sigma_w^2 \frac{x^\top x'}{d} + \sigma_b^2,\qquad \Theta^{0} = K^{0},

        K^{\ell} = \sigma_w^2\, \mathbb{E}[\phi(u)\phi(v)] + \sigma_b^2,\qquad
        \Theta^{\ell} = K^{\ell} + \sigma_w^2\, \mathbb{E}[\phi'(u)\phi'(v)]\, \Theta^{\ell-1},

    with :math:`(u, v) \sim \mathcal{N}\big(0, \begin{pmatrix} K^{\ell-1}(x, x) &
    K^{\ell-1}(x, x') \\ K^{\ell-1}(x, x') & K^{\ell-1}(x', x') \end{pmatrix}\big)`. The
    expectations are the activation's closed forms (for ReLU the arc-cosine kernels of Cho
    and Saul 2009, for erf Williams 1997), so each layer needs the diagonals
    :math:`K^{\ell-1}(x, x)`, :math:`K^{\ell-1}(x', x')` beside the matrix
    :math:`K^{\ell-1}(x, x')`, and they follow the same recursion.

    Parameters
    ----------
    x1 : Tensor of shape (n1, d)
    x2 : Tensor of shape (n2, d), optional
        Defaults to ``x1``.
    depth : int
        Number of hidden layers ``L >= 0``.
    sigma_w, sigma_b : float
        Weight scale :math:`\sigma_w > 0` and bias scale :math:`\sigma_b \ge 0`.
    activation : str
        An activation of the registry with Gaussian expectations (``"relu"``, ``"erf"``,
        ``"identity"``).

    Returns
    -------
    Kernels
        ``nngp`` :math:`K^L` and ``ntk`` :math:`\Theta^L`, each of shape (n1, n2), float64.

    References
    ----------
    Cho and Saul (2009), Kernel methods for deep learning, NeurIPS; Lee et al. (2018), Deep
    neural networks as Gaussian processes, ICLR; Jacot, Gabriel and Hongler (2018), Neural
    tangent kernel, NeurIPS; Arora et al. (2019), On exact computation with an infinitely
    wide neural net, NeurIPS (the NTK recursion in this form).

    Examples
    --------
    >>> k = textbook_kernels(torch.eye(2), depth=1, sigma_w=2 ** 0.5)
    >>> k.nngp  # orthogonal unit inputs: 1/pi off the diagonal
    tensor([[1.0000, 0.3183],
            [0.3183, 1.0000]], dtype=torch.float64)
    """
    X1 = as_matrix(x1, "x1", dtype=torch.float64)
    X2 = X1 if x2 is None else _same_features(X1, as_matrix(x2, "x2", dtype=torch.float64))
    depth = check_int(depth, "depth", minimum=0)
    sw2 = check_positive(sigma_w, "sigma_w") ** 2
    sb2 = check_nonnegative(sigma_b, "sigma_b") ** 2
    expectations = get_activation(activation, kernel=True).gaussian
    assert expectations is not None
    d = X1.shape[1]
    # Layer 0: the covariance of the first pre-activations, on the pairs and on the diagonals.
    K = sw2 * (X1 @ X2.T) / d + sb2  # K^0(x, x'), shape (n1, n2)
    K11 = sw2 * (X1 * X1).sum(1) / d + sb2  # K^0(x, x), shape (n1,)
    K22 = sw2 * (X2 * X2).sum(1) / d + sb2  # K^0(x', x'), shape (n2,)
    Theta = K.clone()
    for _ in range(depth):
        # E[phi(u)^2], E[phi(v)^2], E[phi(u) phi(v)], E[phi'(u) phi'(v)]
        E11, E22, E12, D12 = expectations(K11, K22, K)
        K = sw2 * E12 + sb2
        K11, K22 = sw2 * E11 + sb2, sw2 * E22 + sb2
        Theta = K + sw2 * D12 * Theta
    return Kernels(K, Theta)


def _same_features(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if b.shape[1] != a.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of features, got x1 with {a.shape[1]} "
            f"and x2 with {b.shape[1]}"
        )
    return b.to(a.device)


@validate_params(_WITH_METHOD)
def nngp(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
    method: str = "auto",
) -> torch.Tensor:
    r"""NNGP kernel :math:`K^{L}(x_1, x_2)` of an MLP with ``depth`` hidden layers.

    The recursion of the module docstring (and of :func:`textbook_kernels`, which is
    ``method="reference"``). ``activation`` is an activation of the registry with Gaussian
    expectations (``"relu"``, ``"erf"``, ``"identity"``). For both kernels at once,
    :func:`nngp_ntk` shares the work.

    Parameters
    ----------
    x1 : Tensor of shape (n1, d)
    x2 : Tensor of shape (n2, d), optional
        Defaults to ``x1``.
    depth : int
        Number of hidden layers ``L >= 0`` (``0`` is a linear model).
    sigma_w : float
        Weight scale :math:`\sigma_w > 0`.
    sigma_b : float
        Bias scale :math:`\sigma_b \ge 0`.
    method : {"auto", "fused", "reference"}
        ``"reference"``: :func:`textbook_kernels`, the recursion as written; ``"fused"`` (and
        ``"auto"``): the same numbers, tile by tile in place, several times faster.

    Returns
    -------
    Tensor of shape (n1, n2), float64.

    Raises
    ------
    ValueError
        If an input is not 2-d, the feature dimensions differ, ``depth < 0``,
        ``sigma_w <= 0``, ``sigma_b < 0`` or ``method`` is unknown.

    References
    ----------
    Lee et al. (2018), Deep neural networks as Gaussian processes. ICLR.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> nngp(x, depth=0, sigma_w=2 ** 0.5)  # depth 0: the linear kernel sigma_w^2 x.x' / d
    tensor([[1., 0.],
            [0., 1.]], dtype=torch.float64)
    """
    if check_choice(method, "method", METHODS) == "reference":
        return textbook_kernels(x1, x2, depth, sigma_w, sigma_b, activation=activation).nngp
    return fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=False)[0]


@validate_params(_WITH_METHOD)
def ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
    method: str = "auto",
) -> torch.Tensor:
    r"""Neural tangent kernel :math:`\Theta^{L}(x_1, x_2)` of an MLP in the NTK parameterization.

    Arguments, shapes and errors as in :func:`nngp`; ``method="reference"`` is
    :func:`textbook_kernels`.

    References
    ----------
    Jacot, Gabriel and Hongler (2018), Neural tangent kernel: convergence and
    generalization in neural networks. NeurIPS.

    Examples
    --------
    >>> x = torch.eye(2)
    >>> bool((ntk(x, depth=1) >= nngp(x, depth=1)).all())  # the NTK adds positive terms to the NNGP
    True
    >>> bool(torch.allclose(ntk(x, depth=3), ntk(x, depth=3, method="reference")))
    True
    """
    if check_choice(method, "method", METHODS) == "reference":
        return textbook_kernels(x1, x2, depth, sigma_w, sigma_b, activation=activation).ntk
    return fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=True)[1]


@validate_params(_WITH_METHOD)
def nngp_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
    method: str = "auto",
    out: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> Kernels:
    r"""The NNGP kernel :math:`K^L` and the NTK :math:`\Theta^L` of an MLP, computed together.

    Arguments as in :func:`nngp`. The fused path computes the NTK beside the NNGP kernel it
    needs, as the kernel functions of Novak et al. (2020, 2022) do in JAX.

    Parameters
    ----------
    out : pair of Tensors of shape (n1, n2), optional
        Contiguous float64 tensors on the inputs' device to write the NNGP kernel and the
        NTK into (then returned); fused path only. Fresh outputs cost a page fault per 4 kB
        at their first write, a quarter to a third of a 2000-input call on the book's CPU; a
        loop that computes kernels of one size again and again can reuse its outputs.

    Returns
    -------
    Kernels
        ``nngp`` and ``ntk``, each of shape (n1, n2), float64.

    References
    ----------
    Lee et al. (2018), ICLR; Jacot, Gabriel and Hongler (2018), NeurIPS; Novak et al.
    (2020), Neural Tangents, ICLR; Novak, Sohl-Dickstein and Schoenholz (2022), Fast finite
    width neural tangent kernel, ICML.

    Examples
    --------
    >>> k = nngp_ntk(torch.eye(2), depth=1, sigma_w=2 ** 0.5)
    >>> round(k.nngp[0, 1].item() * math.pi, 12), round(k.ntk[0, 0].item(), 12)  # 1/pi and 2
    (1.0, 2.0)
    """
    if check_choice(method, "method", METHODS) == "reference":
        if out is not None:
            raise ValueError("out is only supported by method='fused' (or 'auto')")
        return textbook_kernels(x1, x2, depth, sigma_w, sigma_b, activation=activation)
    k, t = fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=True, out=out)
    return Kernels(k, t)


@validate_params(_ARGS)
def relu_nngp(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    r"""NNGP kernel of a ReLU MLP (the iterated arc-cosine kernel, Cho and Saul 2009).

    Examples
    --------
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> relu_nngp(x, depth=1, sigma_w=2 ** 0.5)  # orthogonal unit inputs: 1/pi off the diagonal
    tensor([[1.0000, 0.3183],
            [0.3183, 1.0000]], dtype=torch.float64)
    """
    return nngp(x1, x2, depth, sigma_w, sigma_b, activation="relu")


@validate_params(_ARGS)
def relu_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    """NTK of a ReLU MLP in the NTK parameterization (see :func:`ntk`).

    Examples
    --------
    >>> relu_ntk(torch.eye(2), depth=1, sigma_w=2 ** 0.5)[0, 0].item()  # K^1 + sigma_w^2 / 2 * K^0
    2.0
    """
    return ntk(x1, x2, depth, sigma_w, sigma_b, activation="relu")


@validate_params(_ARGS)
def erf_nngp(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    """NNGP kernel of an erf MLP (Williams 1997).

    Examples
    --------
    >>> erf_nngp(torch.eye(2), depth=1)[0, 1].item()  # orthogonal inputs: erf is odd
    0.0
    """
    return nngp(x1, x2, depth, sigma_w, sigma_b, activation="erf")


@validate_params(_ARGS)
def erf_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    """NTK of an erf MLP in the NTK parameterization.

    Examples
    --------
    >>> erf_ntk(torch.eye(2), depth=1).shape
    torch.Size([2, 2])
    """
    return ntk(x1, x2, depth, sigma_w, sigma_b, activation="erf")
