"""Kind ``prune``: sparsity of a model's weights (imports ``core``, ``nets``).

What goes here: pruning scores (weight magnitudes, global or per layer), the masks they
select, a model with its masks applied so that pruned weights stay zero through training, and
rewinding a masked model to its initial weights. The loop of pruning rounds, which trains
between them, orchestrates several trainings and lives in :mod:`dlt.procedures`.
"""

from .magnitude import densities, prune_by_magnitude, random_masks
from .masked import MaskedModel, rewind

__all__ = ["prune_by_magnitude", "random_masks", "densities", "MaskedModel", "rewind"]
