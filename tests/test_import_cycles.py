"""No two modules of the package import each other, directly or around a loop (issue 19: the
tagging package and its modules, the tag service and undo, the training wizard and its pages).
Imports inside functions and under ``TYPE_CHECKING`` count too: a lazy import hides a loop from
Python, not from the reader. grimp is import-linter's own graph builder."""

from __future__ import annotations

import grimp


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """The module loops of ``edges`` (Tarjan's algorithm, iterative: the graph has ~250 nodes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                loop = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    loop.append(member)
                    if member == node:
                        break
                if len(loop) > 1:
                    loops.append(sorted(loop))
    return loops


def test_the_finder_finds_a_loop():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_package_is_in_an_import_loop():
    graph = grimp.build_graph("genre_desktop")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    loops = strongly_connected(edges)
    assert loops == [], "import loops: " + "; ".join(" <-> ".join(loop) for loop in loops)
