"""App layers: no import hides inside a function (lint-imports checks the module-level ones, see pyproject.toml)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "payouts", "sessions_app", "signaling", "interkanect"]


def imports_inside_functions(source: str) -> list[str]:
    """`line: import …` for each import statement in the body of a function or method."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(f"{inner.lineno}: {ast.unparse(inner)}")
    return found


def test_the_scan_finds_an_import_inside_a_function_or_method():
    source = "import os\n\ndef f():\n    from x import y\n\nclass C:\n    async def g(self):\n        import z\n"
    assert imports_inside_functions(source) == ["4: from x import y", "8: import z"]


def test_no_app_module_imports_inside_a_function():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{hit}" for hit in imports_inside_functions(path.read_text())]
    assert not offenders, "Imports inside functions (move them to the top; a cycle means a layer is wrong):\n" + (
        "\n".join(offenders)
    )
