"""Topic face: sparsity and lottery tickets.

Magnitude pruning, global or layer by layer, and random masks (``dlt.prune.magnitude``); a
masked model whose pruned weights stay zero, and rewinding (``dlt.prune.masked``); iterative
magnitude pruning with rewinding (``dlt.procedures.imp``); the batched ReLU ensemble that
trains many small networks at once (``dlt.nets.ensemble``); the tanh teacher's classes
(``dlt.data.tanh_teacher``).
"""

from .data.tanh_teacher import TeacherClasses, tanh_teacher_classes
from .nets.ensemble import MLPEnsemble
from .procedures.imp import PruningRound, iterative_magnitude_pruning
from .prune.magnitude import densities, prune_by_magnitude, random_masks
from .prune.masked import MaskedModel, rewind

__all__ = [
    # pruning masks
    "prune_by_magnitude",
    "random_masks",
    "densities",
    # masked models and rewinding
    "MaskedModel",
    "rewind",
    # iterative magnitude pruning
    "iterative_magnitude_pruning",
    "PruningRound",
    # models and data
    "MLPEnsemble",
    "tanh_teacher_classes",
    "TeacherClasses",
]
