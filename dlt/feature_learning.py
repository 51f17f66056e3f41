"""Topic face: lazy versus rich training, feature learning and muP.

Parameterizations as data (:mod:`dlt.nets.parameterization`: standard, NTK, mean field,
muP), the output-scaled model of lazy training (:class:`OutputScaled`), a single-index
teacher whose direction a network can learn (:mod:`dlt.data.teachers`), and the
measurements of feature learning (:mod:`dlt.measure.features`): feature movement,
alignment with the teacher's direction and the coordinate check of muP.
"""

from .data.teachers import SingleIndex, single_index
from .measure.features import (
    coordinate_sizes,
    feature_movement,
    hidden_features,
    weight_alignment,
)
from .nets.parameterization import PARAMETERIZATIONS, layer_scales
from .nets.wrappers import OutputScaled
from .theory.features import random_alignment

__all__ = [
    # parameterizations and the output scale
    "PARAMETERIZATIONS",
    "layer_scales",
    "OutputScaled",
    # data with a planted direction
    "SingleIndex",
    "single_index",
    # measurements of feature learning
    "hidden_features",
    "feature_movement",
    "weight_alignment",
    "coordinate_sizes",
    # closed forms
    "random_alignment",
]
