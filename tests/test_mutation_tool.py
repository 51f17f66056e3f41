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
