"""Kind ``measure``: empirical quantities of a trained or random model (imports ``core``, ``nets``).

The empirical NTK and the distance between kernels; feature movement, alignment and the
coordinate check of feature learning; the Hessian spectra and margins of the chapters to
come belong here too.
"""

from .features import coordinate_sizes, feature_movement, hidden_features, weight_alignment
from .ntk import empirical_ntk, kernel_distance

__all__ = [
    # tangent kernels
    "empirical_ntk",
    "kernel_distance",
    # feature learning
    "hidden_features",
    "feature_movement",
    "weight_alignment",
    "coordinate_sizes",
]
