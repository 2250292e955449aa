"""The tag catalogue: every tag's name, Chinese label, type, version, who may see it and its explanation.

An explanation is a template filled with the member's own numbers and the population's
(cut points, fitted parameters, as-of), so it says which data produced the value. ``needs``
names a per-member condition column; when it does not hold the value is None and the
explanation says why (``NEEDS``). Bump a tag's ``version`` whenever its rule changes.

``visible`` = shown to the member themself (``GET /members/me/tags``); internal scores
(RFM, churn risk, CLV, price sensitivity, value segment) are for staff and marketing only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NEEDS", "SPECS", "TAG_NAMES", "TagSpec"]


@dataclass(frozen=True, slots=True)
class TagSpec:
    name: str
    label: str
    kind: str  # int, float, str, bool, date, list, dict
    template: str
    group: str
    visible: bool = True
    needs: str = "has"
    version: int = 1
    column: str = ""  # the measure column when it differs from the name
    digits: int = 4

    @property
    def source(self) -> str:
        return self.column or self.name


NEEDS = {
    "has": "no purchase on or before {as_of}",
    "has_gap": "needs two orders or more to know the member's own interval; {orders_count} so far",
    "registered_known": "registration time unknown",
    "registered_and_has": "needs the registration time and a purchase",
    "events_given": "no behaviour events were given to the engine",
    "behaviour_given": "no behaviour data (sign-ins, reviews, channels, identities) was given to the engine",
    "has_reviews": "no review written on or before {as_of}",
    "has_seen": "never seen on a channel (no channel sighting recorded)",
    "has_events": "no behaviour event on or before {as_of}",
    "engagement_given": "needs both behaviour events (sign-ins) and behaviour data (reviews, channel sightings)",
    "all": "",
}

_P = "purchases"
_E = "engagement"
_S = [
    # --- frequency and spend --------------------------------------------------------------
    TagSpec("orders_count", "订单数", "int", "{orders_count} orders paid on or before {as_of}", _P),
    TagSpec("orders_30d", "近30天订单数", "int", "{orders_30d} orders in the 30 days before {as_of}", _P),
    TagSpec("orders_90d", "近90天订单数", "int", "{orders_90d} orders in the 90 days before {as_of}", _P),
    TagSpec("orders_12m", "近12个月订单数", "int", "{orders_12m} orders in the 12 calendar months before {as_of}", _P),
    TagSpec("spend_total_fen", "累计消费(分)", "int",
            "paid minus refunded over {orders_count} orders: {spend_total_fen} fen", _P),
    TagSpec("spend_30d_fen", "近30天消费(分)", "int", "net spend of the {orders_30d} orders of the last 30 days", _P),
    TagSpec("spend_90d_fen", "近90天消费(分)", "int", "net spend of the {orders_90d} orders of the last 90 days", _P),
    TagSpec("spend_12m_fen", "近12个月消费(分)", "int",
            "net spend of the {orders_12m} orders of the 12 calendar months before {as_of} (the tier basis)", _P),
    TagSpec("refunded_total_fen", "累计退款(分)", "int", "sum of refunded fen over all order lines", _P),
    TagSpec("refund_share", "退款占比", "float", "refunded {refunded_total_fen} / paid fen", _P, visible=False),
    TagSpec("avg_basket_fen", "客单价(分)", "int", "spend {spend_total_fen} / {orders_count} orders", _P),
    TagSpec("median_basket_fen", "订单金额中位数(分)", "int", "median net value of the {orders_count} orders", _P),
    TagSpec("max_basket_fen", "最大订单金额(分)", "int", "largest net order value of {orders_count}", _P),
    TagSpec("avg_units_per_order", "每单件数", "float", "units bought / {orders_count} orders", _P, digits=2),
    TagSpec("avg_lines_per_order", "每单品项数", "float", "order lines / {orders_count} orders", _P, digits=2),
    TagSpec("avg_unit_price_fen", "件均价(分)", "int", "spend {spend_total_fen} / units bought", _P),
    TagSpec("orders_per_month", "月均购买次数", "float",
            "{orders_count} orders / max(1, {tenure_days} days of tenure / 30.44)", _P, digits=3),
    TagSpec("spend_per_month_fen", "月均消费(分)", "int", "spend {spend_total_fen} / months of tenure (min 1)", _P),
    TagSpec("one_time_buyer", "仅购买一次", "bool", "orders_count = {orders_count}", _P, visible=False),
    TagSpec("spend_trend", "消费趋势", "str",
            "last 90 days {spend_90d_fen} fen vs the 90 before {spend_prev_90d_fen} fen: change "
            "{spend_trend_change:+.0%} (growing above +20 %, declining below -20 %)", _P, visible=False),
    TagSpec("spend_trend_change", "消费变化率", "float",
            "(last 90 days {spend_90d_fen} - previous 90 days {spend_prev_90d_fen}) / previous", _P, visible=False),
    # --- recency and timing ----------------------------------------------------------------
    TagSpec("first_purchase_date", "首次购买日期", "date", "earliest order time, local date", "timing",
            column="first_purchase_at"),
    TagSpec("last_purchase_date", "最近购买日期", "date", "latest order time on or before {as_of}, local date",
            "timing", column="last_purchase_at"),
    TagSpec("days_since_last_purchase", "距上次购买天数", "float",
            "{as_of} minus the last order at {last_purchase_date}", "timing", digits=1),
    TagSpec("tenure_days", "首购至今天数", "float", "{as_of} minus the first order at {first_purchase_date}",
            "timing", digits=1),
    TagSpec("active_days", "购买天数", "int", "distinct local days with an order", "timing"),
    TagSpec("active_months", "购买月数", "int", "distinct calendar months with an order", "timing"),
    TagSpec("mean_interpurchase_days", "平均购买间隔(天)", "float",
            "mean of the {orders_count} orders' consecutive gaps", "timing", needs="has_gap", digits=1),
    TagSpec("interpurchase_cv", "购买间隔波动", "float",
            "std / mean of the gaps between consecutive orders (0 = like clockwork)", "timing", needs="has_gap",
            visible=False, digits=3),
    TagSpec("expected_next_purchase_date", "预计下次购买日期", "date",
            "last order {last_purchase_date} + own mean interval {mean_interpurchase_days:.1f} days", "timing",
            needs="has_gap", column="expected_next_purchase_at"),
    TagSpec("days_until_expected_purchase", "距预计购买天数", "float",
            "expected next purchase {expected_next_purchase_date} minus {as_of} (negative = late)", "timing",
            needs="has_gap", visible=False, digits=1),
    TagSpec("purchase_overdue", "购买逾期", "bool",
            "late by more than max(3, half the own interval {mean_interpurchase_days:.1f}) days: "
            "{days_until_expected_purchase:.1f} days to the expected date", "timing", needs="has_gap", visible=False),
    # --- RFM -------------------------------------------------------------------------------
    TagSpec("rfm_r", "R分", "int", "R={rfm_r} because the last purchase was {days_since_last_purchase:.1f} days "
            "before {as_of}; population quintile cut points (days) {r_cuts}; R = 1 + cut points above", "rfm",
            visible=False),
    TagSpec("rfm_f", "F分", "int", "F={rfm_f} because {orders_count} orders; population quintile cut points "
            "{f_cuts}; F = 1 + cut points strictly below", "rfm", visible=False),
    TagSpec("rfm_m", "M分", "int", "M={rfm_m} because spend {spend_total_fen} fen; population quintile cut points "
            "(fen) {m_cuts}; M = 1 + cut points strictly below", "rfm", visible=False),
    TagSpec("rfm_score", "RFM", "str", "R{rfm_r} F{rfm_f} M{rfm_m}", "rfm", visible=False),
    TagSpec("rfm_total", "RFM总分", "int", "R+F+M = {rfm_r}+{rfm_f}+{rfm_m}", "rfm", visible=False),
    TagSpec("rfm_segment", "RFM分群", "str", "rules on R={rfm_r}, F={rfm_f} (champions R>=4 F>=4; loyal R>=3 "
            "F>=4; potential_loyalist R>=4 F>=2; recent R>=4; at_risk R<=2 F>=3; lost R=1 F=1; hibernating "
            "R<=2; else needs_attention)", "rfm", visible=False),
    TagSpec("big_spender", "高消费会员", "bool",
            "spend {spend_total_fen} fen vs the population's 90th percentile {big_spender_fen} fen", "rfm",
            visible=False),
    # --- lifecycle and value ---------------------------------------------------------------
    TagSpec("lifecycle_stage", "生命周期", "str",
            "tenure {tenure_days:.0f} days (new <= 30), last purchase {days_since_last_purchase:.0f} days ago; "
            "gap {gap_used_days:.1f} days ({gap_source}); active <= {active_limit_days:.0f} days, at risk <= "
            "{churn_limit_days:.0f} days, churned beyond", "lifecycle", visible=False, needs="all"),
    TagSpec("p_alive", "存活概率", "float", "BG/NBD P(alive) with x={clv_repeat_days:.0f} repeat days, "
            "t_x={clv_tx_weeks:.1f} wk, T={clv_age_weeks:.1f} wk; {bgnbd}", "value", visible=False, digits=3),
    TagSpec("churn_risk", "流失风险", "str", "from P(alive)={p_alive:.2f}: high < 0.3, medium < 0.6, else low",
            "value", visible=False),
    TagSpec("expected_purchases_52w", "未来52周预计购买天数", "float",
            "BG/NBD conditional expectation over 52 weeks for x={clv_repeat_days:.0f}, t_x={clv_tx_weeks:.1f}, "
            "T={clv_age_weeks:.1f}; {bgnbd}", "value", visible=False, digits=3),
    TagSpec("expected_spend_per_purchase_fen", "预计每次消费(分)", "int",
            "Gamma-Gamma from {clv_repeat_days:.0f} repeat days averaging {clv_repeat_avg_fen} fen; {gamma_gamma}",
            "value", visible=False),
    TagSpec("clv_12m_fen", "客户终身价值(12个月,分)", "int",
            "expected purchases {expected_purchases_52w:.2f} x expected spend {expected_spend_per_purchase_fen} fen "
            "(revenue, not margin; undiscounted)", "value", visible=False),
    TagSpec("value_segment", "价值分层", "str",
            "CLV {clv_12m_fen} fen vs population cut points (median, 80th percentile) {clv_cuts}", "value",
            visible=False),
    TagSpec("tier", "会员等级(按消费)", "str",
            "12-month spend {spend_12m_fen} fen under thresholds (fen) {tier_thresholds} (qualified tier; the stored "
            "tier may be protected for a year after an upgrade)", "tier", needs="all"),
    TagSpec("tier_gap_fen", "距下一等级(分)", "int", "threshold of {tier_next} minus 12-month spend "
            "{spend_12m_fen} fen (0 at the top tier)", "tier", needs="all"),
    # --- channels, stores, fulfilment ------------------------------------------------------
    TagSpec("preferred_channel", "偏好渠道", "str",
            "most orders ({preferred_channel_share:.0%} of {orders_count}); ties by spend", "channel"),
    TagSpec("preferred_channel_share", "偏好渠道占比", "float", "orders in {preferred_channel} / all orders",
            "channel"),
    TagSpec("channel_count", "使用渠道数", "int", "distinct channels with an order", "channel"),
    TagSpec("online_share", "线上订单占比", "float", "orders outside the POS / {orders_count}", "channel"),
    TagSpec("omnichannel", "全渠道会员", "bool", "orders both at the POS and online", "channel"),
    TagSpec("preferred_store", "常去门店", "str",
            "store of most orders (POS or pickup store): {preferred_store_share:.0%} of orders with a store",
            "store"),
    TagSpec("preferred_store_share", "常去门店占比", "float", "orders at {preferred_store} / orders with a store",
            "store"),
    TagSpec("store_count", "去过门店数", "int", "distinct stores of POS sales and pickups", "store"),
    TagSpec("preferred_fulfilment", "偏好履约方式", "str",
            "most orders by mode: pickup {pickup_orders}, delivery {delivery_orders}, counter {counter_orders}",
            "fulfilment"),
    TagSpec("pickup_share", "自提占比", "float", "pickup {pickup_orders} / {orders_count} orders", "fulfilment"),
    TagSpec("delivery_share", "配送占比", "float", "same-city + express {delivery_orders} / {orders_count} orders",
            "fulfilment"),
    TagSpec("counter_share", "门店现场购买占比", "float", "counter {counter_orders} / {orders_count} orders",
            "fulfilment"),
    TagSpec("prefers_pickup", "偏好自提", "bool",
            "pickup {pickup_orders} vs delivery {delivery_orders} online orders: pickup share "
            "{pickup_share_online:.0%} (true from 50 %)", "fulfilment"),
    TagSpec("prefers_delivery", "偏好配送", "bool",
            "delivery {delivery_orders} vs pickup {pickup_orders} online orders (true above 50 %)", "fulfilment"),
    # --- price sensitivity -----------------------------------------------------------------
    TagSpec("discount_spend_share", "优惠商品消费占比", "float",
            "spend on lines with a discount / all line spend = {discount_spend_share:.1%}", "price", visible=False),
    TagSpec("price_sensitivity", "价格敏感度", "str",
            "discounted-line spend share {discount_spend_share:.1%}: high >= 50 %, medium >= 20 %, else low",
            "price", visible=False),
    TagSpec("avg_discount_rate", "平均折扣率", "float", "discount {discount_saved_fen} / (paid + discount)",
            "price"),
    TagSpec("discount_saved_fen", "累计优惠(分)", "int", "sum of the lines' discounts", "price"),
    TagSpec("discounted_line_share", "优惠品项占比", "float", "lines with a discount / all lines", "price",
            visible=False),
    # --- categories ------------------------------------------------------------------------
    TagSpec("top_category", "最爱品类", "str", "largest net spend: {top_category_share:.0%} of spend", "category"),
    TagSpec("top_categories", "偏好品类", "list", "the three categories with the largest net spend", "category"),
    TagSpec("top_category_share", "最爱品类占比", "float", "spend on {top_category} / all spend", "category"),
    TagSpec("category_count", "购买品类数", "int", "distinct categories bought", "category"),
    TagSpec("category_entropy", "品类分散度", "float",
            "Shannon entropy of spend shares over {category_count} categories / ln(count): 0 one, 1 even",
            "category", visible=False, digits=3),
    TagSpec("basket_diversity", "每单品类数", "float", "mean distinct categories per order", "category", digits=2),
    TagSpec("top_department", "最爱部门", "str", "department with the largest net spend", "category"),
    TagSpec("department_shares", "部门消费占比", "dict", "share of net spend of the top 5 departments",
            "category"),
    TagSpec("department_count", "购买部门数", "int", "distinct departments bought", "category"),
    # --- habits ----------------------------------------------------------------------------
    TagSpec("preferred_weekday", "偏好购物日", "str", "weekday (local) with most orders", "habit"),
    TagSpec("weekend_share", "周末订单占比", "float", "orders on Saturday or Sunday (local) / all", "habit"),
    TagSpec("preferred_hour", "偏好购物时段(时)", "int", "local hour with most orders", "habit"),
    TagSpec("preferred_daypart", "偏好时段", "str",
            "most orders by daypart: morning 6-11, midday 11-14, afternoon 14-17, evening 17-21, night", "habit"),
    # --- registration and behaviour --------------------------------------------------------
    TagSpec("member_age_days", "入会天数", "float", "{as_of} minus the registration time", "member",
            needs="registered_known", digits=1),
    TagSpec("days_to_first_purchase", "注册到首购天数", "float", "first order minus registration",
            "member", needs="registered_and_has", visible=False, digits=1),
    TagSpec("events_30d", "近30天行为数", "int",
            "{events_30d} behaviour events (views {views_30d}, cart adds {cart_adds_30d}, searches {searches_30d}, "
            "sign-in days {sign_in_days_30d}) in the 30 days before {as_of}", "behaviour", needs="events_given",
            visible=False),
    TagSpec("views_30d", "近30天浏览数", "int",
            "{views_30d} product-page 'view' events in the 30 days before {as_of}", "behaviour",
            needs="events_given", visible=False),
    TagSpec("cart_adds_30d", "近30天加购数", "int",
            "{cart_adds_30d} 'cart_add' events in the 30 days before {as_of}", "behaviour", needs="events_given",
            visible=False),
    TagSpec("searches_30d", "近30天搜索数", "int",
            "{searches_30d} 'search' events in the 30 days before {as_of}", "behaviour", needs="events_given",
            visible=False),
    TagSpec("sign_in_days_30d", "近30天签到天数", "int",
            "{sign_in_days_30d} days (China calendar) with a 'sign_in' (签到) event in the 30 days before {as_of}",
            "behaviour", needs="events_given", version=2),
    TagSpec("last_seen_days", "距上次活跃天数", "float",
            "{as_of} minus the latest behaviour event (view, cart add, search or sign-in)", "behaviour",
            needs="has_events", visible=False, digits=1),
    TagSpec("view_to_order_30d", "浏览转化率", "float",
            "orders {orders_30d_n} / views {views_30d} in the 30 days before {as_of} (0 without a view)", "behaviour",
            needs="events_given", visible=False, version=2),
    # --- engagement: sign-ins, reviews, channels, identities (the optional Behaviour input; the 30-day
    # sign-in days are the events' sign_in_days_30d above) -------------------------------------------------
    TagSpec("signin_days_90d", "近90天签到天数", "int",
            "{signin_days_90d} days with a sign-in (签到) points lot in the 90 days before {as_of}", _E,
            needs="behaviour_given"),
    TagSpec("engaged_signin", "签到活跃", "bool",
            "{sign_in_days_30d} sign-in days in the last 30 (sign_in_days_30d; engaged from "
            "{engaged_signin_days})", _E, needs="events_given", visible=False, version=2),
    TagSpec("reviews_written", "评价数", "int", "{reviews_written} reviews (评价) written on or before {as_of}", _E,
            needs="behaviour_given"),
    TagSpec("reviews_90d", "近90天评价数", "int", "{reviews_90d} reviews written in the 90 days before {as_of}",
            _E, needs="behaviour_given"),
    TagSpec("review_avg_rating", "平均评分", "float",
            "mean rating of the {reviews_written} reviews written (1-5 stars; hidden ones included)", _E,
            needs="has_reviews", digits=2),
    TagSpec("channels_seen", "到访渠道数", "int",
            "{channels_seen} channels the member was seen on (first/last seen per channel): {online_channels_seen} "
            "online, POS {pos_seen} (1: yes)", _E, needs="behaviour_given"),
    TagSpec("days_since_seen", "距上次到访天数", "float",
            "{as_of} minus the latest sighting on any channel", _E, needs="has_seen", visible=False, digits=1),
    TagSpec("omnichannel_seen", "线上线下均到访", "bool",
            "seen online on {online_channels_seen} channels and at the POS {pos_seen} (true when both)", _E,
            needs="behaviour_given", visible=False),
    TagSpec("identities_linked", "绑定身份数", "int",
            "{identities_linked} identities (phone, WeChat, app, member card...) linked to the member (OneID)", _E,
            needs="behaviour_given"),
    TagSpec("engagement_level", "互动活跃度", "str",
            "score {engagement_score} = sign-in {engagement_signin_pts} ({sign_in_days_30d} days; 2: >= "
            "{engaged_signin_days} days of 30, "
            "1: any) + reviews {engagement_review_pts} (2: >= {engaged_reviews_90d} in 90 days, 1: any) + seen "
            "within {engagement_recent_days:.0f} days {engagement_seen_pt}; high >= 4, medium >= 2, low = 1 or any "
            "sign-in, review or visit in {engagement_window_days:.0f} days, else none", _E,
            needs="engagement_given", visible=False, version=2),
]

SPECS: tuple[TagSpec, ...] = tuple(_S)
TAG_NAMES: frozenset[str] = frozenset(s.name for s in SPECS)
assert len(TAG_NAMES) == len(SPECS), "tag names must be unique"
