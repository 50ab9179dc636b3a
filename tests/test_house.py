"""The house rules that CI also checks: module and function sizes, and the layers.

Sizes are read with :mod:`ast` from the source of ``psonlinechat/`` (hooks/, views/ and
mails/ are not part of that folder). A function's length runs from its ``def`` line to the
last line of its body, docstring included, decorators excluded.
"""

from __future__ import annotations

import ast
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "psonlinechat"
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 40


def modules(package: pathlib.Path = PACKAGE) -> list[pathlib.Path]:
    return sorted(path for path in package.rglob("*.py") if "__pycache__" not in path.parts)


def _shown(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def long_modules(paths: list[pathlib.Path], limit: int = MAX_MODULE_LINES) -> list[str]:
    """``path: N lines`` for each module over ``limit`` lines."""
    found = []
    for path in paths:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append(f"{_shown(path)}: {lines} lines")
    return found


def long_functions(paths: list[pathlib.Path], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name: N lines`` for each function or method over ``limit`` lines."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{_shown(path)}:{node.lineno} {node.name}: {lines} lines")
    return found


SAMPLE = '''
@decorator
@another
def fits():
    """Forty lines with this docstring; the decorators do not count."""
{body}


async def too_long():
    """Forty-one lines."""
{body}
    return x0


class Holder:
    def method(self):
{method_body}
        y = 1
        return y
'''


def test_the_size_checks_count_as_the_rules_say(tmp_path):
    sample = tmp_path / "sample.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(38))
    method_body = "\n".join(f"        x{i} = {i}" for i in range(38))
    sample.write_text(SAMPLE.format(body=body, method_body=method_body), encoding="utf-8")
    lines = len(sample.read_text(encoding="utf-8").splitlines())
    found = long_functions([sample])
    assert [entry.split(" ", 1)[1] for entry in found] == ["too_long: 41 lines",
                                                          "method: 41 lines"]
    assert long_modules([sample], limit=lines - 1) == [f"{sample}: {lines} lines"]
    assert long_modules([sample], limit=lines) == []


def test_no_module_over_350_lines():
    offenders = long_modules(modules())
    assert not offenders, "modules over 350 lines:\n" + "\n".join(offenders)


def test_no_function_over_40_lines():
    offenders = long_functions(modules())
    assert not offenders, "functions over 40 lines:\n" + "\n".join(offenders)


def lint_imports(root: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` with the contracts of ``root``/setup.cfg on the code in ``root``."""
    command = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent))
    assert command, "lint-imports is missing: install the test extra"
    return subprocess.run([command, "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_imports_follow_the_layers():
    """import-linter's contracts in setup.cfg: the layers, and no web framework below web."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contracts_catch_an_upward_import_and_flask_in_the_core(tmp_path):
    """A copy of the package where the store imports flask and a hook imports the demo."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE, tmp_path / "psonlinechat", ignore=skip)
    shutil.copytree(ROOT / "hooks", tmp_path / "hooks", ignore=skip)
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    with (tmp_path / "psonlinechat" / "store" / "seed.py").open("a", encoding="utf-8") as f:
        f.write("\nimport flask  # noqa\n")
    with (tmp_path / "hooks" / "__init__.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom psonlinechat import demo  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "psonlinechat.store is not allowed to import flask" in result.stdout
    assert "hooks is not allowed to import psonlinechat.demo" in result.stdout
