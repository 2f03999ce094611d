from typing import Any

from asgiref.sync import sync_to_async

from coffeeshop.health import health_report_from_any_thread
from routing.sockets import ProjectConsumer

SYSTEM_STATUS_GROUP = "system.status"


class SystemStatusConsumer(ProjectConsumer):
    """Anyone may watch whether the shop's machinery is up; it reveals nothing else."""

    async def connect(self) -> None:
        await self.channel_layer.group_add(SYSTEM_STATUS_GROUP, self.channel_name)
        await self.accept()
        report = await sync_to_async(health_report_from_any_thread, thread_sensitive=False)()
        await self.send_json({"type": "status", "status": report, "source": "snapshot"})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(SYSTEM_STATUS_GROUP, self.channel_name)

    async def status_update(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "status", "status": message["status"], "source": message.get("source", "")}
        )
