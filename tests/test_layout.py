"""The arrows between packages: a surface imports the core, never the other way round; the
scaling policy imports nothing of the app. Read from the source (ast), so a wrong import
fails here even if nothing calls it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "chalicelib"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports, absolute, including imports inside functions."""
    name, found = module_name(path, root), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per dot after the first
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}

# (importer prefix, imported prefix it must never reach)
FORBIDDEN = [
    ("chalicelib.core", "chalicelib.surfaces"),
    ("chalicelib.core", "app"),
    ("chalicelib.scaling", "chalicelib.surfaces"),
    ("chalicelib.providers", "chalicelib.surfaces"),
    ("chalicelib.providers", "chalicelib.scaling"),
]
# The scaling policy's pure modules: they import nothing of the app but each other.
PURE = ("chalicelib.scaling.policy", "chalicelib.scaling.actions", "chalicelib.scaling.context",
        "chalicelib.scaling.recurrence", "chalicelib.scaling.noise")


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def impure(importer: str, imported: str) -> bool:
    """A pure module of the policy importing the app (its package aside, for `from ... import`)."""
    return (any(within(importer, p) for p in PURE) and within(imported, "chalicelib")
            and imported != importer.rpartition(".")[0] and not any(within(imported, p) for p in PURE))


def wrong_arrows(modules: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted({(importer, imported) for importer, imported_set in modules.items() for imported in imported_set
                   for source, target in FORBIDDEN
                   if within(importer, source) and within(imported, target) or impure(importer, imported)})


def test_every_module_of_the_app_is_read():
    assert {"chalicelib.core.store", "chalicelib.scaling.policy", "chalicelib.surfaces.vast.routes"} <= set(MODULES)


def test_no_import_points_the_wrong_way():
    assert wrong_arrows(MODULES) == []


@pytest.mark.parametrize("importer, source", [
    ("chalicelib.core.fleet.routing", "from chalicelib.surfaces.vast import routes"),
    ("chalicelib.core.store", "import chalicelib.surfaces.edge"),
    ("chalicelib.scaling.policy", "from chalicelib.core import settings"),
    ("chalicelib.scaling.recurrence", "from chalicelib.scaling import snapshot"),
    ("chalicelib.scaling.actions", "from chalicelib.scaling.scale_group import acquire_lease"),
    ("chalicelib.scaling.policy", "from chalicelib import scaling"),
    ("chalicelib.core.fleet.stats", "def f():\n    from ...surfaces import edge"),
])
def test_a_wrong_arrow_is_caught(tmp_path, importer, source):
    path = tmp_path.joinpath(*importer.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True)
    path.write_text(source)
    assert wrong_arrows({importer: imports_of(path, tmp_path)})
