"""Worker processes of tiltak: ``python -m MODULE`` with this Python and the folder that holds
this ``tiltak`` first on its path, spoken to through its standard input and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def start(module: str) -> subprocess.Popen[bytes]:
    """Start ``python -m module`` (pipes on stdin and stdout; stderr is this process's)."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
