"""The Celery application: configured from Django settings (CELERY_*), tasks found per app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffeeshop.settings.local")

app = Celery("coffeeshop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "routing-sweep": {
        "task": "routing.sweep",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
    "publish-system-status": {
        "task": "coffeeshop.publish_system_status",
        "schedule": 10.0,
        "options": {"expires": 10.0},
    },
}
