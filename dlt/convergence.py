"""Topic face: global convergence of gradient descent and architecture choice through the NTK.

Du et al.'s limiting Gram matrix and linear-rate bound (``dlt.theory.convergence``), their
two-layer network with a fixed readout (``dlt.nets.two_layer``), a small search space of
activations and skip connections (``dlt.nets.search``), and the measurements: NTK scores
of an architecture and the fraction of flipped activation patterns
(``dlt.measure.convergence``).
"""

from .measure.convergence import NTKScores, activation_flips, ntk_scores
from .nets.search import Architecture, SearchNet, search_space
from .nets.two_layer import FixedReadoutNet
from .theory.convergence import h_infinity, linear_convergence_bound

__all__ = [
    # the global-convergence result
    "h_infinity",
    "linear_convergence_bound",
    "FixedReadoutNet",
    "activation_flips",
    # architecture choice through the NTK
    "ntk_scores",
    "NTKScores",
    "SearchNet",
    "Architecture",
    "search_space",
]
