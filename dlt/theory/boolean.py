r"""Fourier analysis on the Boolean cube and the min-degree bias on the unseen (Abbe et al. 2023).

Every :math:`f : \{-1, +1\}^d \to \mathbb R` is a unique multilinear polynomial
:math:`f = \sum_S \hat f(S) \chi_S` with :math:`\hat f(S) = \mathbb E_x[f(x)\chi_S(x)]`
(uniform :math:`x`); the influence of coordinate :math:`i` is
:math:`\mathrm{Inf}_i(f) = \sum_{S \ni i} \hat f(S)^2 = \mathbb E[(D_i f)^2]`, with
:math:`D_i f(x) = (f(x^{i \to 1}) - f(x^{i \to -1}))/2`.

Generalization on the unseen (GOTU): trained on the half :math:`x_i = +1`, where
:math:`\chi_{S \cup \{i\}} = \chi_S`, a learner sees only the sums
:math:`\hat f(S) + \hat f(S \cup \{i\})` for :math:`S \not\ni i`. The min-degree interpolator
puts each sum on :math:`\chi_S`; on the unseen half :math:`x_i = -1` it errs by
:math:`2 \hat f(S \cup \{i\})` on each :math:`\chi_S`, a mean squared error of
:math:`4\,\mathrm{Inf}_i(f)`. Vectors of coefficients are indexed by the bitmask of
:math:`S` (:func:`dlt.data.boolean.subset_index`), in the row order of
:func:`dlt.data.boolean.boolean_cube`.
"""

from __future__ import annotations

import torch

from ..core.params import Int, NonNegative, Tensor, validate_params
from ..core.validate import as_tensor, check_int, check_nonnegative

__all__ = [
    "walsh_coefficients",
    "walsh_values",
    "influence",
    "min_degree_interpolator",
    "product_kernel",
    "product_kernel_unseen_error",
]


def _dimension(n: int, name: str) -> int:
    d = n.bit_length() - 1
    if n < 2 or 1 << d != n:
        raise ValueError(f"{name} must have 2^d rows (d >= 1), got {n}")
    return d


def _hadamard(v: torch.Tensor) -> torch.Tensor:
    # the unnormalized fast Walsh-Hadamard transform along the first dimension
    n, rest = v.shape[0], v.shape[1:]
    h = 1
    while h < n:
        v = v.reshape(n // (2 * h), 2, h, *rest)
        v = torch.stack((v[:, 0] + v[:, 1], v[:, 0] - v[:, 1]), dim=1).reshape(n, *rest)
        h *= 2
    return v


@validate_params({"values": Tensor((1, 2), "(2^d,) or (2^d, k)")})
def walsh_coefficients(values: torch.Tensor) -> torch.Tensor:
    r"""The Walsh-Fourier coefficients :math:`\hat f(S) = 2^{-d} \sum_x f(x) \chi_S(x)`.

    Computed by the fast Walsh-Hadamard transform in :math:`O(d\,2^d)`.

    Parameters
    ----------
    values : Tensor of shape (2^d,) or (2^d, k)
        :math:`f` at the rows of ``boolean_cube(d)`` (``k`` functions at once).

    Returns
    -------
    Tensor of the same shape: entry ``subset_index(S)`` is :math:`\hat f(S)`.

    References
    ----------
    O'Donnell (2014), *Analysis of Boolean Functions*, Cambridge University Press, ch. 1.

    Examples
    --------
    >>> from dlt.data.boolean import boolean_cube
    >>> x = boolean_cube(2)
    >>> walsh_coefficients(x[:, 0] * x[:, 1] + 0.5).tolist()  # 0.5 on {}, 1 on {0, 1}
    [0.5, 0.0, 0.0, 1.0]
    """
    v = as_tensor(values, "values", ndim=(1, 2), shape="(2^d,) or (2^d, k)")
    _dimension(v.shape[0], "values")
    return _hadamard(v) / v.shape[0]


@validate_params({"coefficients": Tensor((1, 2), "(2^d,) or (2^d, k)")})
def walsh_values(coefficients: torch.Tensor) -> torch.Tensor:
    r"""The values :math:`f(x) = \sum_S \hat f(S) \chi_S(x)` at the rows of ``boolean_cube(d)``.

    The inverse of :func:`walsh_coefficients`.

    Parameters
    ----------
    coefficients : Tensor of shape (2^d,) or (2^d, k)

    Returns
    -------
    Tensor of the same shape.

    Examples
    --------
    >>> walsh_values(torch.tensor([0.5, 0.0, 0.0, 1.0])).tolist()
    [1.5, -0.5, -0.5, 1.5]
    """
    c = as_tensor(coefficients, "coefficients", ndim=(1, 2), shape="(2^d,) or (2^d, k)")
    _dimension(c.shape[0], "coefficients")
    return _hadamard(c)


def _has(n: int, i: int, device: torch.device) -> torch.Tensor:
    return ((torch.arange(n, device=device) >> i) & 1).bool()


@validate_params({"coefficients": Tensor((1, 2), "(2^d,) or (2^d, k)"), "coordinate": Int(0)})
def influence(coefficients: torch.Tensor, coordinate: int) -> torch.Tensor:
    r"""The influence :math:`\mathrm{Inf}_i(f) = \sum_{S \ni i} \hat f(S)^2` of coordinate :math:`i`.

    Equal to :math:`\mathbb E_x[(D_i f)^2]`, :math:`D_i f(x) = (f(x^{i\to 1}) - f(x^{i \to
    -1}))/2`; for :math:`f` with values :math:`\pm 1` it is the probability that flipping
    :math:`x_i` flips :math:`f(x)`.

    Parameters
    ----------
    coefficients : Tensor of shape (2^d,) or (2^d, k)
        Walsh coefficients (:func:`walsh_coefficients`).
    coordinate : int
        :math:`i`, from 0 to :math:`d - 1`.

    Returns
    -------
    Tensor of shape () or (k,)

    References
    ----------
    O'Donnell (2014), *Analysis of Boolean Functions*, ch. 2.

    Examples
    --------
    >>> from dlt.data.boolean import boolean_cube
    >>> x = boolean_cube(3)
    >>> float(influence(walsh_coefficients(x[:, 0] * x[:, 1] + 0.5 * x[:, 2]), 0))
    1.0
    """
    c = as_tensor(coefficients, "coefficients", ndim=(1, 2), shape="(2^d,) or (2^d, k)")
    d = _dimension(c.shape[0], "coefficients")
    i = check_int(coordinate, "coordinate", minimum=0)
    if i >= d:
        raise ValueError(f"coordinate must be below d = {d}, got {i}")
    return (c[_has(c.shape[0], i, c.device)] ** 2).sum(0)


@validate_params({"coefficients": Tensor((1, 2), "(2^d,) or (2^d, k)"), "coordinate": Int(0)})
def min_degree_interpolator(coefficients: torch.Tensor, coordinate: int) -> torch.Tensor:
    r"""The min-degree interpolator of :math:`f` from the half :math:`x_i = +1` of the cube.

    .. math:: \hat g(S) = \hat f(S) + \hat f(S \cup \{i\}), \quad \hat g(S \cup \{i\}) = 0
        \qquad (S \not\ni i)

    :math:`g = f` on :math:`x_i = +1`, and :math:`g` has the least Fourier mass on high
    degrees among the functions that agree with :math:`f` there (Abbe et al. 2023, Def. of
    the MDI); on the unseen half, :math:`\mathbb E[(g - f)^2 \mid x_i = -1] =
    4\,\mathrm{Inf}_i(f)`.

    Parameters
    ----------
    coefficients : Tensor of shape (2^d,) or (2^d, k)
        Walsh coefficients of :math:`f`.
    coordinate : int
        The frozen coordinate :math:`i` (0 to :math:`d - 1`).

    Returns
    -------
    Tensor of the same shape: the Walsh coefficients of :math:`g`.

    References
    ----------
    Abbe, Bengio, Lotfi and Rizk (2023), Generalization on the unseen, logic reasoning and
    degree curriculum, ICML.

    Examples
    --------
    >>> min_degree_interpolator(torch.tensor([0.0, 0.0, 0.0, 1.0]), 0).tolist()  # x0 x1 -> x1
    [0.0, 0.0, 1.0, 0.0]
    """
    c = as_tensor(coefficients, "coefficients", ndim=(1, 2), shape="(2^d,) or (2^d, k)")
    d = _dimension(c.shape[0], "coefficients")
    i = check_int(coordinate, "coordinate", minimum=0)
    if i >= d:
        raise ValueError(f"coordinate must be below d = {d}, got {i}")
    has = _has(c.shape[0], i, c.device)
    out = torch.zeros_like(c)
    out[~has] = c[~has] + c[has]  # the masks enumerate S and S + {i} in the same order
    return out


@validate_params({"x1": Tensor(2, "(n, d)"), "x2": Tensor(2, "(m, d)"), "eps": NonNegative()})
def product_kernel(x1: torch.Tensor, x2: torch.Tensor, eps: float) -> torch.Tensor:
    r"""The product kernel :math:`k_\varepsilon(x, x') = \prod_i (1 + \varepsilon^2 x_i x'_i)`.

    On the cube, :math:`k_\varepsilon = \sum_S \varepsilon^{2|S|} \chi_S(x) \chi_S(x')`: a
    kernel whose weight on degree :math:`|S|` falls like :math:`\varepsilon^{2|S|}`, the
    degree bias of the random-features models of Abbe et al. (2023) in closed form.

    Parameters
    ----------
    x1 : Tensor of shape (n, d)
    x2 : Tensor of shape (m, d)
    eps : float
        :math:`\varepsilon \ge 0`.

    Returns
    -------
    Tensor of shape (n, m)

    Examples
    --------
    >>> x = torch.tensor([[1.0, 1.0], [1.0, -1.0]])
    >>> product_kernel(x, x, 1.0).tolist()
    [[4.0, 0.0], [0.0, 4.0]]
    """
    a = as_tensor(x1, "x1", ndim=2, shape="(n, d)")
    b = as_tensor(x2, "x2", ndim=2, shape="(m, d)").to(a.dtype)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x2 must have {a.shape[1]} columns like x1, got {tuple(b.shape)}")
    e2 = check_nonnegative(eps, "eps") ** 2
    return (1 + e2 * a.unsqueeze(1) * b.unsqueeze(0)).prod(-1)


@validate_params(
    {
        "coefficients": Tensor((1, 2), "(2^d,) or (2^d, k)"),
        "eps": NonNegative(),
        "coordinate": Int(0),
    }
)
def product_kernel_unseen_error(
    coefficients: torch.Tensor, eps: float, coordinate: int = 0
) -> torch.Tensor:
    r"""The unseen-half error of kernel interpolation with :math:`k_\varepsilon` from the half :math:`x_i = +1`.

    Interpolating :math:`f` on all :math:`2^{d-1}` points with :math:`x_i = +1` splits each
    seen sum :math:`\hat f(S) + \hat f(S \cup \{i\})` between :math:`\chi_S` and
    :math:`\chi_{S\cup\{i\}}` in the ratio :math:`1 : \varepsilon^2` of their kernel weights
    (the minimum-RKHS-norm split), so on the half :math:`x_i = -1`

    .. math:: \mathbb E[(\hat y - f)^2 \mid x_i = -1] = \frac{4}{(1 + \varepsilon^2)^2}
        \sum_{S \not\ni i} \big(\hat f(S \cup \{i\}) - \varepsilon^2 \hat f(S)\big)^2 ,

    which tends to :math:`4\,\mathrm{Inf}_i(f)` (the min-degree interpolator's error) as
    :math:`\varepsilon \to 0` (our derivation, for the kernel of Abbe et al. 2023).

    Parameters
    ----------
    coefficients : Tensor of shape (2^d,) or (2^d, k)
        Walsh coefficients of :math:`f`.
    eps : float
        :math:`\varepsilon > 0` (at 0 the kernel is constant; the formula is its limit).
    coordinate : int
        The frozen coordinate :math:`i`.

    Returns
    -------
    Tensor of shape () or (k,)

    Examples
    --------
    >>> c = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)  # f = x0 x1
    >>> float(product_kernel_unseen_error(c, 1.0, 0)), float(product_kernel_unseen_error(c, 0.0, 0))
    (1.0, 4.0)
    """
    c = as_tensor(coefficients, "coefficients", ndim=(1, 2), shape="(2^d,) or (2^d, k)")
    d = _dimension(c.shape[0], "coefficients")
    i = check_int(coordinate, "coordinate", minimum=0)
    if i >= d:
        raise ValueError(f"coordinate must be below d = {d}, got {i}")
    e2 = check_nonnegative(eps, "eps") ** 2
    has = _has(c.shape[0], i, c.device)
    return 4 * ((c[has] - e2 * c[~has]) ** 2).sum(0) / (1 + e2) ** 2
