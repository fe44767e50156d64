"""The README stays true: its two commands (setup: train a preset; tests: what CI runs), the
presets table, and the quickstart, which runs."""

import os
import re
import subprocess
import sys

import pytest

import zoo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def test_ci_runs_the_readme_test_command():
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    install = re.search(r"^(python3 -m pip install) -q (-e \"\.\[test,viz\]\")$", ci, re.M)
    assert install and "python3 -m pytest -q" in ci
    readme_command = 'python3 -m pip install -e ".[test,viz]" && python3 -m pytest -q'
    assert readme_command in README


def test_setup_command_trains_an_existing_preset_with_the_cli():
    """The first command: install, then ``tfgen train <preset>`` (a preset the zoo has)."""
    command = re.search(r"^apt-get .* && (tfgen train (\S+) .*)$", README, re.M)
    assert command, "the README's setup command must end with `tfgen train <preset> ...`"
    assert command.group(2) in zoo.list_presets(), command.group(1)


def test_presets_table_lists_every_preset():
    for name in zoo.list_presets():
        assert f"| `{name}` |" in README, name


@pytest.mark.slow
def test_quickstart_runs(tmp_path):
    code = re.search(r"## Quickstart\n\n```python\n(.*?)```", README, re.S).group(1)
    assert len(code.strip().splitlines()) <= 14
    code = code.replace("epochs=2", "epochs=1, steps_per_epoch=10, verbose=0")
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "elbo" in out.stdout
    assert os.path.isfile(tmp_path / "exported" / "vae" / "saved_model.pb")
