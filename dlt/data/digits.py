"""The 8x8 handwritten digits that scikit-learn ships inside its package: the book's real data.

1,797 grey-level images of the digits 0 to 9 (about 180 of each), 8 x 8 pixels with values 0
to 16, from the UCI optical recognition of handwritten digits data set
(``sklearn.datasets.load_digits``; the file is part of the scikit-learn package, nothing is
downloaded).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.validate import check_fraction, generator

__all__ = ["Digits", "digits"]


@dataclass(frozen=True)
class Digits:
    """A stratified train/test split of the digits: flattened images in [0, 1] and labels.

    Examples
    --------
    >>> d = digits(seed=0)
    >>> d.X_train.shape[1], d.n_classes
    (64, 10)
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def n_classes(self) -> int:
        """The number of classes (10)."""
        return 10


def digits(
    test_fraction: float = 0.3,
    *,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Digits:
    r"""scikit-learn's 8x8 digits, split stratified by class with a seeded permutation.

    Each image is flattened to a row of 64 pixels scaled to :math:`[0, 1]` (the raw values
    0 to 16 divided by 16), so that an :math:`\ell_\infty` radius :math:`\varepsilon` is a
    fraction of the full pixel range. In every class :math:`c` with :math:`n_c` images, a
    seeded random permutation puts :math:`\mathrm{round}(\text{test\_fraction}\cdot n_c)` of
    them in the test set and the rest in the training set, so both sets keep the class
    proportions. Labels are integers 0 to 9 (``torch.long``).

    Parameters
    ----------
    test_fraction : float
        Fraction of each class held out, in (0, 1).
    seed : int or torch.Generator
        Seed of the split.
    dtype, device : optional
        Of the images (float32 by default).

    Returns
    -------
    Digits
        ``X_train`` (n_train, 64), ``y_train`` (n_train,), ``X_test``, ``y_test``.

    Raises
    ------
    ValueError
        If ``test_fraction`` is not in (0, 1).
    ImportError
        If scikit-learn is not installed.

    References
    ----------
    Alpaydin and Kaynak (1998), the UCI optical recognition of handwritten digits data set,
    as shipped by scikit-learn (Pedregosa et al. 2011).

    Examples
    --------
    >>> d = digits(test_fraction=0.3, seed=0)
    >>> len(d.y_train) + len(d.y_test), float(d.X_train.max())
    (1797, 1.0)
    """
    test_fraction = check_fraction(test_fraction, "test_fraction", low_open=True, high_open=True)
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    from sklearn.datasets import load_digits

    raw = load_digits()
    X = torch.as_tensor(raw.data, dtype=torch.float64) / 16.0
    y = torch.as_tensor(raw.target, dtype=torch.long)
    g = generator(seed)
    train, test = [], []
    for c in range(10):
        idx = torch.nonzero(y == c)[:, 0]
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = int(round(test_fraction * len(idx)))
        test.append(idx[:k])
        train.append(idx[k:])
    tr, te = torch.cat(train).sort().values, torch.cat(test).sort().values
    if len(tr) == 0 or len(te) == 0:
        raise ValueError(f"test_fraction = {test_fraction} leaves an empty train or test set")

    def put(t: torch.Tensor) -> torch.Tensor:
        return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)

    return Digits(put(X[tr]), put(y[tr]), put(X[te]), put(y[te]))
