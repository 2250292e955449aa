"""A local courier server for tests and the demo: no network, driven by a clock.

:class:`CourierSimulator` plays one provider (``"dada"``, ``"sf"`` or ``"own"``, the rider app).
It is a :class:`Transport`: it checks each request's signature exactly as the provider does
(and answers the provider's error shape when it is wrong), prices and keeps the orders it
accepts. :meth:`CourierSimulator.advance` returns the status callbacks due by ``now`` as
``(url, headers, body)``, shaped and signed as that provider sends them, for the app to POST to
itself. The SF signature travels in the URL (``?sign=``); pass it on as ``X-Sf-Sign`` (see
:mod:`~o2o.adapters.couriers.sf`). Dada callbacks carry the ``o2o_token`` the gateway added to
the callback URL (pass it on as ``X-Dada-Token``).

**Timeline** (:class:`Timeline`, deterministic per ``seed`` and shipment_ref): accepted after
1-3 min, at the store ~8 min after creation, picked up ~10 min (each +-1 min), delivered after
``distance / 250 m per min``. Dada also pushes "待接单" (CREATED) at creation; SF and the rider
app do not. A cancel by the merchant is refused once the parcel is picked up; Dada then pushes
status 5 (``cancel_from`` 2, CANCELLED), SF and the rider app push nothing (the answer to the
cancel request is final).

**Failure modes**, per order (:meth:`fail`) or for every order (:meth:`fail_all`); each
provider's ``SIM_EVENTS`` says how it reports them (all parse as FAILED):

* ``"no_rider"``: never accepted; ``no_rider_timeout`` (10 min) after creation the provider gives
  up, reason "无骑手接单 no rider" (Dada 5 with ``cancel_from`` 3, SF 2 ``sf_cancel``).
* ``"rider_cancelled"``: accepted, then the rider cancels ``rider_cancel_after`` (2 min) later
  (Dada 5 with ``cancel_from`` 1, SF 22 配送员撤单).
* ``"timeout"``: picked up, never delivered; ``delivery_timeout`` (60 min) after pick-up, reason
  "配送超时 delivery timeout" (Dada 9 妥投异常, SF 2 ``sf_cancel``).

**Fee** (Dada and SF; the rider app has the gateway's flat fee): ¥5 up to 3 km of road, + ¥1
per started km beyond, + ¥1 per started kg above 5 kg (the shape of the routing rate card,
``o2o.core.routing.config.CourierRate``, with a weight step instead of pro rata). Road distance
is the great circle times 1.3 (``o2o.core.geo.road_distance_m``).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from o2o.adapters.couriers import dada, own_riders, sf
from o2o.adapters.couriers.base import (
    SHANGHAI,
    DeliveryRequest,
    Place,
    ProviderError,
    Rider,
    as_int,
    as_str,
    dumps,
    estimate_road_m,
    fen_to_yuan,
)

__all__ = [
    "FAILURE_MODES",
    "SIM_SF_CALLBACK_URL",
    "CourierSimulator",
    "FailureMode",
    "Timeline",
    "simulated_fee_fen",
    "simulated_gateway",
]

FailureMode = Literal["no_rider", "rider_cancelled", "timeout"]
FAILURE_MODES: tuple[str, ...] = ("no_rider", "rider_cancelled", "timeout")
SIM_SF_CALLBACK_URL = "http://testserver/couriers/sf/callback"
_BASE_URLS = {"dada": "http://dada.simulator", "sf": "http://sf.simulator", "own": "http://rider-app.simulator"}

_MINUTE = timedelta(minutes=1)
_RIDER_NAMES = ("张师傅", "李师傅", "王师傅", "刘师傅", "陈师傅", "赵师傅", "杨师傅", "黄师傅")
_TERMINAL = frozenset({"delivered", "no_rider", "rider_cancelled", "timeout", "merchant_cancelled"})
_NO_CANCEL = frozenset({"picked_up"}) | _TERMINAL
_WITH_RIDER = frozenset({"accepted", "arrived", "picked_up", "delivered", "rider_cancelled", "timeout"})
@dataclass(frozen=True)
class Timeline:
    accept_min: timedelta = _MINUTE
    accept_max: timedelta = 3 * _MINUTE
    arrive_after: timedelta = 8 * _MINUTE       # after creation, +- jitter
    pickup_after: timedelta = 10 * _MINUTE      # after creation, +- jitter
    jitter: timedelta = _MINUTE
    speed_m_per_min: int = 250
    rider_cancel_after: timedelta = 2 * _MINUTE  # after acceptance
    no_rider_timeout: timedelta = 10 * _MINUTE   # after creation
    delivery_timeout: timedelta = 60 * _MINUTE   # after pick-up


def _started(amount: int, unit: int) -> int:
    return -(-amount // unit) if amount > 0 else 0


def simulated_fee_fen(distance_m: int, weight_g: int) -> int:
    """¥5 up to 3 km, + ¥1 per started km beyond, + ¥1 per started kg above 5 kg."""
    return 500 + 100 * _started(distance_m - 3000, 1000) + 100 * _started(weight_g - 5000, 1000)


# Refusal codes the simulator answers (Dada's and SF's in their body, the rider app's as HTTP status).
_CODES = {"dada": {"bad": 2001, "unknown": 2004, "shop": 2005, "state": 2076, "exists": 2105, "path": 404, "method": 405},
          "sf": {"bad": 1001, "unknown": 1004, "shop": 1005, "state": 1007, "exists": 1006, "path": 404, "method": 405},
          "own": {"bad": 400, "unknown": 404, "shop": 400, "state": 409, "exists": 409, "path": 404, "method": 405}}


@dataclass
class _Order:
    seq: int
    ref: str
    external_id: str
    callback_url: str
    origin: Place
    destination: Place
    rider: Rider
    rider_id: int
    rider_start: tuple[float, float]
    times: dict[str, datetime]
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    sent: set[str] = field(default_factory=set)


def _seconds(td: timedelta) -> int:
    return int(td.total_seconds())


def _check_mode(mode: str | None) -> str | None:
    if mode is not None and mode not in FAILURE_MODES:
        raise ValueError(f"unknown failure mode {mode!r}")
    return mode


class CourierSimulator:
    """One simulated provider. Secrets: Dada ``app_key``/``app_secret``/``source_id``; SF
    ``dev_id``/``dev_key`` (+ ``sf_callback_url``, SF's console setting); own ``secret``."""

    def __init__(self, provider: Literal["dada", "sf", "own"], *, clock: Callable[[], datetime],
                 seed: int = 0, app_key: str = "", app_secret: str = "", source_id: str = "",
                 dev_id: int = 0, dev_key: str = "", secret: str = "",
                 sf_callback_url: str = SIM_SF_CALLBACK_URL, timeline: Timeline | None = None) -> None:
        if provider not in _BASE_URLS:
            raise ValueError(f"unknown provider {provider!r}")
        self.provider = provider
        self.clock, self.seed, self.timeline = clock, seed, timeline or Timeline()
        self.app_key, self.app_secret, self.source_id = app_key, app_secret, source_id
        self.dev_id, self.dev_key, self.secret = dev_id, dev_key, secret
        self.sf_callback_url = sf_callback_url
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (path, payload) of every accepted request
        self._orders: dict[str, _Order] = {}
        self._by_external: dict[str, str] = {}
        self._shops: dict[str, tuple[float, float]] = {}
        self._modes: dict[str, str] = {}
        self._global_mode: str | None = None
        self._quotes = 0

    # --- control ----------------------------------------------------------------------------

    def register_shop(self, shop_no: str, lat: float, lng: float) -> None:
        self._shops[shop_no] = (lat, lng)

    def shop_for(self, req: DeliveryRequest) -> str:
        """A Dada/SF shop number for the request's origin, registered on first use."""
        shop_no = f"sim-{req.origin.lat:.6f},{req.origin.lng:.6f}"
        self._shops.setdefault(shop_no, (req.origin.lat, req.origin.lng))
        return shop_no

    def fail(self, shipment_ref: str, mode: FailureMode | None) -> None:
        """Set the failure mode of one order, before or after it is created (None: the global one)."""
        self._modes.pop(shipment_ref, None)
        if _check_mode(mode) is not None:
            self._modes[shipment_ref] = mode

    def fail_all(self, mode: FailureMode | None) -> None:
        """The failure mode of every order without its own (None: the normal timeline)."""
        self._global_mode = _check_mode(mode)

    def external_id(self, shipment_ref: str) -> str | None:
        order = self._orders.get(shipment_ref)
        return order.external_id if order else None

    # --- the timeline -------------------------------------------------------------------------

    def _now(self, now: datetime | None = None) -> datetime:
        now = self.clock() if now is None else now
        if now.tzinfo is None:
            raise ValueError("the simulator needs aware datetimes")
        return now.astimezone(SHANGHAI).replace(microsecond=0)

    def _schedule(self, order: _Order) -> list[tuple[str, datetime]]:
        t, tl = order.times, self.timeline
        mode = self._modes.get(order.ref, self._global_mode)
        events = [("created", t["created"])] if self.provider == "dada" else []
        if mode == "no_rider":
            events.append(("no_rider", t["created"] + tl.no_rider_timeout))
        elif mode == "rider_cancelled":
            events += [("accepted", t["accepted"]), ("rider_cancelled", t["accepted"] + tl.rider_cancel_after)]
        else:
            events += [(kind, t[kind]) for kind in ("accepted", "arrived", "picked_up")]
            last = ("timeout", t["picked_up"] + tl.delivery_timeout) if mode == "timeout" else ("delivered",
                                                                                                t["delivered"])
            events.append(last)
        if order.cancelled_at is not None:
            events = [(kind, at) for kind, at in events if at <= order.cancelled_at]
            if self.provider == "dada":
                events.append(("merchant_cancelled", order.cancelled_at))
        return events

    def state(self, shipment_ref: str, now: datetime | None = None) -> str | None:
        """The last event of the order due by ``now`` ("created" before any), None if unknown."""
        order = self._orders.get(shipment_ref)
        if order is None:
            return None
        now = self._now(now)
        due = [kind for kind, at in self._schedule(order) if at <= now]  # the schedule is in time order
        return due[-1] if due else "created"

    def advance(self, now: datetime | None = None) -> list[tuple[str, dict[str, str], bytes]]:
        """The callbacks due by ``now`` (default: the clock) not sent yet, in time order."""
        now = self._now(now)
        due = []
        for order in self._orders.values():
            if order.sent & _TERMINAL:
                continue
            for rank, (kind, at) in enumerate(self._schedule(order)):
                if at <= now and kind not in order.sent:
                    due.append((at, order.seq, rank, kind, order))
        due.sort(key=lambda item: item[:3])
        out = []
        for at, _seq, _rank, kind, order in due:
            if not order.sent & _TERMINAL:
                order.sent.add(kind)
                out.append(self._callback(order, kind, at))
        return out

    def _new_order(self, ref: str, callback_url: str, origin: Place, destination: Place,
                   rider: Rider | None = None, external_id: str = "") -> _Order:
        rng = random.Random(f"{self.seed}:{self.provider}:{ref}")
        tl, created = self.timeline, self._now()
        accepted = created + timedelta(seconds=rng.randint(_seconds(tl.accept_min), _seconds(tl.accept_max)))
        j = _seconds(tl.jitter)
        arrived = max(accepted + _MINUTE, created + tl.arrive_after + timedelta(seconds=rng.randint(-j, j)))
        picked = max(arrived + _MINUTE, created + tl.pickup_after + timedelta(seconds=rng.randint(-j, j)))
        distance_m = estimate_road_m(origin, destination)
        ride_s = max(60, math.ceil(distance_m * 60 / max(1, tl.speed_m_per_min)))
        if rider is None:
            rider = Rider(rng.choice(_RIDER_NAMES), f"13{rng.randrange(10**9):09d}")
        if not external_id:
            external_id = str(rng.randrange(10**11, 10**12) if self.provider == "dada"
                              else rng.randrange(10**18, 10**19))
        start = (origin.lat + rng.uniform(-0.005, 0.005), origin.lng + rng.uniform(-0.005, 0.005))
        order = _Order(len(self._orders), ref, external_id, callback_url, origin, destination, rider,
                       rng.randrange(10**5, 10**6), start,
                       {"created": created, "accepted": accepted, "arrived": arrived, "picked_up": picked,
                        "delivered": picked + timedelta(seconds=ride_s)})
        self._orders[ref] = order
        self._by_external[external_id] = ref
        return order

    def _cancel(self, order: _Order, reason: str) -> None:
        if order.cancelled_at is not None:
            return
        if self.state(order.ref) in _NO_CANCEL:
            raise self._refuse("state", "订单状态不允许取消 the order can no longer be cancelled")
        order.cancelled_at, order.cancel_reason = self._now(), reason

    def _rider_at(self, order: _Order, kind: str) -> tuple[float, float]:
        if kind == "delivered":
            return order.destination.lat, order.destination.lng
        if kind in ("arrived", "picked_up", "timeout"):
            return order.origin.lat, order.origin.lng
        return order.rider_start

    # --- callbacks ----------------------------------------------------------------------------

    def _callback(self, order: _Order, kind: str, at: datetime) -> tuple[str, dict[str, str], bytes]:
        ts = int(at.timestamp())
        with_rider = kind in _WITH_RIDER or (kind == "merchant_cancelled" and "accepted" in order.sent)
        lat, lng = self._rider_at(order, kind)
        rider = Rider(order.rider.name, order.rider.phone, lat, lng) if with_rider else None
        if self.provider == "dada":
            code, cancel_from, reason = dada.SIM_EVENTS.get(kind, (5, dada.CANCEL_FROM_MERCHANT,
                                                                   order.cancel_reason))
            body = dada.callback_body(client_id=order.external_id, order_id=order.ref, order_status=code,
                                      update_time=ts, cancel_from=cancel_from, cancel_reason=reason,
                                      rider=rider, rider_id=order.rider_id)
            return order.callback_url, {"Content-Type": "application/json"}, body
        if self.provider == "sf":
            code, url_index, desc = sf.SIM_EVENTS[kind]
            payload: dict[str, Any] = {
                "sf_order_id": order.external_id, "sf_bill_id": f"JS{order.external_id[-10:]}",
                "shop_order_id": order.ref, "url_index": url_index, "order_status": code,
                "status_desc": desc, "push_time": ts}
            if rider:
                payload.update(operator_name=rider.name, operator_phone=rider.phone,
                               rider_lat=f"{lat:.6f}", rider_lng=f"{lng:.6f}")
            url, body = sf.signed_post(self.sf_callback_url, payload, self.dev_id, self.dev_key)
            return url, {"Content-Type": "application/json"}, body
        status, reason = own_riders.SIM_EVENTS[kind]
        headers, body = own_riders.signed_message({
            "ref": order.ref, "external_id": order.external_id, "status": status, "at": at.isoformat(),
            "rider": own_riders.rider_to_json(rider) if rider else None,
            "event_id": f"{order.external_id}:{kind}:{ts}", "reason": reason}, self.secret)
        return order.callback_url, headers, body

    # --- the Transport ---------------------------------------------------------------------

    def _refuse(self, what: str, message: str) -> ProviderError:
        return ProviderError(message, code=f"{self.provider}:{_CODES[self.provider][what]}", provider=self.provider)

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes
             ) -> tuple[int, dict[str, str], bytes]:
        """Serve one request as the provider would (errors in the provider's answer shape)."""
        parts = urlsplit(url)
        try:
            if method.upper() != "POST":
                raise self._refuse("method", "只接受 POST only POST")
            result = self._serve(parts.path, parts.query, headers, body)
            code, msg = 0, ""
        except ProviderError as exc:
            result, code, msg = None, int(exc.code.rsplit(":", 1)[1]), exc.message
        if self.provider == "dada":
            status, out = 200, dada.answer(result, code=code, msg=msg or "成功")
        elif self.provider == "sf":
            status, out = 200, sf.answer(result, code=code, msg=msg or "success")
        else:
            status, out = code or 200, dumps({"ok": True} if not code else {"ok": False, "error": msg}).encode()
        return status, {"Content-Type": "application/json"}, out

    def _serve(self, path: str, query: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        if self.provider == "dada":
            payload = dada.open_request(body, app_key=self.app_key, source_id=self.source_id,
                                        app_secret=self.app_secret)
        elif self.provider == "sf":
            payload = sf.open_request(query, body, dev_id=self.dev_id, dev_key=self.dev_key)
        else:
            payload = own_riders.open_message(headers, body, self.secret)
        try:
            result = self._act(path, payload)
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            raise self._refuse("bad", "参数错误 bad parameter") from exc
        self.requests.append((path, payload))
        return result

    def _act(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Quote, create or cancel, from a verified request payload."""
        own_cancel = self.provider == "own" and payload.get("type") == "cancel"
        if own_cancel or path == {"dada": dada.PATH_CANCEL, "sf": sf.PATH_CANCEL}.get(self.provider):
            if self.provider == "sf" and as_int(payload.get("order_type")) == 1:
                ref = self._by_external.get(as_str(payload.get("order_id")), "")
            else:
                ref = as_str(payload.get("order_id") if self.provider != "own" else payload.get("ref"))
            order = self._orders.get(ref)
            if order is None:
                raise self._refuse("unknown", "订单不存在 no such order")
            self._cancel(order, as_str(payload.get("cancel_reason", payload.get("reason")), required=False))
            return {"deduct_fee": 0} if self.provider == "dada" else {
                "sf_order_id": order.external_id, "shop_order_id": ref, "push_time": int(self._now().timestamp())}
        if self.provider == "own":
            if payload.get("type") != "dispatch":
                raise self._refuse("bad", "未知消息 unknown message type")
            ref, external_id, origin, destination, rider, callback = own_riders.read_dispatch(payload)
            if ref not in self._orders:  # a retried dispatch is accepted again
                self._new_order(ref, callback, origin, destination, rider, external_id)
            return {}
        if self.provider == "dada" and path in (dada.PATH_ADD_ORDER, dada.PATH_QUERY_FEE):
            shop_no, ref, callback, destination, weight_g = dada.read_order_body(payload)
            origin = None
        elif self.provider == "sf" and path in (sf.PATH_CREATE, sf.PATH_PRECREATE):
            ref, origin, destination, weight_g = sf.read_order_payload(payload)
            shop_no, callback = as_str(payload.get("shop_id"), required=False), self.sf_callback_url
        else:
            raise self._refuse("path", "接口不存在 no such API")
        if origin is None:
            if shop_no not in self._shops:
                raise self._refuse("shop", "门店不存在 unknown shop")
            origin = Place("shop", "", "", *self._shops[shop_no])
        distance_m = estimate_road_m(origin, destination)
        fee = simulated_fee_fen(distance_m, weight_g)
        if path in (dada.PATH_ADD_ORDER, sf.PATH_CREATE):
            if ref in self._orders:
                raise self._refuse("exists", "订单已存在 order already exists")
            order = self._new_order(ref, callback, origin, destination)
        if self.provider == "dada":
            result: dict[str, Any] = {"distance": float(distance_m), "fee": fen_to_yuan(fee),
                                      "deliverFee": fen_to_yuan(fee)}
            if path == dada.PATH_QUERY_FEE:
                self._quotes += 1
                result["deliveryNo"] = f"Dd{self.seed}{self._quotes:08d}"
            return result
        now = int(self._now().timestamp())
        eta = now + _seconds(self.timeline.pickup_after) + 60 * math.ceil(
            distance_m / max(1, self.timeline.speed_m_per_min))
        result = {"total_price": fee, "delivery_distance_meter": distance_m, "weight_gram": weight_g,
                  "start_time": now, "expected_time": eta, "total_pay_money": fee, "real_pay_money": fee}
        if path == sf.PATH_CREATE:
            result.update(sf_order_id=order.external_id, sf_bill_id=f"JS{order.external_id[-10:]}",
                          shop_order_id=ref, push_time=now)
        return result


def _secret(name: str, seed: int) -> str:
    return hashlib.sha256(f"o2o-courier-simulator:{name}:{seed}".encode()).hexdigest()[:32]


_SIM_RIDERS = (Rider("周骑手", "13900000001"), Rider("吴骑手", "13900000002"),
               Rider("郑骑手", "13900000003"), Rider("孙骑手", "13900000004"))


def simulated_gateway(provider: Literal["dada", "sf", "own"], clock: Callable[[], datetime], seed: int = 0, *,
                      timeline: Timeline | None = None, sf_callback_url: str = SIM_SF_CALLBACK_URL,
                      riders: Sequence[Rider] = _SIM_RIDERS, own_fee_fen: int = 600,
                      max_active_per_rider: int = 2) -> tuple[Any, CourierSimulator]:
    """A gateway wired to a fresh simulator, with generated (seed-derived) test secrets."""
    base_url = _BASE_URLS.get(provider)
    if base_url is None:
        raise ValueError(f"unknown provider {provider!r}")
    if provider == "dada":
        sim = CourierSimulator("dada", clock=clock, seed=seed, app_key=f"sim-dada-{seed}",
                               app_secret=_secret("dada", seed), source_id="73753", timeline=timeline)
        gateway: Any = dada.DadaGateway(app_key=sim.app_key, app_secret=sim.app_secret, source_id=sim.source_id,
                                        shop_no=sim.shop_for, transport=sim, base_url=base_url,
                                        callback_token_key=_secret("dada-token", seed).encode(), clock=clock)
    elif provider == "sf":
        sim = CourierSimulator("sf", clock=clock, seed=seed, dev_id=1_550_000_000 + seed % 1000,
                               dev_key=_secret("sf", seed), sf_callback_url=sf_callback_url, timeline=timeline)
        gateway = sf.SfGateway(dev_id=sim.dev_id, dev_key=sim.dev_key, shop_id="sim-shop", transport=sim,
                               base_url=base_url, clock=clock)
    else:
        sim = CourierSimulator("own", clock=clock, seed=seed, secret=_secret("own", seed), timeline=timeline)
        gateway = own_riders.OwnRidersGateway(riders=riders, fee_fen=own_fee_fen, secret=sim.secret,
                                              transport=sim, dispatch_url=f"{base_url}/dispatch",
                                              max_active_per_rider=max_active_per_rider, clock=clock)
    return gateway, sim
