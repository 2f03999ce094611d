"""The short soak (benchmarks/soak.py --short): its own PostgreSQL and Redis, the Procfile's
processes under production settings, a stream of events while a worker is SIGKILLed and Redis
flushed. Nothing accepted is lost or left stuck, and each fault heals by itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coffeeshop.settings.env import BASE_DIR

pytestmark = pytest.mark.integration


def _postgres_available() -> bool:
    found = shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return bool(found) and (os.geteuid() != 0 or shutil.which("runuser") is not None)


@pytest.mark.skipif(not _postgres_available(), reason="needs PostgreSQL's initdb")
@pytest.mark.timeout(300)
def test_the_short_soak_loses_nothing_and_heals_by_itself() -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    result = subprocess.run([sys.executable, "-m", "benchmarks.soak", "--short"], cwd=BASE_DIR,
                            env=env, capture_output=True, text=True, timeout=280)
    lines = [line for line in result.stdout.splitlines() if line.startswith("soak: ")]
    assert lines, f"no figures printed:\n{result.stdout}\n{result.stderr[-6000:]}"
    figures = lines[-1]
    published = int(re.search(r"published (\d+)", figures).group(1))  # type: ignore[union-attr]
    assert published > 50, figures
    assert f"stored {published}," in figures, figures
    assert f"delivered distinct {2 * published}/{2 * published}," in figures, figures
    assert "lost 0," in figures, figures
    assert "stuck 0," in figures, figures
    assert "NOT recovered" not in figures, f"{figures}\n{result.stderr[-4000:]}"
    assert "worker 1x" in figures, "the killed worker was not restarted"
    assert result.returncode == 0, figures
