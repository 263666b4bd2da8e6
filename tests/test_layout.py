"""The house keeps its shape: kb stands alone, imports run one way, no circles between modules."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    paths = [*ROOT.glob("portal/**/*.py"), *ROOT.glob("kb/**/*.py")]
    return {_module_name(p): p for p in paths}


def _imported_names(path: Path):
    """Every module name an import statement in the file names, local imports included."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        found = {known(n) for n in _imported_names(path)} - {None, name}
        # A package and its own modules (a blueprint's __init__ importing its views, which
        # import the blueprint back) is the one accepted idiom.
        graph[name] = {
            m for m in found if not (m.startswith(name + ".") or name.startswith(m + "."))
        }
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_module_imports_another_that_imports_it_back():
    assert _circles(_import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_kb_never_imports_the_web_app_or_flask():
    offending = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in ROOT.glob("kb/**/*.py")
        for name in _imported_names(path)
        if name.split(".")[0] in ("portal", "flask", "flask_sqlalchemy", "flask_login")
    ]
    assert offending == []


def test_the_knowledge_base_creates_its_tables_alone_on_an_empty_database():
    script = (
        "import sys\n"
        "from sqlalchemy import create_engine, inspect\n"
        "import kb.models\n"
        "from kb.db import Base\n"
        "engine = create_engine('sqlite://')\n"
        "Base.metadata.create_all(engine)\n"
        "print(sorted(inspect(engine).get_table_names()))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'portal', 'flask'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    tables, web = done.stdout.splitlines()
    for table in (
        "articles",
        "sections",
        "section_organizations",
        "users",
        "customer_organizations",
    ):
        assert f"'{table}'" in tables
    assert "tickets" not in tables
    assert web == "[]"


def _views():
    """(file, name, lines) of every function a blueprint routes to."""
    verbs = {"route", "get", "post", "put", "patch", "delete"}
    for path in sorted(ROOT.glob("portal/blueprints/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and d.func.attr in verbs
                for d in node.decorator_list
            ):
                yield path.relative_to(ROOT), node.name, node.end_lineno - node.lineno + 1


def test_every_view_is_short_parse_call_render():
    views = list(_views())
    assert len(views) > 50  # the finder sees the views
    assert [f"{path}:{name} has {lines} lines" for path, name, lines in views if lines > 40] == []


def test_views_read_posted_forms_through_form_classes():
    raw = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.glob("portal/blueprints/**/*.py")
        if not path.name.endswith("forms.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "request.form" in line
    ]
    assert raw == []
