"""Kind ``book``: the book's shared pieces (may import every other kind).

Executable claims (``check.py``), figures (``figures.py``: the style, sharp PNGs), explorers
(``explorer.py``, live and pre-computed; ``explorer_html.py``, the pre-computed HTML), the one-line chapter
set-up (``setup.py``, :func:`dlt.setup`), lessons (``lessons.py``) and the ``dlt`` command
(``cli.py``). Each is reachable under its short name: :mod:`dlt.check`, :mod:`dlt.viz`,
:mod:`dlt.lessons`, ``dlt.cli``.
"""
