"""The Celery application: configured from Django settings (CELERY_*), tasks found per app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffeeshop.settings.local")

app = Celery("coffeeshop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How often beat looks for scheduled rules' due ticks (AWS promises a minute's precision). Read
# from the environment, not Django's settings, which must not be loaded at import.
SCHEDULE_POLL_SECONDS = float(os.environ.get("ROUTING_SCHEDULE_POLL_SECONDS", "5"))
# How often beat applies the shops' opening hours (open, closing soon, close, local midnight).
HOURS_POLL_SECONDS = float(os.environ.get("ORDERS_HOURS_POLL_SECONDS", "5"))

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
    # Replays whose worker died or whose message was lost are enqueued again.
    "routing-resume-replays": {
        "task": "routing.resume_replays",
        "schedule": 10.0,
        "options": {"expires": 10.0},
    },
    # The retention purge (ROUTING_EVENT_RETENTION_DAYS; archives keep what they retain).
    "routing-purge-events": {
        "task": "routing.purge_events",
        "schedule": 3600.0,
        "options": {"expires": 600.0},
    },
    # Scheduled rules' due ticks are fired (each claimed once, whichever beat sent the task).
    "routing-fire-schedules": {
        "task": "routing.fire_schedules",
        "schedule": SCHEDULE_POLL_SECONDS,
        "options": {"expires": SCHEDULE_POLL_SECONDS},
    },
    # Shops that follow their opening hours open, are told of the close and close by them.
    "orders-follow-hours": {
        "task": "orders.follow_hours",
        "schedule": HOURS_POLL_SECONDS,
        "options": {"expires": HOURS_POLL_SECONDS},
    },
    # Orders whose wait deadline passed are timed out (deadlines live in the database).
    "orders-time-out-overdue": {
        "task": "orders.time_out_overdue",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
}
