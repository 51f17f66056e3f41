r"""Polynomial regression: monomial features and the least-squares polynomial of degree N.

The monomials of degree at most :math:`N` in :math:`d` variables are
:math:`z^\alpha = \prod_j z_j^{\alpha_j}` for the :math:`\binom{d + N}{N}` exponent vectors
with :math:`|\alpha| \le N`; least squares on them gives the best polynomial of degree at
most :math:`N` on the data, the baseline that Cheng et al. (2018) propose against neural
networks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from ..core.validate import as_matrix, as_vector, check_int, check_nonnegative

__all__ = ["monomial_exponents", "monomial_features", "PolynomialFit", "polynomial_fit"]


def monomial_exponents(d: int, degree: int) -> torch.Tensor:
    r"""The exponent vectors :math:`\alpha \in \mathbb N^d` with :math:`|\alpha| \le N`, by degree.

    There are :math:`\binom{d + N}{N}` of them; within a degree they are in lexicographic
    order (decreasing powers of :math:`z_1` first).

    Examples
    --------
    >>> monomial_exponents(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    d = check_int(d, "d", minimum=1)
    degree = check_int(degree, "degree", minimum=0)
    rows: list[tuple[int, ...]] = []
    for k in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), k):
            alpha = [0] * d
            for j in combo:
                alpha[j] += 1
            rows.append(tuple(alpha))
    return torch.tensor(rows, dtype=torch.long).view(-1, d)


def monomial_features(z: torch.Tensor, degree: int) -> torch.Tensor:
    r"""All monomials of degree at most ``degree`` of each row of ``z``.

    .. math:: \Phi(z)_{i\alpha} = \prod_{j=1}^d z_{ij}^{\alpha_j}, \qquad |\alpha| \le N

    Parameters
    ----------
    z : Tensor of shape (n, d)
    degree : int
        :math:`N \ge 0`.

    Returns
    -------
    Tensor of shape (n, binom(d + N, N)), columns in the order of :func:`monomial_exponents`.

    Examples
    --------
    >>> monomial_features(torch.tensor([[2.0, 3.0]]), 2)
    tensor([[1., 2., 3., 4., 6., 9.]])
    """
    z = as_matrix(z, "z")
    alpha = monomial_exponents(z.shape[1], degree).to(z.device)
    return (z.unsqueeze(1) ** alpha.to(z.dtype)).prod(-1)


@dataclass(frozen=True)
class PolynomialFit:
    """A polynomial fitted by least squares: its exponents, its coefficients and the training error.

    Examples
    --------
    >>> z = torch.randn(50, 2, dtype=torch.float64)
    >>> fit = polynomial_fit(z, z[:, 0] * z[:, 1], 2)
    >>> round(float(fit.coef[4]), 6), fit.predict(z).shape
    (1.0, torch.Size([50]))
    """

    exponents: torch.Tensor
    coef: torch.Tensor
    train_mse: float

    @property
    def degree(self) -> int:
        """The degree N of the fitted family."""
        return int(self.exponents.sum(1).max())

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """The polynomial at the rows of ``z`` (n, d)."""
        return monomial_features(z, self.degree).to(self.coef.dtype) @ self.coef


def polynomial_fit(
    z: torch.Tensor, y: torch.Tensor, degree: int, ridge: float = 0.0
) -> PolynomialFit:
    r"""The least-squares polynomial of degree at most ``degree``.

    .. math:: \hat c = \arg\min_c \frac{1}{2n}\|y - \Phi(z) c\|^2 + \frac{\lambda}{2}\|c\|^2

    on the monomial features :math:`\Phi` (:func:`monomial_features`), solved by
    ``torch.linalg.lstsq`` for :math:`\lambda = 0` (the minimum-norm solution when
    :math:`\Phi` has fewer rows than columns) and by the normal equations otherwise.

    Parameters
    ----------
    z : Tensor of shape (n, d)
    y : Tensor of shape (n,)
    degree : int
        :math:`N \ge 0`.
    ridge : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    PolynomialFit

    References
    ----------
    Cheng, Khomtchouk, Matloff and Mohanty (2018), Polynomial regression as an alternative
    to neural nets.

    Examples
    --------
    >>> z = torch.rand(100, 1, dtype=torch.float64)
    >>> fit = polynomial_fit(z, 1 + 2 * z[:, 0] ** 3, 3)
    >>> [round(float(c), 6) + 0.0 for c in fit.coef]
    [1.0, 0.0, 0.0, 2.0]
    """
    z = as_matrix(z, "z")
    y = as_vector(y, "y", z.shape[0]).to(z.dtype)
    ridge = check_nonnegative(ridge, "ridge")
    phi = monomial_features(z, degree)
    n = z.shape[0]
    if ridge == 0:
        coef = torch.linalg.lstsq(
            phi, y.unsqueeze(1), driver="gelsd" if phi.device.type == "cpu" else None
        ).solution[:, 0]
    else:
        a = phi.T @ phi / n + ridge * torch.eye(phi.shape[1], dtype=phi.dtype, device=phi.device)
        coef = torch.linalg.solve(a, phi.T @ y / n)
    mse = float(((phi @ coef - y) ** 2).mean())
    return PolynomialFit(monomial_exponents(z.shape[1], degree), coef, mse)
