"""Topic face: grokking on modular arithmetic.

The data sets of Power et al. (``dlt.data.modular``), the embedding network trained for
several seeds at once (``dlt.nets.modular``), training with train and test accuracy curves
(``dlt.train.accuracy``), and the Fourier spectrum of an embedding with the grokking times
(``dlt.measure.fourier``).
"""

from .data.modular import OPERATIONS, ModularData, modular_arithmetic, one_hot_pairs
from .measure.fourier import fourier_power, grokking_time, top_frequency_share
from .nets.modular import ModularMLP
from .train.accuracy import AccuracyCurves, fit_accuracy, member_accuracy

__all__ = [
    # data
    "modular_arithmetic",
    "ModularData",
    "OPERATIONS",
    "one_hot_pairs",
    # the network and its training
    "ModularMLP",
    "fit_accuracy",
    "AccuracyCurves",
    "member_accuracy",
    # measurements
    "fourier_power",
    "top_frequency_share",
    "grokking_time",
]
