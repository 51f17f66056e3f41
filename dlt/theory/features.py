r"""Closed forms for feature learning: the alignment of a random neuron with a direction."""

from __future__ import annotations

import math

from ..core.params import Int, validate_params
from ..core.validate import check_int

__all__ = ["random_alignment"]


@validate_params({"dim": Int(1)})
def random_alignment(dim: int) -> float:
    r"""Expected :math:`|\cos(w, \beta)|` for :math:`w` uniformly random in :math:`\mathbb{R}^d`.

    For :math:`w \sim \mathcal{N}(0, I_d)` and a fixed unit :math:`\beta`,
    :math:`\cos(w, \beta) = w_1/\|w\|` (by rotation invariance), and

    .. math:: \mathbb{E}\,|\cos(w,\beta)| = \frac{\Gamma(d/2)}{\sqrt{\pi}\,\Gamma((d+1)/2)}
              \;\sim\; \sqrt{\frac{2}{\pi d}}\quad (d \to \infty).

    This is the level of :func:`dlt.feature_learning.weight_alignment` for a first layer that has
    learned nothing about :math:`\beta`.

    Parameters
    ----------
    dim : int
        Dimension :math:`d \ge 1`.

    Returns
    -------
    float in ``(0, 1]``

    Raises
    ------
    ValueError
        If ``dim < 1``.

    Examples
    --------
    >>> round(random_alignment(1), 12), round(random_alignment(2), 6), round(2 / math.pi, 6)
    (1.0, 0.63662, 0.63662)
    """
    d = check_int(dim, "dim", minimum=1)
    return math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)
