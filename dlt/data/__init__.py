"""Kind ``data``: generators of synthetic data with known ground truth (imports ``core``).

Every generator draws on the CPU in float64 from an explicit ``seed`` and then moves the
result to ``device``; label noise is a standard deviation named ``noise``.
"""

from .digits import Digits, digits
from .inputs import circle, gaussian_mixture, sphere, teacher_regression
from .linear import gaussian_linear_regression
from .masked_prompts import MixturePrompts, linear_prompts, sample_task_mixture
from .modular import OPERATIONS, ModularData, modular_arithmetic, one_hot_pairs
from .patches import signal_noise_patches
from .prompts import FAMILIES, prompt_parts, sample_regression_tasks
from .ring import gaussian_ring
from .separable import separable_classes
from .tanh_teacher import TeacherClasses, tanh_teacher_classes
from .teachers import BinaryTeacher, SingleIndex, binary_teacher, single_index

__all__ = [
    "separable_classes",
    # inputs and teachers
    "sphere",
    "circle",
    "teacher_regression",
    "gaussian_mixture",
    "gaussian_ring",
    # Gaussian linear regression with a given spectrum (the solvable model of SGD)
    "gaussian_linear_regression",
    # benign overfitting: signal and noise patches
    "signal_noise_patches",
    # teachers with a planted direction: single-index regression, a noisy binary teacher
    "SingleIndex",
    "single_index",
    "BinaryTeacher",
    "binary_teacher",
    # classes of a random tanh teacher (lottery tickets)
    "TeacherClasses",
    "tanh_teacher_classes",
    # modular arithmetic (grokking)
    "OPERATIONS",
    "ModularData",
    "modular_arithmetic",
    "one_hot_pairs",
    # in-context regression prompts
    "FAMILIES",
    "MixturePrompts",
    "sample_regression_tasks",
    "prompt_parts",
    "sample_task_mixture",
    "linear_prompts",
    # real data: scikit-learn's 8x8 digits
    "digits",
    "Digits",
]
