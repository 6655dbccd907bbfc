"""The README's quick start (examples/quickstart/main.swift) runs in an empty directory."""
import subprocess

from conftest import BIN


def test_quickstart_runs(tmp_path):
    result = subprocess.run([str(BIN / "quickstart")], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("version 2 at global position ")
    assert lines[1] == "ACCOUNT_INSUFFICIENT_FUNDS 10001 400 Cannot withdraw 900, balance is 500"
    assert lines[2] == '["opened", "deposited"]'
    assert (tmp_path / "quickstart.sqlite").exists()
