"""What a promotion or a coupon template gives, as database columns (an abstract model both share),
and its conversion to the core's offer (``o2o.core.promotions``).

One ``kind`` and the columns it reads; a CHECK per kind keeps impossible combinations out of the
database (a percent coupon without a percent, a gift without a SKU):

=================  =====================================================================
kind               columns
=================  =====================================================================
amount_off         ``amount_fen`` off once ``threshold_fen`` is reached (满减); ``repeat``: 每满减
percent_off        ``percent`` % off, at most ``cap_fen`` (optional), from ``threshold_fen``
fixed_price        covered units at ``amount_fen`` each, at most ``max_units`` (optional)
buy_x_get_y        ``buy_qty`` + ``get_qty``: the cheapest ``get_qty`` of each group free
free_gift          ``gift_sku`` x ``gift_qty`` from ``threshold_fen``
service_voucher    ``service`` worth ``amount_fen`` (e.g. 免费甲醛检测), redeemed in store or online
free_delivery      the delivery fee waived from ``threshold_fen``
=================  =====================================================================

Scope (an empty set is no restriction): channels and tiers as JSON lists, stores, categories and SKUs
as many-to-many, plus SKUs excluded.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from o2o.catalog.models import Channel
from o2o.core import promotions as core
from o2o.core.loyalty import Tier


class OfferKind(models.TextChoices):
    AMOUNT_OFF = "amount_off", "满减 amount off"
    PERCENT_OFF = "percent_off", "折扣 percent off"
    FIXED_PRICE = "fixed_price", "一口价 fixed price"
    BUY_X_GET_Y = "buy_x_get_y", "买赠 buy X get Y"
    FREE_GIFT = "free_gift", "赠品 free gift"
    SERVICE_VOUCHER = "service_voucher", "服务券 service voucher"
    FREE_DELIVERY = "free_delivery", "免配送费 free delivery"


def offer_checks(prefix: str) -> list[models.CheckConstraint]:
    """The CHECKs of the offer columns, named after the concrete model."""
    k = OfferKind
    return [
        models.CheckConstraint(condition=Q(kind__in=k.values), name=f"{prefix}_kind_valid"),
        models.CheckConstraint(condition=Q(amount_fen__gte=0, threshold_fen__gte=0), name=f"{prefix}_amounts"),
        models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name=f"{prefix}_percent_range"),
        models.CheckConstraint(condition=~Q(kind=k.AMOUNT_OFF) | Q(amount_fen__gt=0), name=f"{prefix}_amount_off"),
        models.CheckConstraint(condition=~Q(kind=k.AMOUNT_OFF, repeat=True) | Q(threshold_fen__gt=0),
                               name=f"{prefix}_repeat_threshold"),
        models.CheckConstraint(condition=~Q(kind=k.PERCENT_OFF) | Q(percent__gt=0), name=f"{prefix}_percent_off"),
        models.CheckConstraint(condition=~Q(kind=k.FIXED_PRICE) | Q(amount_fen__gt=0), name=f"{prefix}_fixed_price"),
        models.CheckConstraint(condition=~Q(kind=k.BUY_X_GET_Y) | Q(buy_qty__gte=1, get_qty__gte=1),
                               name=f"{prefix}_buy_get"),
        models.CheckConstraint(condition=~Q(kind=k.FREE_GIFT) | Q(gift_sku__isnull=False, gift_qty__gte=1),
                               name=f"{prefix}_gift"),
        models.CheckConstraint(condition=~Q(kind=k.SERVICE_VOUCHER) | (Q(amount_fen__gt=0) & ~Q(service="")),
                               name=f"{prefix}_service"),
        models.CheckConstraint(condition=Q(cap_fen__isnull=True) | Q(cap_fen__gt=0), name=f"{prefix}_cap"),
        models.CheckConstraint(condition=Q(max_units__isnull=True) | Q(max_units__gte=1), name=f"{prefix}_max_units"),
    ]


CHANNELS = frozenset(Channel.values)
TIERS = frozenset(t.value for t in Tier)


def scope_list_problem(value: object, allowed: frozenset[str]) -> str | None:
    """Why a channels/tiers JSON value is not a list of known codes (None when it is)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "应为文本列表 Must be a list of codes, e.g. [\"h5\", \"pos\"]"
    unknown = sorted(set(value) - allowed)
    return f"未知取值 Unknown values: {unknown}; allowed: {sorted(allowed)}" if unknown else None


class OfferFields(models.Model):
    kind = models.CharField(max_length=16, choices=OfferKind.choices)
    amount_fen = models.PositiveIntegerField(default=0, help_text="off (满减), the fixed price, a voucher's value")
    threshold_fen = models.PositiveIntegerField(default=0, help_text="满: the covered goods must reach this")
    repeat = models.BooleanField(default=False, help_text="每满减: off again for every threshold reached")
    percent = models.PositiveSmallIntegerField(default=0, help_text="% off (10 = 9折)")
    cap_fen = models.PositiveIntegerField(null=True, blank=True, help_text="percent off: at most this")
    max_units = models.PositiveIntegerField(null=True, blank=True, help_text="fixed price: for at most N units")
    buy_qty = models.PositiveSmallIntegerField(default=0)
    get_qty = models.PositiveSmallIntegerField(default=0)
    gift_sku = models.ForeignKey("catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    gift_qty = models.PositiveSmallIntegerField(default=0)
    service = models.CharField(max_length=100, blank=True, help_text="the service a voucher gives, e.g. 甲醛检测")

    channels = models.JSONField(default=list, blank=True, help_text='e.g. ["mini_program", "pos"]; empty: all')
    tiers = models.JSONField(default=list, blank=True, help_text='e.g. ["gold", "diamond"]; empty: all')
    stores = models.ManyToManyField("stores.Location", blank=True, related_name="+")
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+")
    skus = models.ManyToManyField("catalog.Sku", blank=True, related_name="+")
    exclude_skus = models.ManyToManyField("catalog.Sku", blank=True, related_name="+")

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors = {}
        for name, allowed in (("channels", CHANNELS), ("tiers", TIERS)):
            problem = scope_list_problem(getattr(self, name), allowed)
            if problem:
                errors[name] = problem
        if errors:
            raise ValidationError(errors)

    def core_offer(self) -> core.Offer:
        k = OfferKind
        match self.kind:
            case k.AMOUNT_OFF:
                return core.AmountOff(off_fen=self.amount_fen, threshold_fen=self.threshold_fen, repeat=self.repeat)
            case k.PERCENT_OFF:
                return core.PercentOff(percent=self.percent, cap_fen=self.cap_fen, threshold_fen=self.threshold_fen)
            case k.FIXED_PRICE:
                return core.FixedPrice(price_fen=self.amount_fen, max_units=self.max_units)
            case k.BUY_X_GET_Y:
                return core.BuyXGetY(buy=self.buy_qty, get=self.get_qty)
            case k.FREE_GIFT:
                return core.FreeGift(sku_id=self.gift_sku_id, qty=self.gift_qty, threshold_fen=self.threshold_fen)
            case k.SERVICE_VOUCHER:
                return core.ServiceVoucher(service=self.service, value_fen=self.amount_fen)
            case k.FREE_DELIVERY:
                return core.FreeDelivery(threshold_fen=self.threshold_fen)
        raise ValueError(f"未知优惠类型 Unknown offer kind: {self.kind!r}")

    def core_scope(self, m2m: dict[str, frozenset[int]] | None = None) -> core.Scope:
        """The scope; ``m2m`` (stores/categories/skus/exclude_skus ids) when already loaded in bulk."""
        if m2m is None:
            m2m = {name: frozenset(getattr(self, name).values_list("pk", flat=True))
                   for name in ("stores", "categories", "skus", "exclude_skus")}
        for name, allowed in (("channels", CHANNELS), ("tiers", TIERS)):
            problem = scope_list_problem(getattr(self, name), allowed)
            if problem:
                raise ValueError(f"{self._meta.model_name} #{self.pk} {name}: {problem}")
        return core.Scope(channels=frozenset(self.channels or ()), store_ids=m2m["stores"],
                          category_ids=m2m["categories"], sku_ids=m2m["skus"], tiers=frozenset(self.tiers or ()),
                          exclude_sku_ids=m2m["exclude_skus"])

    def describe(self) -> str:
        """A short bilingual wording of the offer for lists and the counter."""
        k, y = OfferKind, lambda fen: f"¥{fen // 100}" + (f".{fen % 100:02d}" if fen % 100 else "")
        match self.kind:
            case k.AMOUNT_OFF:
                if self.threshold_fen == 0:
                    return f"立减{y(self.amount_fen)} {y(self.amount_fen)} off"
                word = "每满" if self.repeat else "满"
                return (f"{word}{y(self.threshold_fen)}减{y(self.amount_fen)} "
                        f"{y(self.amount_fen)} off {'every' if self.repeat else 'over'} {y(self.threshold_fen)}")
            case k.PERCENT_OFF:
                rest = 100 - self.percent
                zhe = f"{rest // 10}折" if rest % 10 == 0 else f"{rest}折"
                cap = f" 最高减{y(self.cap_fen)}" if self.cap_fen else ""
                return f"{zhe}{cap} {self.percent}% off"
            case k.FIXED_PRICE:
                return f"一口价{y(self.amount_fen)} fixed price {y(self.amount_fen)}"
            case k.BUY_X_GET_Y:
                return f"买{self.buy_qty}赠{self.get_qty} buy {self.buy_qty} get {self.get_qty} free"
            case k.FREE_GIFT:
                return f"赠品 free gift x{self.gift_qty}"
            case k.SERVICE_VOUCHER:
                return f"{self.service} 服务券 service voucher ({y(self.amount_fen)})"
            case k.FREE_DELIVERY:
                return "免配送费 free delivery"
        return self.kind
