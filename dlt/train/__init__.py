"""Kind ``train``: the one training loop of the book, with its losses and optimizers (imports ``core``)."""

from .accuracy import AccuracyCurves, fit_accuracy, member_accuracy
from .denoising import DenoisingLoss
from .linear import LogisticPath, logistic_descent
from .loop import History, fit, minibatch_indices, progress_enabled
from .losses import LOSSES, OPTIMIZERS, ensemble_logistic

__all__ = [
    "History",
    "fit",
    "minibatch_indices",
    "progress_enabled",
    "LOSSES",
    "OPTIMIZERS",
    "ensemble_logistic",
    "LogisticPath",
    "logistic_descent",
    "AccuracyCurves",
    "fit_accuracy",
    "member_accuracy",
    "DenoisingLoss",
]
