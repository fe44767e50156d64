"""Run a script in a fresh Python process and read the JSON it prints last.

Tests that need TensorFlow configured before it starts (two logical CPU devices for
``MirroredStrategy``) run their body this way, so the test process keeps its own devices.
(Ports for a local multi-worker cluster: ``tfgen.distribute.free_ports``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_isolated(script: str, timeout: float = 300) -> dict:
    """Runs ``script`` with ``python -c`` (no GPU) and returns the JSON of its last stdout line.

    Raises:
        AssertionError: the process failed (with the end of its stderr).

    Example:
        >>> run_isolated("import json; print(json.dumps({'ok': 1 + 1}))")
        {'ok': 2}
    """
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


__all__ = ["run_isolated"]
