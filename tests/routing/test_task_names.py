"""One table of task names (routing.task_names): the tasks are registered under it, dispatch and
beat send to it, and the strings themselves never change (queued messages carry them)."""

from __future__ import annotations

from routing import task_names

# Messages already queued, and beat schedules written before a deploy, name tasks by these.
PUBLISHED_NAMES = {
    "ROUTE_TASK": "routing.route_events",
    "DELIVER_TASK": "routing.deliver",
    "DELIVER_BATCH_TASK": "routing.deliver_batch",
    "AUTHORIZE_CONNECTION_TASK": "routing.authorize_connection",
    "REPLAY_TASK": "routing.replay",
    "SWEEP_TASK": "routing.sweep",
    "FIRE_SCHEDULES_TASK": "routing.fire_schedules",
    "FIRE_SCHEDULER_SCHEDULES_TASK": "routing.fire_scheduler_schedules",
    "RESUME_REPLAYS_TASK": "routing.resume_replays",
    "PURGE_EVENTS_TASK": "routing.purge_events",
}


def _table() -> dict[str, str]:
    return {name: value for name, value in vars(task_names).items() if name.endswith("_TASK")}


def test_the_names_are_the_ones_already_published() -> None:
    assert _table() == PUBLISHED_NAMES


def test_every_name_in_the_table_is_a_registered_task() -> None:
    import routing.tasks  # noqa: F401 (registers them)
    from coffeeshop.celery import app

    routing_tasks = {name for name in app.tasks if name.startswith("routing.")}
    assert routing_tasks == set(_table().values())


def test_beat_sends_only_to_registered_tasks() -> None:
    import routing.tasks  # noqa: F401 (registers them)
    from coffeeshop.celery import app

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    routing_scheduled = {name for name in scheduled if name.startswith("routing.")}
    assert routing_scheduled == {
        task_names.SWEEP_TASK, task_names.FIRE_SCHEDULES_TASK,
        task_names.FIRE_SCHEDULER_SCHEDULES_TASK, task_names.RESUME_REPLAYS_TASK,
        task_names.PURGE_EVENTS_TASK,
    }
    assert routing_scheduled <= set(app.tasks)
