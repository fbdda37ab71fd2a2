"""No import cycles in engine/, syntax/ and tui/: each module can be read, tested and replaced after what it
imports. Lazy (function-level) imports count, since they are executed too; imports under
`if TYPE_CHECKING:` do not (annotations only). grimp is import-linter's graph builder."""

from __future__ import annotations

import grimp

PACKAGES = ("engine", "syntax", "tui")


def cycles(graph: grimp.ImportGraph, packages: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every direct import a -> b inside `packages` where b also reaches a."""
    ours = sorted(m for m in graph.modules if m.split(".")[0] in packages)
    found = []
    for a in ours:
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            if b.split(".")[0] in packages and graph.chain_exists(importer=b, imported=a):
                found.append((a, b))
    return found


def test_engine_syntax_and_tui_have_no_import_cycles() -> None:
    graph = grimp.build_graph("engine", "syntax", "tui", exclude_type_checking_imports=True, cache_dir=None)
    found = cycles(graph, PACKAGES)
    chains = [graph.find_shortest_chain(importer=b, imported=a) for a, b in found]
    assert found == [], "\n".join(" -> ".join(c or ()) for c in chains)


def test_the_check_finds_a_cycle() -> None:
    """The same check on a graph with one cycle made by hand reports both of its imports."""
    graph = grimp.ImportGraph()
    for m in ("tui", "tui.a", "tui.b", "tui.c"):
        graph.add_module(m)
    graph.add_import(importer="tui.a", imported="tui.b")
    graph.add_import(importer="tui.b", imported="tui.a")
    graph.add_import(importer="tui.c", imported="tui.a")
    assert cycles(graph, PACKAGES) == [("tui.a", "tui.b"), ("tui.b", "tui.a")]
