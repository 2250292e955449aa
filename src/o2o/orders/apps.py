from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "o2o.orders"
    label = "orders"
    verbose_name = "订单中心 Order center"

    def ready(self) -> None:
        # An order follows the re-routes of its shipments, inside the re-route's transaction.
        from o2o.fulfilment.signals import shipment_rerouted
        from o2o.orders.reroutes import on_shipment_rerouted

        shipment_rerouted.connect(on_shipment_rerouted, dispatch_uid="orders.follow_reroute")
        # Order shipments are re-routed by the order center (it locks the order first).
        from o2o.fulfilment import ownership
        from o2o.orders.shorts import OWNER

        ownership.register(OWNER)
        from o2o.inventory import ownership as holds
        from o2o.orders.shorts import owns_reservation

        holds.register("orders", owns_reservation)
        # Refunds go through the payment gateways.
        from o2o.orders.payments import install

        install()
