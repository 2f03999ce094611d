"""Exceptions that cancel the work in progress instead of reporting its failure.

Celery's soft time limit raises SoftTimeLimitExceeded, an Exception subclass, wherever the task
happens to be. Every `except Exception` on the route and delivery path lets these through first,
so a batch records what it finished, gives back what it did not start, and stops, instead of
recording the cut as a failed attempt and running on into the hard limit.
"""

from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded, Terminated

CANCELLATIONS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded, Terminated)
