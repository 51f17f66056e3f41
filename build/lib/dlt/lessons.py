"""Face of :mod:`dlt.book.lessons` (kind ``book``): ``dlt.lessons`` is that module itself."""

import sys

from .book import lessons as _module

sys.modules[__name__] = _module
