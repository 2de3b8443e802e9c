"""The committed type stubs match the compiled module (mypy's stubtest)."""

import subprocess
import sys


def test_stubs_match_the_module():
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "stenograph._stenograph"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
