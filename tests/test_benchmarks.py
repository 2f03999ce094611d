"""The benchmarks must keep running: a short smoke run of each (figures are not asserted)."""

import subprocess
import sys

import pytest

from coffeeshop.settings.env import BASE_DIR

pytestmark = pytest.mark.integration


def test_bus_benchmark_runs_end_to_end(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bus", "--quick"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(BASE_DIR)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "bus throughput / bare Celery throughput" in result.stdout
    assert "p99 publish → delivery at 100 events/s" in result.stdout
