"""The live-push benchmark must keep running: a short smoke run (figures are not asserted)."""

import subprocess
import sys

import pytest

from coffeeshop.settings.env import BASE_DIR

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.mark.timeout(400)
def test_push_benchmark_runs_in_chromium_and_prints_its_figures(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.push", "--quick", "--web-workers", "1"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=360,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(BASE_DIR)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for figure in ("barista tap → customer page changed",
                   "barista tap → barista's own ticket moved",
                   "customer submit → barista ticket",
                   "Channels group_send → socket message",
                   "Celery send → task start"):
        line = next((line for line in result.stdout.splitlines() if figure in line), None)
        assert line is not None, f"{figure!r} missing from:\n{result.stdout}"
        n, p50, p95 = line.split()[-3:]
        assert int(n) > 0, line
        assert 0 < float(p50) <= float(p95), line
