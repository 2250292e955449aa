from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "o2o.fulfilment"
    label = "fulfilment"
    verbose_name = "履约路由 Fulfilment routing"

    def ready(self) -> None:
        # Re-route shipments whose reservation a POS sale or count shorted (after its commit).
        from o2o.fulfilment.reroute import on_reservation_shorted
        from o2o.inventory.signals import reservation_shorted

        reservation_shorted.connect(on_reservation_shorted, dispatch_uid="fulfilment.reroute_shorted")
