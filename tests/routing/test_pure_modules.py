"""The modules the map calls pure import nothing of Django, so that the API layer, the workers and
the tests can use them before (or without) Django's setup."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE_MODULES = [
    "routing.transform.definitions",
    "routing.transform.jsonpath",
    "routing.transform.templates",
    "routing.transform.validation",
    "routing.transform.target_input",
    "routing.transform.rendering",
    "routing.transform.group_names",
    "routing.netpolicy",
    "routing.timestamps",
    "routing.task_names",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_module_imports_nothing_of_django(module: str) -> None:
    probe = (f"import sys, {module}; "
             "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"
