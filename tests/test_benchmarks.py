"""The benchmarks must keep running: a short smoke run of each (figures are not asserted)."""

import os
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


def test_web_benchmark_runs_end_to_end(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.web", "--quick", "--workers", "1"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(BASE_DIR)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "single-event PutEvents / INSERT+COMMIT ceiling" in result.stdout
    assert "/healthz p99 while a heavy query and a slow webhook run" in result.stdout


def test_route_path_benchmark_runs(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.route_path", "--seconds", "0.5", "--batch", "2"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(BASE_DIR)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "statements per task of 2:" in result.stdout
    assert "route task, 2 event(s) each" in result.stdout


@pytest.mark.skipif(not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"),
                    reason="group commit is measured on PostgreSQL (set BENCH_DATABASE_URL)")
def test_group_commit_benchmark_runs(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.group_commit", "--seconds", "0.5", "--rounds", "1"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(BASE_DIR),
             "BENCH_DATABASE_URL": os.environ["BENCH_DATABASE_URL"]},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "group / alone:" in result.stdout


def test_the_bench_baseline_views_are_not_in_production_urls() -> None:
    from django.urls import Resolver404, resolve

    for path in ("/bench/ceiling", "/bench/ceiling-async", "/bench/heavy"):
        with pytest.raises(Resolver404):
            resolve(path, urlconf="coffeeshop.urls")


def test_explorer_benchmark_fills_every_column_and_runs(tmp_path) -> None:
    # It writes rows with raw SQL, so a column added to a model once broke it unseen.
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.explorer", "--events", "3000", "--runs", "1"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(BASE_DIR),
             "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "inserted 3,000 events" in result.stdout
    assert "metrics: overview figures" in result.stdout
