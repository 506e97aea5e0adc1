"""The layers of docs/architecture.md: no module imports a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "infomorphic"

#: Layer of each top-level part of the package (docs/architecture.md); data sits beside
#: training but below it, files and _lazy under everything.
LAYERS = {
    "files": 0,
    "errors": 0,
    "_lazy": 0,
    "locks": 0,
    "threads": 0,
    "pid": 1,
    "nn": 2,
    "networks": 3,
    "data": 3,
    "training": 4,
    "experiments": 5,
    "search": 5,
    "reports": 5,
    "reproduce": 5,
    "cli": 6,
    "__init__": 0,
    "__main__": 6,
}


def imported_parts(path: Path) -> set[str]:
    """Top-level parts of infomorphic imported anywhere in a file (functions included)."""
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "infomorphic" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_layer_above_its_own(path):
    relative = path.relative_to(SRC)
    own = relative.parts[0].removesuffix(".py")
    above = {p for p in imported_parts(path) if LAYERS[p] > LAYERS[own]}
    assert not above, f"{relative} (layer {LAYERS[own]}) imports {sorted(above)}"


def test_every_part_has_a_layer():
    assert {p.relative_to(SRC).parts[0].removesuffix(".py") for p in MODULES} <= set(LAYERS)


def test_data_and_the_networks_know_nothing_of_each_other():
    for path in (SRC / "data").glob("*.py"):
        assert imported_parts(path) <= {"data", "files", "errors", "_lazy"}, path.name
    for path in (SRC / "networks").glob("*.py"):
        assert "data" not in imported_parts(path), path.name


def test_atomic_writes_give_files_the_usual_permissions(tmp_path):
    import os

    from infomorphic.files import atomic_write_text

    atomic_write_text(tmp_path / "a.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_within_layer_five_reports_come_first_and_reproduce_last():
    allowed = {
        "reports": {"experiments"},
        "search": {"experiments", "reports"},
        "experiments": set(),
        "reproduce": {"experiments", "reports", "search"},
    }
    for part, may in allowed.items():
        for path in (SRC / part).glob("*.py"):
            layer_five = {p for p in imported_parts(path) if LAYERS[p] == 5} - {part}
            assert layer_five <= may, f"{path.name} imports {sorted(layer_five - may)}"


def test_library_code_never_prints():
    """Only the command line prints; the library reports through hooks, logging, warnings or
    return values."""
    printing = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in MODULES
        if path.relative_to(SRC).parts[0] not in ("cli", "__main__.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]
    assert not printing, printing
