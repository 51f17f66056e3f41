"""Kind ``core``: what every other kind may use. Imports nothing else from :mod:`dlt`.

- :mod:`dlt.core.validate` argument checks at the public boundary;
- :mod:`dlt.core.device` the device a chapter runs on;
- :mod:`dlt.core.activations` the one activation registry (function, derivative, Gaussian
  expectations), shared by the networks and the kernels.
"""
