"""Topic face: empirical neural tangent kernels and lazy training.

The empirical NTK of any module (:mod:`dlt.measure.ntk`), the linearized network and the
output-scaled network of Chizat et al. (:mod:`dlt.nets.wrappers`).
"""

from .measure.ntk import empirical_ntk, kernel_distance
from .nets.wrappers import Linearized, OutputScaled, linearize

__all__ = ["empirical_ntk", "kernel_distance", "Linearized", "linearize", "OutputScaled"]
