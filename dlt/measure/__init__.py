"""Kind ``measure``: empirical quantities of a trained or random model (imports ``core``, ``nets``).

The empirical NTK and the distance between kernels; feature movement, alignment and the
coordinate check of feature learning; the normalized margin of linear classifiers; and the
curvature of a training loss (Hessian-vector products, the top Hessian eigenvalue,
Hutchinson's trace); the Fourier spectrum of a token embedding and grokking times.
"""

from .features import coordinate_sizes, feature_movement, hidden_features, weight_alignment
from .fourier import fourier_power, grokking_time, top_frequency_share
from .hessian import TopEigen, hessian_trace, hvp, top_hessian_eigenvalue
from .margins import margin
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
    # margins and curvature
    "margin",
    "hvp",
    "top_hessian_eigenvalue",
    "hessian_trace",
    "TopEigen",
    # Fourier spectra of embeddings and grokking times
    "fourier_power",
    "top_frequency_share",
    "grokking_time",
]
