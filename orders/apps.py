from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Coffee shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Subscribers register their handlers by name when imported; rules route events to them.
        from orders import live, subscribers  # noqa: F401
        from orders.events import SERVICE_NAME, SOURCE
        from orders.metrics import SHOP_METRICS
        from routing.metric_providers import register_metrics_provider
        from routing.sources import reserve_source

        # The shop's figures on the bus's dashboard and /metrics: routing asks, never reads.
        register_metrics_provider(SHOP_METRICS)

        # Only the shop publishes its own source: no credential may, whatever it was given.
        reserve_source(SOURCE, service=SERVICE_NAME)
