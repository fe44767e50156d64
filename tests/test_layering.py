"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they catch a break.

Layers: ``zoo`` above ``tfgen``; inside tfgen ``testing`` > ``export``/``callbacks`` > ``models``
> ``layers`` > ``distributions``/``metrics``/``classifier``/``data`` > ``checks``/
``mixed_precision``; data, distributions and metrics import no model; no import cycles between
sibling modules. Also: no module imports another module's private (underscore) name.
"""

from __future__ import annotations

import ast
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports")


def _lint(root: pathlib.Path) -> subprocess.CompletedProcess:
    if LINT_IMPORTS is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    return subprocess.run(
        [sys.executable, LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_packages(tmp_path: pathlib.Path) -> pathlib.Path:
    for package in ("tfgen", "zoo"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc", "figures")
        )
    return tmp_path


def test_import_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("tfgen/data.py", "import tfgen.models.vae", "import no model"),
        ("tfgen/layers/conv.py", "from tfgen.models import base", "tfgen layers"),
        ("tfgen/checks.py", "import zoo", "sits above"),
        ("tfgen/models/vae.py", "import tfgen.models.cvae", "no import cycles"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    """The contracts are live: each injected import breaks the contract it should."""
    root = _copy_packages(tmp_path)
    path = root / module
    path.write_text(path.read_text() + f"\n{line}  # injected\n")
    result = _lint(root)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout


def _private_imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in ("tfgen", "zoo"):
                continue
            found += [
                f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    return found


def test_no_module_imports_a_private_name_of_another():
    files = [p for d in ("tfgen", "zoo", "tests") for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 20
    offenders = [row for path in files for row in _private_imports(path)]
    assert not offenders, "\n".join(offenders)
