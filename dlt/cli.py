"""Face of :mod:`dlt.book.cli` (kind ``book``): ``dlt.cli`` is that module itself."""

import sys

from .book import cli as _module

sys.modules[__name__] = _module

if __name__ == "__main__":
    sys.exit(_module.main())
