"""The package's own source, as every supported Python compiles it."""

from __future__ import annotations

import ast
from pathlib import Path

import handbook_lint

PACKAGE = Path(handbook_lint.__file__).parent


def test_no_docstring_holds_a_lone_surrogate() -> None:
    """Python 3.13 strips a docstring's indent as UTF-8 when it compiles the
    module, and a lone surrogate in one (`"\\udcff"` written unescaped) made
    `import handbook_lint.cli` fail there with a UnicodeEncodeError."""
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node, clean=False)
                try:
                    (doc or "").encode("utf-8")
                except UnicodeEncodeError:
                    bad.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', 1)}")
    assert bad == []
