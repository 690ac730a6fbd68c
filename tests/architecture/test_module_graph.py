"""No module cycle in the domain crate or the exporter, and no long exporter source file
(issue 12): a newcomer reads a crate from its leaves up.

The module graph of a Rust crate is read from its sources: which module uses which.

A module is a file under `src/` (`src/a.rs` and `src/a/b.rs` are `a` and `a::b`; `lib.rs`,
`main.rs` and `mod.rs` name their folder). An edge `a -> b` is any path `crate::b…`,
`super::…` or `self::…` resolving to `b`, or a path through one of `a`'s own child modules
(`use child::Item`), in `a`'s code, comments and string literals excepted. A parent that uses
its child and a child that uses its parent are a cycle like any other. Test modules do not
count: tests may reach anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"')
_CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)")
_USE_GROUP = re.compile(r"\bcrate::\{([^}]*)\}")
_SUPER_PATH = re.compile(r"\bsuper::([a-z_][a-z0-9_]*)")
_SUPER_ALONE = re.compile(r"\bsuper::(?:\{|\*|[A-Z])")
_CHILD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
_TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*(?:;|\{)", re.S)


def module_name(src: Path, file: Path) -> str:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts.pop()
    return "::".join(parts)


def _code_without_tests(text: str) -> str:
    """The file's code up to its `#[cfg(test)] mod …` (by convention the last item)."""
    match = _TEST_MODULE.search(text)
    return text[: match.start()] if match else text


def _strip(text: str) -> str:
    return _STRING.sub('""', _COMMENT.sub("", text))


def module_graph(src: Path) -> dict[str, set[str]]:
    """`module -> modules it uses` for every `.rs` file under `src`, test files excepted."""
    files = {module_name(src, f): f for f in sorted(src.rglob("*.rs"))}
    modules = {m for m in files if m and not m.endswith("tests") and m.split("::")[-1] != "tests"}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module in modules:
        code = _strip(_code_without_tests(files[module].read_text()))
        paths = _CRATE_PATH.findall(code)
        for group in _USE_GROUP.findall(code):
            paths += [p.strip().split("::{")[0] for p in group.split(",") if p.strip()]
        parent = module.rsplit("::", 1)[0] if "::" in module else ""
        for name in _SUPER_PATH.findall(code):
            paths.append(f"{parent}::{name}" if parent else name)
        if parent and _SUPER_ALONE.search(code):
            paths.append(parent)  # `use super::{Item}` or `super::Type`: the parent itself
        prefix = f"{module}::" if module else ""
        for child in _CHILD_DECL.findall(code):
            if re.search(rf"(?<![\w:])(?:self::)?{child}::", code):
                paths.append(prefix + child)
        for path in paths:
            target = _longest_module(path, modules)
            if target and target != module:
                graph[module].add(target)
    return graph


def _longest_module(path: str, modules: set[str]) -> str | None:
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        candidate = "::".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --- The checks -------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]

#: Crates whose module graph must have no cycle (issue 12): the domain and the exporter.
ACYCLIC = ["crates/risk-models/src", "exporter/src"]

#: Longest exporter source file, in lines of code before its test module.
MAX_EXPORTER_LINES = 400


@pytest.mark.parametrize("src", ACYCLIC)
def test_modules_form_no_cycle(src: str) -> None:
    graph = module_graph(ROOT / src)
    assert len(graph) > 3, f"{src}: the graph reader found almost no module"
    assert cycles(graph) == [], f"{src}: modules that use each other"


def test_no_exporter_source_file_is_long() -> None:
    long = {}
    for file in sorted((ROOT / "exporter/src").rglob("*.rs")):
        if file.name == "tests.rs":
            continue
        code = _code_without_tests(file.read_text())
        if code.count("\n") > MAX_EXPORTER_LINES:
            long[str(file.relative_to(ROOT))] = code.count("\n")
    assert long == {}, f"split these (over {MAX_EXPORTER_LINES} lines of code)"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "src"


def test_the_reader_finds_cycles_of_every_spelling(tmp_path: Path) -> None:
    src = _write(tmp_path, {
        "lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
        "a.rs": "use crate::b::Thing;\n",
        "b.rs": "// use crate::c::Ignored;\nuse crate::{a::Other, c};\n",
        "c.rs": 'const S: &str = "crate::a::InAString";\n#[cfg(test)]\nmod tests { use crate::a::X; }\n',
    })
    graph = module_graph(src)
    assert graph["a"] == {"b"} and graph["b"] == {"a", "c"} and graph["c"] == set()
    assert cycles(graph) == [["a", "b"]]


def test_a_parent_and_child_using_each_other_are_a_cycle(tmp_path: Path) -> None:
    src = _write(tmp_path, {
        "lib.rs": "pub mod routes;\n",
        "routes.rs": "mod template;\nuse template::Template;\npub struct Error;\n",
        "routes/template.rs": "use super::Error;\npub struct Template;\n",
    })
    assert cycles(module_graph(src)) == [["routes", "routes::template"]]
