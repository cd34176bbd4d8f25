"""How the code is laid out, where a test can say it: the caching package depends on no
feature package (the app factory hands it what it needs as hooks)."""

from __future__ import annotations

import ast
from pathlib import Path

import fynix

FEATURES = ("admin", "ai", "auth", "market", "notifications", "portfolio", "users")
CACHING = Path(fynix.__file__).parent / "caching"


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_the_caching_package_imports_no_feature_package():
    found = {
        f"{path.name}: {module}"
        for path in sorted(CACHING.glob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[:2] in ([["fynix", name] for name in FEATURES])
    }
    assert not found, sorted(found)
