"""Routing decisions and the shipments they created, kept for audit and re-routing.

A :class:`RoutingDecision` is one run of the routing engine for an order (``order_ref``):
the inputs it saw, the plan it chose and why. Re-routing a shipment (its store rejected
it, or picking came up short) makes a new decision whose ``parent`` is the decision of
that shipment and whose ``source_shipment`` is the shipment; ``source_shipment`` is
unique, so a shipment is re-routed at most once. An order's history is the chain of its
decisions, oldest first.

A :class:`RoutedShipment` is one parcel (or pickup) of a decision at one location, with
the inventory reservation that holds its goods.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from o2o.common.errors import InvalidInput
from o2o.core.routing import Choice, Mode


class Trigger(models.TextChoices):
    INITIAL = "initial", "首次路由 initial"
    STORE_REJECTED = "store_rejected", "门店拒单 store rejected"
    PICK_SHORT = "pick_short", "拣货缺货 pick short"
    MANUAL = "manual", "人工 manual"


class ChoiceKind(models.TextChoices):
    """The customer's fulfilment choice; :func:`routing_of` says how the engine routes each."""

    PICKUP = "pickup", "自提 pickup"
    FASTEST = "fastest", "最快 fastest"
    CHEAPEST = "cheapest", "最省 cheapest"
    ANY = "any", "均衡 any"
    SAME_CITY = "same_city", "同城配送 same city"
    EXPRESS = "express", "快递 express"


# Choice kind -> (the engine's choice, the only modes it may use; None: every mode). The checkout
# quote's options ``same_city`` and ``express`` are these same definitions, so an order placed
# with the kind of an option routes exactly as that option was quoted, and a re-route keeps it.
_ROUTING: dict[str, tuple[Choice, frozenset[Mode] | None]] = {
    ChoiceKind.PICKUP: (Choice.PICKUP, None),
    ChoiceKind.FASTEST: (Choice.FASTEST, None),
    ChoiceKind.CHEAPEST: (Choice.CHEAPEST, None),
    ChoiceKind.ANY: (Choice.ANY, None),
    ChoiceKind.SAME_CITY: (Choice.FASTEST, frozenset({Mode.SAME_CITY})),
    ChoiceKind.EXPRESS: (Choice.CHEAPEST, frozenset({Mode.EXPRESS})),
}


def routing_of(kind: str) -> tuple[Choice, frozenset[Mode] | None]:
    """How a choice kind is routed: the engine's ``Choice`` and the modes allowed (None: all).

    422 ``invalid_choice`` for a kind that is not a :class:`ChoiceKind`.
    """
    try:
        return _ROUTING[kind]
    except KeyError:
        raise InvalidInput("配送方式不正确 Unknown fulfilment choice", code="invalid_choice",
                           details={"choice": kind, "allowed": [c.value for c in ChoiceKind]}) from None


class ShipmentMode(models.TextChoices):
    PICKUP = "pickup", "自提 pickup"
    SAME_CITY = "same_city", "同城配送 same city"
    EXPRESS = "express", "快递 express"


class ShipmentStatus(models.TextChoices):
    RESERVED = "reserved", "已预占 reserved"
    REJECTED = "rejected", "门店拒单 rejected"
    SHORT = "short", "拣货缺货 short"
    RELEASED = "released", "已释放 released"
    FULFILLED = "fulfilled", "已出库 fulfilled"


class RoutingDecision(models.Model):
    order_ref = models.CharField(max_length=100, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="the decision this one re-routes")
    source_shipment = models.OneToOneField("RoutedShipment", null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="rerouted_by",
                                           help_text="the shipment whose lines this decision re-routes")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.INITIAL)
    choice = models.CharField(max_length=16, choices=ChoiceKind.choices)
    dest_lat = models.FloatField(help_text="GCJ-02 latitude")
    dest_lng = models.FloatField(help_text="GCJ-02 longitude")
    pickup_location = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    inputs = models.JSONField(default=dict, blank=True)
    plan = models.JSONField(default=dict, blank=True)
    explanation = models.TextField(blank=True)
    objective_fen = models.BigIntegerField(default=0)
    cost_fen = models.BigIntegerField(default=0)
    cash_fen = models.BigIntegerField(default=0)
    policy = models.CharField(max_length=32, blank=True)
    excluded_location_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    actor_label = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "路由决策 routing decision"
        verbose_name_plural = "路由决策 routing decisions"
        constraints = [
            models.CheckConstraint(condition=Q(objective_fen__gte=0, cost_fen__gte=0, cash_fen__gte=0),
                                   name="routing_decision_costs_not_negative"),
            models.CheckConstraint(condition=Q(trigger__in=[t.value for t in Trigger]),
                                   name="routing_decision_trigger_valid"),
            models.CheckConstraint(condition=Q(choice__in=[c.value for c in ChoiceKind]),
                                   name="routing_decision_choice_valid"),
            # The first decision of an order has no parent; every re-route has one.
            models.CheckConstraint(
                condition=(Q(trigger=Trigger.INITIAL, parent__isnull=True)
                           | (~Q(trigger=Trigger.INITIAL) & Q(parent__isnull=False))),
                name="routing_decision_parent_iff_reroute"),
            # A store rejection or a short pick re-routes one named shipment.
            models.CheckConstraint(
                condition=~Q(trigger__in=[Trigger.STORE_REJECTED, Trigger.PICK_SHORT]) | Q(source_shipment__isnull=False),
                name="routing_decision_reroute_names_shipment"),
            models.UniqueConstraint(fields=["order_ref"], condition=Q(trigger=Trigger.INITIAL),
                                    name="routing_decision_one_initial_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} #{self.pk} ({self.trigger})"


class RoutedShipment(models.Model):
    decision = models.ForeignKey(RoutingDecision, on_delete=models.PROTECT, related_name="shipments")
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="routed_shipments")
    mode = models.CharField(max_length=16, choices=ShipmentMode.choices)
    courier = models.CharField(max_length=32, blank=True)
    reservation = models.OneToOneField("inventory.Reservation", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="routed_shipment")
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.RESERVED)
    lines = models.JSONField(default=list, help_text='[{"sku_id", "qty", "weight_g"}]')
    cost_fen = models.BigIntegerField(default=0)
    eta_earliest = models.DateTimeField()
    eta_latest = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "路由发货 routed shipment"
        verbose_name_plural = "路由发货 routed shipments"
        constraints = [
            models.CheckConstraint(condition=Q(cost_fen__gte=0), name="routed_shipment_cost_not_negative"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in ShipmentStatus]),
                                   name="routed_shipment_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=[m.value for m in ShipmentMode]),
                                   name="routed_shipment_mode_valid"),
            models.CheckConstraint(condition=Q(eta_latest__gte=F("eta_earliest")),
                                   name="routed_shipment_eta_ordered"),
        ]
        indexes = [
            models.Index(fields=["location", "created_at"], name="routed_shipment_loc_time"),
            models.Index(fields=["location", "status"], name="routed_shipment_loc_status"),
        ]

    def __str__(self) -> str:
        return f"shipment #{self.pk} at {self.location_id} ({self.status})"
