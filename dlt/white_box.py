"""Topic face: white-box transformers and rate reduction.

Coding rates, rate reduction, the compression term over subspaces with its exact gradient and
CRATE's approximations of the compression step (``dlt.theory.rate_reduction``); the MSSA and
ISTA blocks and a small CRATE (``dlt.nets.crate``); two classes on subspaces at a chosen
principal angle (``dlt.data.subspaces``); the digits (``dlt.data.digits``).
"""

from .data.digits import Digits, digits
from .data.subspaces import SubspacePair, subspace_pair
from .nets.crate import CRATE, ISTA, MSSA, CrateTrace
from .theory.rate_reduction import (
    RateReduction,
    coding_rate,
    compression_gradient,
    compression_rate,
    compression_step,
    rate_reduction,
    sparse_rate_reduction,
)

__all__ = [
    # coding rates and rate reduction
    "coding_rate",
    "rate_reduction",
    "RateReduction",
    # the compression term and its step
    "compression_rate",
    "compression_gradient",
    "compression_step",
    "sparse_rate_reduction",
    # white-box transformer blocks
    "MSSA",
    "ISTA",
    "CRATE",
    "CrateTrace",
    # data
    "subspace_pair",
    "SubspacePair",
    "digits",
    "Digits",
]
