"""Kind ``measure``: empirical quantities of a trained or random model (imports ``core``, ``nets``).

The empirical NTK and the distance between kernels; feature movement, alignment and the
coordinate check of feature learning; the normalized margin of linear classifiers; the
curvature of a training loss (Hessian-vector products, the top Hessian eigenvalue,
Hutchinson's trace, the full Hessian of a small model, the sharpness along training); the
complexity measures of a trained classifier compared with its generalization gap (distance
from initialization, spectral-norm product, path norm, PAC-Bayes flatness, the error of
Gaussian weight perturbations, Kendall's tau); and the Fourier spectrum of a token embedding
and grokking times.
"""

from .complexity import distance_from_init, path_norm, spectral_norm_product, zero_one_error
from .convergence import NTKScores, activation_flips, ntk_scores
from .features import coordinate_sizes, feature_movement, hidden_features, weight_alignment
from .fourier import fourier_power, grokking_time, top_frequency_share
from .hessian import TopEigen, hessian_trace, hvp, top_hessian_eigenvalue
from .margins import margin
from .memorization import Memorization, memorization_fraction
from .ntk import empirical_ntk, kernel_distance
from .perturbation import Sharpness, posterior_errors, sharpness
from .ranking import KendallTau, kendall_tau
from .robust import certified_accuracy, input_jacobian_norms, robust_accuracy
from .tracking import SharpnessCallback, full_hessian, output_jacobian

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
    "full_hessian",
    "output_jacobian",
    "SharpnessCallback",
    # complexity measures
    "zero_one_error",
    "distance_from_init",
    "spectral_norm_product",
    "path_norm",
    "posterior_errors",
    "sharpness",
    "Sharpness",
    "kendall_tau",
    "KendallTau",
    # Fourier spectra of embeddings and grokking times
    "fourier_power",
    "top_frequency_share",
    "grokking_time",
    # robustness: input Jacobians, robust and certified accuracy
    "input_jacobian_norms",
    "robust_accuracy",
    "certified_accuracy",
    # diffusion: the memorization fraction of samples
    "memorization_fraction",
    "Memorization",
    # global convergence: NTK scores of an architecture, flipped activation patterns
    "ntk_scores",
    "NTKScores",
    "activation_flips",
]
