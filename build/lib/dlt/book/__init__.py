"""Kind ``book``: the book's shared pieces (may import every other kind).

Executable claims (:mod:`dlt.book.check`), figures and explorers (:mod:`dlt.book.viz`),
the one-line chapter set-up (:mod:`dlt.book.setup`), lessons (:mod:`dlt.book.lessons`) and
the ``dlt`` command (:mod:`dlt.book.cli`). Each is also reachable under its short name:
``dlt.check``, ``dlt.viz``, ``dlt.lessons``, ``dlt.cli``.
"""
