"""Kind ``measure``: empirical quantities of a trained or random model (imports ``core``, ``nets``).

Today the empirical NTK and the distance between kernels; the Hessian spectra, margins and
feature movement of the chapters to come belong here too.
"""

from .margins import margin
from .ntk import empirical_ntk, kernel_distance

__all__ = ["empirical_ntk", "kernel_distance", "margin"]
