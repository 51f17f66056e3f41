"""Topic face: the curvature of a training loss (sharpness and the edge of stability).

Hessian-vector products by ``torch.func``, the top Hessian eigenvalue by power iteration,
and Hutchinson's estimate of the Hessian's trace (``dlt.measure.hessian``). To record the
sharpness during training, pass ``record={"sharpness": lambda m:
top_hessian_eigenvalue(m, X, y).value}`` to :func:`dlt.train.fit` (``torch.func`` transforms
ignore the ``torch.no_grad`` under which records are evaluated).
"""

from .measure.hessian import TopEigen, hessian_trace, hvp, top_hessian_eigenvalue

__all__ = ["hvp", "top_hessian_eigenvalue", "hessian_trace", "TopEigen"]
