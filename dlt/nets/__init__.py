"""Kind ``nets``: models with explicit parameterizations (imports ``core``, ``data``, ``theory``).

- :class:`MLP` fully connected, parameterization as data (:mod:`dlt.nets.parameterization`),
  with its public layer view and its infinite-width kernels;
- :class:`PatchCNN` the two-layer CNN of the benign-overfitting papers;
- :class:`LinearSelfAttention`, :class:`SoftmaxTransformer` models of in-context regression;
- :func:`dlt.interpolation.random_features` a frozen random first layer;
- :class:`DiagonalNet` the diagonal linear network of Woodworth et al. (2020);
- :class:`MLPEnsemble` several ReLU networks trained at once in batched products;
- :class:`ModularMLP` embeddings and one hidden layer for modular arithmetic (grokking);
- :class:`FixedReadoutNet` Du et al.'s two-layer network, :class:`SearchNet` a small
  search space of activations and skip connections;
- :class:`Linearized`, :class:`OutputScaled` models built from a model (lazy training).
"""

from .cnn import PatchCNN
from .denoiser import EDMDenoiser
from .diagonal import DiagonalNet
from .ensemble import MLPEnsemble
from .features import random_features
from .icl_attention import LinearSelfAttention, SoftmaxTransformer
from .mlp import MLP, Layer, Trace
from .modular import ModularMLP
from .parameterization import PARAMETERIZATIONS, layer_scales
from .polynomial import CCP, NCP
from .search import Architecture, SearchNet, search_space
from .sequential import INITS, relu_network
from .two_layer import FixedReadoutNet
from .wrappers import Linearized, OutputScaled, linearize

__all__ = [
    # fully connected networks and their parameterizations
    "MLP",
    "Layer",
    "Trace",
    "PARAMETERIZATIONS",
    "layer_scales",
    # other architectures
    "PatchCNN",
    "LinearSelfAttention",
    "SoftmaxTransformer",
    "random_features",
    "DiagonalNet",
    "ModularMLP",
    "MLPEnsemble",
    # models built from a model
    "Linearized",
    "linearize",
    "OutputScaled",
    # plain ReLU networks (IBP-ready) and polynomial networks
    "relu_network",
    "INITS",
    "CCP",
    "NCP",
    # diffusion
    "EDMDenoiser",
    # global convergence and architecture search (chapter on the NTK's smallest eigenvalue)
    "FixedReadoutNet",
    "SearchNet",
    "Architecture",
    "search_space",
]
