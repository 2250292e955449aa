"""The store staff console (/console/, namespace "console"): work queue, pick and pack, counter, stock, figures."""

from django.urls import path

from o2o.web.console import (
    auth,
    counter,
    coupons,
    members,
    queue,
    returns,
    shipments,
    stock,
    stores,
    today,
    transfers,
)

urlpatterns = [
    path("login", auth.login, name="login"),
    path("logout", auth.logout, name="logout"),
    path("", stores.home, name="home"),
    path("stores", stores.stores, name="stores"),
    path("counter", stores.counter, name="counter_here"),
    path("stock", stores.stock, name="stock_here"),
    path("figures", stores.figures, name="figures_here"),
    path("s/<int:location_id>/queue", queue.queue, name="queue"),
    path("s/<int:location_id>/queue/live", queue.queue_live, name="queue_live"),
    path("alerts/<int:alert_id>/resolve", queue.alert_resolve, name="alert_resolve"),
    path("shipments/<int:shipment_id>", shipments.shipment, name="shipment"),
    path("shipments/<int:shipment_id>/start", shipments.start, name="shipment_start"),
    path("shipments/<int:shipment_id>/ready", shipments.ready, name="shipment_ready"),
    path("shipments/<int:shipment_id>/short", shipments.short, name="shipment_short"),
    path("s/<int:location_id>/counter", counter.counter, name="counter"),
    path("s/<int:location_id>/counter/verify", counter.verify, name="verify"),
    path("s/<int:location_id>/counter/member", members.member_lookup, name="member_lookup"),
    path("s/<int:location_id>/counter/return", returns.return_accept, name="return_accept"),
    path("s/<int:location_id>/counter/coupon", coupons.coupon_lookup, name="coupon_lookup"),
    path("s/<int:location_id>/counter/coupon/redeem", coupons.coupon_redeem, name="coupon_redeem"),
    path("s/<int:location_id>/stock", stock.stock, name="stock"),
    path("s/<int:location_id>/stock/adjust", stock.adjust, name="stock_adjust"),
    path("s/<int:location_id>/stock/count", stock.count, name="stock_count"),
    path("s/<int:location_id>/transfers", transfers.ship, name="transfer_ship"),
    path("s/<int:location_id>/transfers/<int:transfer_id>/receive", transfers.receive, name="transfer_receive"),
    path("s/<int:location_id>/figures", today.figures, name="figures"),
]
