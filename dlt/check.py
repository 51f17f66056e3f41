"""Face of :mod:`dlt.book.check` (kind ``book``): ``dlt.check`` is that module itself."""

import sys

from .book import check as _module

sys.modules[__name__] = _module
