"""Kind ``procedures``: loops that orchestrate several trainings (may import every kind but ``book``).

What goes here: procedures a chapter would otherwise write as a loop of ``fit`` calls and
measurements that a second chapter or a lesson also needs, such as iterative magnitude
pruning with rewinding, a search over architectures scored at initialization and then
trained, adversarial training with a ramped perturbation radius. A single training is
:func:`dlt.train.fit`; code that only one chapter runs stays in that chapter.
"""

from .imp import PruningRound, iterative_magnitude_pruning

__all__ = ["iterative_magnitude_pruning", "PruningRound"]
