"""``python -m dlt``: the ``dlt`` command (:func:`dlt.book.cli.main`), for environments without the script."""

import sys

from .book.cli import main

sys.exit(main())
