"""The shape of the package: module sizes, function sizes, and imports that run back up.

    python bench/structure.py [PACKAGE_DIR]      (default: amtflow/ of this repository)

Prints the figures that docs/architecture.md quotes as "the structure today", so that a
restructure can show before and after. Reads the source as text (``ast``); imports nothing.

An import "runs back up" when a module imports one from a layer above its own (the layers are
below, top first: each may use the ones beneath it), or when anything but the edge imports the
simulator, a tool that sits beside the pipeline.
"""

from __future__ import annotations

import ast
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Top first. A module belongs to the first layer with a prefix of its dotted name.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("edge", ("amtflow.cli", "amtflow.__main__", "amtflow.api")),
    ("orchestration", ("amtflow.orchestration", "amtflow.runner", "amtflow.control")),
    ("report", ("amtflow.report",)),
    ("engine", ("amtflow.engine", "amtflow.agents")),
    ("plan", ("amtflow.plan",)),
    ("definitions", ("amtflow.definitions",)),
    ("client, joblog, state", ("amtflow.client", "amtflow.joblog", "amtflow.state")),
)
BOTTOM = "model and errors"  # model, batch, runs, properties, secrets, errors, the package root
TOOL = "amtflow.simulator"


@dataclass(frozen=True)
class Function:
    module: str
    name: str
    line: int
    lines: int


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int
    why: str


def modules(package: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def functions(name: str, tree: ast.AST) -> Iterator[Function]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            yield Function(name, node.name, node.lineno, size)


def imported(
    name: str, is_package: bool, tree: ast.AST, known: set[str]
) -> Iterator[tuple[str, int]]:
    """Every amtflow module ``name`` imports (function-level imports too), with the line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in known else base), node.lineno


def _absolute(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = name.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def layer(module: str) -> int:
    """0 for the edge, growing downwards; the bottom layer holds every module not listed."""
    if module == "amtflow":  # the package root is the public API's facade (docs/api.md)
        return 0
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return len(LAYERS)


def layer_name(rank: int) -> str:
    return LAYERS[rank][0] if rank < len(LAYERS) else BOTTOM


def back_arrows(graph: dict[str, set[tuple[str, int]]]) -> list[Arrow]:
    arrows = []
    for source, targets in sorted(graph.items()):
        if source.startswith(TOOL):
            continue
        for target, line in sorted(targets):
            if target.startswith(TOOL) and layer(source) != 0:
                arrows.append(Arrow(source, target, line, "imports the simulator"))
            elif not target.startswith(TOOL) and layer(target) < layer(source):
                why = f"{layer_name(layer(source))} -> {layer_name(layer(target))}"
                arrows.append(Arrow(source, target, line, why))
    return arrows


def main(package: Path) -> None:
    found = dict(modules(package))
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in found.items()}
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in found.items()
    }
    funcs = [f for name, tree in trees.items() for f in functions(name, tree)]
    graph = {
        name: {
            (target, line)
            for target, line in imported(name, found[name].name == "__init__.py", tree, set(found))
            if target.startswith("amtflow") and target != name
        }
        for name, tree in trees.items()
    }
    lengths = sorted(f.lines for f in funcs)
    print(f"modules: {len(found)}, lines: {sum(sizes.values())}")
    print(
        f"  median module {statistics.median(sizes.values()):.0f} lines; over 300: "
        f"{sum(1 for s in sizes.values() if s > 300)}"
    )
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:8]:
        print(f"  {size:5d}  {name}")
    print(
        f"functions: {len(funcs)}, median {statistics.median(lengths):.0f} lines, "
        f"90th percentile {lengths[int(len(lengths) * 0.9)]}, over 35 lines: "
        f"{sum(1 for n in lengths if n > 35)}"
    )
    for f in sorted(funcs, key=lambda f: -f.lines)[:8]:
        print(f"  {f.lines:5d}  {f.module}:{f.line} {f.name}")
    edges = sum(len(targets) for targets in graph.values())
    arrows = back_arrows(graph)
    print(f"imports between amtflow modules: {edges}; running back up the layers: {len(arrows)}")
    for arrow in arrows:
        print(f"  {arrow.source}:{arrow.line} -> {arrow.target}  ({arrow.why})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "amtflow")
