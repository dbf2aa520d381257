"""The package's architecture, checked from its own source: layers, no import cycles, sizes.

The layers, lowest first (README, "Layout"):

    core  <  media  <  faces, models  <  engine  <  embeddings  <  corpus, evaluation  <  the public front

A module may import its own layer and the layers below it, never one above;
nothing below the front imports ``api``, ``cli`` or the other front modules.
``vad/`` is a subpackage of the front, not a layer: its functions are built on
``api`` (``vad_scores`` calls ``video_scores``), so it may import ``api`` and
nothing below the front may import it. Every subpackage is declared as a
layer or as part of the front.
Every import of the package's own modules is read from the code (at any
depth, so a lazy import inside a function counts too).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Set

import pytest

import transforemotion

PACKAGE = Path(transforemotion.__file__).resolve().parent

RANKS = {"core": 0, "media": 1, "faces": 2, "models": 2, "engine": 3, "embeddings": 3.5, "corpus": 4, "evaluation": 4}
FRONT = 5  # api, cli, _bridge, plotting, selfcheck, testing, __init__, __main__, and FRONT_PACKAGES
# Subpackages of the front: built on the public functions, so they import api; no layer imports them.
FRONT_PACKAGES = {"vad"}

# The R package's sources, where this is a checkout (not an installed wheel).
R_SOURCES = PACKAGE.parents[1] / "r-bridge" / "R"

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 90
MAX_TOP_LEVEL_MODULES = 11


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> Set[str]:
    """The package modules an ``import`` statement reaches (a package counts as its ``__init__``)."""
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    found = set()
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        if candidate in MODULES:
            found.add(candidate)
        elif target in MODULES:
            found.add(target)
    return found


def imports_of(module: str) -> Set[str]:
    path = MODULES[module]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found |= _resolve(module, path, node)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in MODULES}
    found.discard(module)
    return found


def rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in FRONT_PACKAGES:
        return FRONT
    return RANKS.get(parts[1], FRONT) if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANKS) else FRONT


GRAPH = {m: imports_of(m) for m in MODULES}


def test_the_reader_sees_the_layers_from_the_file_list():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set(RANKS) <= subpackages
    # A new subpackage says what it is: a layer (RANKS) or a part of the front (FRONT_PACKAGES).
    assert subpackages == set(RANKS) | FRONT_PACKAGES, subpackages ^ (set(RANKS) | FRONT_PACKAGES)
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_module_imports_a_layer_above_its_own():
    wrong = [f"{m} (layer {rank(m)}) imports {i} (layer {rank(i)})"
             for m, targets in GRAPH.items() for i in targets if rank(i) > rank(m)]
    assert not wrong, "\n".join(wrong)


def test_nothing_below_the_front_imports_the_public_api():
    front = {m for m in MODULES if rank(m) == FRONT}
    wrong = [f"{m} imports {i}" for m, targets in GRAPH.items() if rank(m) < FRONT for i in targets & front]
    assert not wrong, "\n".join(wrong)


@pytest.mark.skipif(not R_SOURCES.is_dir(), reason="not a checkout: no r-bridge/R")
def test_r_reaches_python_only_through_the_bridge():
    # R calls public functions by name and asks for values through transforemotion._bridge; reading the
    # package's attributes from R (te$media, py_get_attr(te, ...)) or importing its other modules would put
    # a second door beside it.
    door = re.compile(r'te_module\(\)\$|\bte\$|py_get_attr\(\s*te\b|import\("transforemotion\.(?!_bridge")')
    wrong = [f"{path.name}:{n}: {line.strip()}" for path in sorted(R_SOURCES.glob("*.R"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if not line.lstrip().startswith("#") and door.search(line)]
    assert not wrong, "\n".join(wrong)
    assert door.search('te_module()$media$extensions()') and door.search('import("transforemotion.testing")')
    assert not door.search('import("transforemotion._bridge", convert = FALSE)')


def find_cycles(graph: Dict[str, Set[str]]) -> list:
    """Groups of modules that import each other, directly or round about (Tarjan's strongly connected components)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: list = []
    on_stack: Set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_there_are_no_import_cycles():
    # A package's __init__ importing its own modules is no cycle unless one of them imports the package back.
    assert not find_cycles(GRAPH)


def test_the_checks_can_fail():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
    # The graph read from the code has real edges, across layers, in the allowed direction.
    assert "transforemotion.core.messages" in GRAPH["transforemotion.engine.stream"]
    assert "transforemotion.engine" in GRAPH["transforemotion.corpus.runner"]
    assert "transforemotion.engine" in GRAPH["transforemotion.api"]
    assert rank("transforemotion.corpus.runner") > rank("transforemotion.engine.request") > rank(
        "transforemotion.core.errors")
    assert rank("transforemotion.api") == FRONT
    # vad is front: it may import api, and no layer may import it.
    assert rank("transforemotion.vad") == rank("transforemotion.vad.scores") == FRONT


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_small(module):
    source = MODULES[module].read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{module} has {source.count(chr(10))} lines"
    long = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            # A docstring documents; it does not make the function harder to follow.
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body = body[1:] or body
            lines = body[-1].end_lineno - body[0].lineno + 1
            if lines > MAX_FUNCTION_LINES:
                long.append(f"{node.name}: {lines} lines")
    assert not long, f"{module}: {long}"


def test_the_package_raises_its_own_errors():
    # A bare ValueError or FileNotFoundError raised by us would be reported by the command line as an internal
    # fault; ours say "input error" and are still a ValueError / FileNotFoundError for the caller. (A TypeError
    # stays what it is: where we raise one, a model broke its interface, which is a fault, not input.)
    bare = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name) \
                    and node.exc.func.id in ("ValueError", "FileNotFoundError"):
                bare.append(f"{module}:{node.lineno} raises {node.exc.func.id}")
    assert not bare, "\n".join(bare)


MAX_PARAMETERS = 10


def parameter_counts(tree: ast.AST):
    """(function name, parameters besides self/cls) for every function and method in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
            if names and names[0] in ("self", "cls"):
                names = names[1:]
            yield node.name, len(names)


def test_only_public_functions_take_long_argument_lists():
    # The public functions keep transforEmotion's flat signatures (R mirrors them); below them options travel as
    # objects (ScoringOptions, FrameSampling, SavedFiles, ...), never as long lists of loose values.
    public = set(transforemotion.__all__)
    long = [f"{module}.{name}: {count} parameters"
            for module, path in MODULES.items() for name, count in parameter_counts(ast.parse(path.read_text()))
            if count > MAX_PARAMETERS and name not in public]
    assert not long, "\n".join(long)
    assert max(count for _, count in parameter_counts(ast.parse("def f(a, b, *, c, d=1):\n    pass"))) == 4


def test_no_two_modules_share_a_file_name():
    # A file name says what a module does; two `files.py` with different jobs make a reader open both to find one.
    names: Dict[str, list] = {}
    for module, path in MODULES.items():
        if path.name not in ("__init__.py", "__main__.py"):
            names.setdefault(path.name, []).append(module)
    shared = {name: modules for name, modules in names.items() if len(modules) > 1}
    assert not shared, shared
