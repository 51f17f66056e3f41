"""tools/mutation.py: the scratch copy's rewrite of decorated functions keeps what they do."""

import ast
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "mutation_tool", Path(__file__).resolve().parents[1] / "tools" / "mutation.py"
)
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)

SOURCE = '''
def twice(f):
    return lambda *a: 2 * f(*a)

def plus(k):
    return lambda f: (lambda *a: f(*a) + k)

@twice
@plus(1)
def g(x):
    """doc"""
    return x * 10

class C:
    @staticmethod
    def h():
        return 3
'''


def test_undecorate_applies_the_decorators_after_the_definition_in_the_same_order():
    out = mutation._undecorate(SOURCE)
    tree = ast.parse(out)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "g")
    assert fn.decorator_list == []  # mutmut now mutates its body
    assert "g = (twice)((plus(1))(g))" in out
    before, after = {}, {}
    exec(SOURCE, before)
    exec(out, after)
    assert before["g"](2) == after["g"](2) == 42  # twice(plus(1)(g)): 2 * (20 + 1)
    assert after["C"].h() == 3  # methods are left alone


def test_every_module_of_the_scored_folders_has_its_row_of_tests():
    """The report's list of modules not run is complete only if each module of theory/,
    measure/, solve/ and train/ has a row in TESTS, and each row names files that exist."""
    root = Path(__file__).resolve().parents[1]
    for folder in ("theory", "measure", "solve", "train"):
        for path in sorted((root / "dlt" / folder).glob("*.py")):
            if path.name != "__init__.py":
                assert path.relative_to(root).as_posix() in mutation.TESTS, path.name
    for module, tests in mutation.TESTS.items():
        assert (root / module).is_file(), module
        for t in tests:
            assert (root / t.split("::")[0]).is_file(), (module, t)
