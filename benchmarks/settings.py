"""The bench's web tier: the shop's settings with the baseline views of benchmarks/urls.py."""

from coffeeshop.settings.local import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
