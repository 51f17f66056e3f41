"""Brute-force references shared by several test files (plain autograd, no library code)."""

import torch
from torch import nn


def loop_ntk(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """The empirical NTK by brute force: one backward pass per sample and output, Jacobian rows
    stacked, (n1, n2, k, k). A parameter that an output does not reach contributes zeros."""
    params = [p for p in model.parameters() if p.requires_grad]

    def jac(x: torch.Tensor) -> torch.Tensor:
        rows = []
        for i in range(x.shape[0]):
            out = model(x[i : i + 1]).reshape(-1)
            per = []
            for k in range(out.shape[0]):
                grads = torch.autograd.grad(out[k], params, retain_graph=True, allow_unused=True)
                per.append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                                      for g, p in zip(grads, params, strict=True)]))  # fmt: skip
            rows.append(torch.stack(per))
        return torch.stack(rows)  # (n, k, P)

    return torch.einsum("ipx,jqx->ijpq", jac(x1), jac(x2))


class Point(nn.Module):
    """A 'model' that returns its parameter w (float64) whatever the input, so the loss
    ``out @ A @ out / 2`` has Hessian exactly ``A``."""

    def __init__(self, start: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(start.clone().double())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w
