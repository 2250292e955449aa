from django.apps import AppConfig


class GroupbuyConfig(AppConfig):
    name = "o2o.groupbuy"
    label = "groupbuy"
    verbose_name = "拼团与社区团购 Group buying"

    def ready(self) -> None:
        from o2o.groupbuy import privacy  # noqa: F401 - the member export and deletion receivers
        from o2o.groupbuy.community import fee_replace
        from o2o.groupbuy.runs import on_dispatch, on_tracking
        from o2o.orders.couriers import hooks_register
        from o2o.orders.signals import order_priced

        order_priced.connect(fee_replace, sender=None, dispatch_uid="groupbuy.community_fee")
        hooks_register(dispatch=on_dispatch, tracking=on_tracking)  # one courier per community run
