"""Face of :mod:`dlt.book.viz` (kind ``book``): ``dlt.viz`` is that module itself."""

import sys

from .book import viz as _module

sys.modules[__name__] = _module
