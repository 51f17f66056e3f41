"""Topic face: generalization beyond the training distribution, lengths and the unseen.

The Boolean cube and its parities (``dlt.data.boolean``); Walsh-Fourier coefficients,
influences, the min-degree interpolator and the product kernel's unseen error
(``dlt.theory.boolean``); sequence tasks split by length, copying and multi-digit addition
(``dlt.data.sequences``); a small causal transformer with a choice of positional scheme
(``dlt.nets.transformer``); its next-token loss and fresh batches (``dlt.train.sequence``); exact-match and per-token
accuracy (``dlt.measure.sequences``).
"""

from .data.boolean import boolean_cube, parity, subset_index
from .data.sequences import ADDITION_FORMATS, IGNORE, SequenceTask, addition_task, copy_task
from .measure.sequences import SequenceAccuracy, sequence_accuracy
from .nets.transformer import POSITIONAL, CausalTransformer
from .theory.boolean import (
    influence,
    min_degree_interpolator,
    product_kernel,
    product_kernel_unseen_error,
    walsh_coefficients,
    walsh_values,
)
from .train.sequence import FreshBatchLoss, sequence_cross_entropy

__all__ = [
    # the Boolean cube and its Fourier analysis
    "boolean_cube",
    "parity",
    "subset_index",
    "walsh_coefficients",
    "walsh_values",
    "influence",
    # generalization on the unseen
    "min_degree_interpolator",
    "product_kernel",
    "product_kernel_unseen_error",
    # sequence tasks and a causal transformer
    "IGNORE",
    "SequenceTask",
    "copy_task",
    "ADDITION_FORMATS",
    "addition_task",
    "POSITIONAL",
    "CausalTransformer",
    "sequence_cross_entropy",
    "FreshBatchLoss",
    "SequenceAccuracy",
    "sequence_accuracy",
]
