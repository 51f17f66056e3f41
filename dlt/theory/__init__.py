"""Kind ``theory``: closed forms (imports ``core``, ``data``, ``solve``).

Infinite-width kernels and kernel gradient-descent dynamics, limiting risks of ridge(less)
regression, effective ranks and the benign-overfitting bound, the optimal one-step
in-context predictor and the exact Bayes predictors of in-context regression, and the
linear-stability thresholds of gradient descent and batch-1 SGD at an interpolating minimum.
"""
