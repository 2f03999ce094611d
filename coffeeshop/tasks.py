import socket

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer

from coffeeshop.consumers import SYSTEM_STATUS_GROUP
from coffeeshop.health import health_report


@shared_task(name="coffeeshop.publish_system_status")
def publish_system_status() -> dict[str, object]:
    """Pushes the system's health to every open status socket; the worker itself is alive."""
    report = health_report(include_workers=False)
    report["worker"] = "ok"
    layer = get_channel_layer()
    assert layer is not None, "CHANNEL_LAYERS is not configured"
    async_to_sync(layer.group_send)(
        SYSTEM_STATUS_GROUP,
        {"type": "status.update", "status": report, "source": f"worker@{socket.gethostname()}"},
    )
    return report
