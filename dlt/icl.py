"""Topic face: in-context learning of regression.

Prompts in two layouts (:mod:`dlt.data.prompts`, :mod:`dlt.data.masked_prompts`), linear
self-attention and a small softmax transformer (:mod:`dlt.nets.icl_attention`), the gradient-descent construction, the
optimal one-step predictor and the baselines (:mod:`dlt.theory.icl`), the exact Bayes
predictors (:mod:`dlt.theory.bayes`), and the Lasso (:mod:`dlt.solve.lasso`).
"""

from .data.masked_prompts import MixturePrompts, linear_prompts, sample_task_mixture
from .data.prompts import FAMILIES, prompt_parts, sample_regression_tasks
from .nets.icl_attention import LinearSelfAttention, SoftmaxTransformer
from .solve.lasso import lasso
from .theory.bayes import bayes_predictor, discrete_prior_predictor
from .theory.icl import (
    gd_construction,
    gd_predictor,
    lasso_predictor,
    least_squares_predictor,
    one_step_gd_predictor,
    one_step_risk,
    optimal_one_step_preconditioner,
    ridge_predictor,
)

__all__ = [
    # prompts
    "sample_regression_tasks",
    "prompt_parts",
    "sample_task_mixture",
    "linear_prompts",
    "MixturePrompts",
    "FAMILIES",
    # models
    "LinearSelfAttention",
    "SoftmaxTransformer",
    # gradient descent in context
    "gd_construction",
    "one_step_gd_predictor",
    "gd_predictor",
    "optimal_one_step_preconditioner",
    "one_step_risk",
    # baselines and Bayes predictors
    "least_squares_predictor",
    "ridge_predictor",
    "lasso",
    "lasso_predictor",
    "bayes_predictor",
    "discrete_prior_predictor",
]
