from django.apps import AppConfig


class CoffeeshopConfig(AppConfig):
    name = "coffeeshop"
    verbose_name = "Coffeeshop"

    def ready(self) -> None:
        from coffeeshop.dbpool import steady_reconnects

        steady_reconnects()
