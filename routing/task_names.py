"""The names of routing's Celery tasks, in one table: `routing.tasks` registers each task under
its name, `routing.dispatch` sends to it by name, and the beat schedule (`coffeeshop.celery`)
names the periodic ones.

Queued messages and beat schedules carry these strings: a name, once used, is never changed.
"""

from __future__ import annotations

from typing import Final

ROUTE_TASK: Final = "routing.route_events"
DELIVER_TASK: Final = "routing.deliver"
DELIVER_BATCH_TASK: Final = "routing.deliver_batch"
AUTHORIZE_CONNECTION_TASK: Final = "routing.authorize_connection"
REPLAY_TASK: Final = "routing.replay"
# Periodic, sent by beat.
SWEEP_TASK: Final = "routing.sweep"
FIRE_SCHEDULES_TASK: Final = "routing.fire_schedules"
FIRE_SCHEDULER_SCHEDULES_TASK: Final = "routing.fire_scheduler_schedules"
RESUME_REPLAYS_TASK: Final = "routing.resume_replays"
PURGE_EVENTS_TASK: Final = "routing.purge_events"
