"""Executes every ``colab/*.ipynb`` in tiny mode and fails on any cell error.

Each notebook runs top to bottom with ``TFGEN_NOTEBOOK_TINY=1`` (few training steps, small
subsets) in the repository root, in a kernel that is this test's own interpreter
(``sys.executable``): the kernelspec is written to a temporary directory and no other kernel
directory is searched, so a ``python3`` kernel registered elsewhere (user dir, another venv)
cannot pick up a different Python or a different tfgen. New notebooks are picked up
automatically.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "colab").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell
KERNEL_NAME = "python3"  # the kernelspec name the notebooks carry

# Appended to each executed notebook: in tiny mode figures must go to the non-interactive Agg
# backend (CI has no display). Notebooks that never import pyplot have nothing to check.
AGG_CHECK = """
import sys
if "matplotlib.pyplot" in sys.modules:
    import matplotlib
    assert matplotlib.get_backend().lower() == "agg", (
        f"tiny mode must use matplotlib's Agg backend; got {matplotlib.get_backend()!r}"
    )
"""


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """Kernel specs with one kernel, ``python3``, that runs ``sys.executable``."""
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)


@pytest.fixture
def tiny_env(monkeypatch, tmp_path):
    """The kernel inherits this environment: tiny mode, no display, no matplotlib backend preset,
    and an empty IPython profile (no user startup scripts)."""
    monkeypatch.setenv("TFGEN_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)


def execute(nb, kernel_specs: KernelSpecManager):
    """Runs ``nb`` in place in the repository root; raises ``CellExecutionError`` on errors."""
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs)
    client = nbclient.NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(REPO)}}
    )
    return client.execute()


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {REPO / 'colab'}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path):
    """Valid nbformat 4, kernelspec python3, no outputs or execution counts committed."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL_NAME
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_imports_of_tfgen_and_zoo_resolve(path):
    """Every ``import``/``from ... import`` of tfgen or zoo names an existing module and name (a
    moved or renamed module fails here in a second, not minutes into the executed notebook)."""
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    checked = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [(node.module, [alias.name for alias in node.names])]
        else:
            continue
        for module, names in modules:
            if module.split(".")[0] not in ("tfgen", "zoo"):
                continue
            imported = importlib.import_module(module)
            for name in names:
                assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}"), (
                    f"{path.name}: {module} has no {name}"
                )
            checked += 1
    assert checked, f"{path.name} imports neither tfgen nor zoo"


@pytest.mark.slow
def test_kernel_is_this_interpreter(kernel_specs, tiny_env):
    """The notebooks' kernel is the interpreter running the tests (same tfgen, same packages)."""
    source = "import os, sys\nprint(sys.executable)\nprint(os.getcwd())"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    execute(nb, kernel_specs)
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs).splitlines()
    assert printed == [sys.executable, str(REPO)]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_tiny_mode(path, kernel_specs, tiny_env):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(AGG_CHECK))
    execute(nb, kernel_specs)  # CellExecutionError names the failing cell and its traceback
