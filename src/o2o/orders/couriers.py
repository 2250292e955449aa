"""The one place that wires the same-city courier adapters (``o2o.adapters.couriers``).

``settings.O2O["COURIERS"]`` (default ``{"mode": "simulator", "order": ["dada", "sf", "own"]}``;
without that key the environment variables ``O2O_COURIERS_MODE`` and ``O2O_COURIERS_ORDER``
decide) chooses between:

* **simulator** (tests, the demo): one :class:`CourierSimulator` per provider per process,
  driven by the sandbox clock :func:`now` (``base_clock()`` plus an offset that
  :func:`advance_clock` moves forward; tests may replace ``base_clock``). Callback URLs point at
  ``<callback base>/api/v1/delivery/callbacks/<provider>``.
* **production**: gateways built from environment variables (see ``docs/delivery.md``) over
  :class:`UrllibTransport`; a provider whose variables are missing is skipped.

``order`` is the provider order for dispatch and re-dispatch. Gateways are kept per process:
the own-riders gateway keeps its rider bookkeeping in memory (one instance per store).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from o2o.adapters.couriers import (
    CourierGateway,
    CourierSimulator,
    DadaGateway,
    DeliveryRequest,
    OwnRidersGateway,
    Rider,
    SfGateway,
    UrllibTransport,
    simulated_gateway,
)
from o2o.adapters.couriers.dada import DADA_PROD, TOKEN_HEADER, TOKEN_PARAM
from o2o.adapters.couriers.sf import SF_PROD, SIGN_HEADER

log = logging.getLogger("o2o.orders.delivery")

PROVIDERS = ("dada", "sf", "own")
DEFAULT_ORDER = ("dada", "sf", "own")
CALLBACK_PATH = "/api/v1/delivery/callbacks/{provider}"
SIMULATOR, PRODUCTION = "simulator", "production"

# Consolidated bookings (one courier for several shipments; ``o2o.groupbuy`` registers them at start-up):
# ``dispatch_for`` asks each dispatch hook ``hook(shipment, by=, now=)`` first, and a hook that answers a
# courier task (another shipment's: the shared booking) is the shipment's booking; ``_apply`` tells each
# tracking hook ``hook(task=, shipment=, target=, now=)`` what a callback did to a task.
dispatch_hooks: list[Callable[..., Any]] = []
# A dispatch hook's answer "not now": the shipment stays awaiting a courier with no task (the delivery
# sweep asks again every minute), e.g. a 社区团购 run whose slot is tomorrow morning.
HOLD = object()
tracking_hooks: list[Callable[..., Any]] = []


def hooks_register(*, dispatch: Callable[..., Any], tracking: Callable[..., Any]) -> None:
    """Add a consolidated-booking pair of hooks once (apps' ``ready``)."""
    if dispatch not in dispatch_hooks:
        dispatch_hooks.append(dispatch)
    if tracking not in tracking_hooks:
        tracking_hooks.append(tracking)


def config() -> dict[str, Any]:
    cfg = settings.O2O.get("COURIERS")
    if cfg is None:
        order = os.environ.get("O2O_COURIERS_ORDER", ",".join(DEFAULT_ORDER))
        cfg = {"mode": os.environ.get("O2O_COURIERS_MODE", SIMULATOR), "order": order.split(",")}
    return cfg


def mode() -> str:
    return str(config().get("mode", SIMULATOR))


def simulator_mode() -> bool:
    return mode() == SIMULATOR


def provider_order() -> list[str]:
    """The providers to try, in order (unknown names and repeats dropped)."""
    out: list[str] = []
    for name in config().get("order", DEFAULT_ORDER):
        name = str(name).strip()
        if name in PROVIDERS and name not in out:
            out.append(name)
    return out


def callback_base() -> str:
    base = config().get("callback_base") or os.environ.get("O2O_COURIER_CALLBACK_BASE", "http://testserver")
    return str(base).rstrip("/")


def callback_url(provider: str) -> str:
    return callback_base() + CALLBACK_PATH.format(provider=provider)


def callback_headers(query: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, str]:
    """What ``parse_callback`` reads: the request headers, plus the signatures that travel in the
    query string (Dada's ``o2o_token`` as ``X-Dada-Token``, SF's ``sign`` as ``X-Sf-Sign``)."""
    out = {str(k): str(v) for k, v in headers.items()}
    if TOKEN_PARAM in query:
        out[TOKEN_HEADER] = str(query[TOKEN_PARAM])
    if "sign" in query:
        out[SIGN_HEADER] = str(query["sign"])
    return out


# --- the sandbox (simulator mode) -----------------------------------------------------------


def base_clock() -> datetime:
    """The real clock under the sandbox clock (tests may replace it)."""
    return timezone.now()


class _Locked:
    """The simulator as a transport, one request at a time (the dev server is threaded)."""

    def __init__(self, sim: CourierSimulator, lock: threading.RLock) -> None:
        self.sim, self.lock = sim, lock

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes
             ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            return self.sim.send(method, url, headers, body)


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.offset = timedelta(0)
        self.sims: dict[str, CourierSimulator] = {}
        self.gateways: dict[tuple[str, int | None], Any] = {}
        self.warned: set[str] = set()


_state = _State()


def reset() -> None:
    """Forget every simulator, gateway and the sandbox offset (tests; a fresh demo)."""
    global _state
    _state = _State()


def now() -> datetime:
    """The couriers' clock: the sandbox time in simulator mode, else the real time."""
    if simulator_mode():
        return base_clock() + _state.offset
    return timezone.now()


def advance_clock(minutes: float) -> datetime:
    """Move the sandbox clock forward (simulator mode); the new sandbox time."""
    with _state.lock:
        _state.offset += timedelta(minutes=minutes)
    return now()


def _sim_gateway(provider: str) -> Any:
    with _state.lock:
        if provider not in _state.sims:
            seed = int(config().get("seed", 0))
            gateway, sim = simulated_gateway(provider, now, seed, sf_callback_url=callback_url("sf"))  # type: ignore[arg-type]
            gateway.transport = _Locked(sim, _state.lock)
            _state.sims[provider] = sim
            _state.gateways[(provider, None)] = gateway
        return _state.gateways[(provider, None)]


def simulator(provider: str) -> CourierSimulator:
    """The process's simulator for ``provider`` (simulator mode)."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}")
    _sim_gateway(provider)
    return _state.sims[provider]


def due_callbacks() -> list[tuple[str, str, dict[str, str], bytes]]:
    """Every simulator's callbacks due by the sandbox clock: ``(provider, url, headers, body)``."""
    at = now()
    out = []
    with _state.lock:
        for provider, sim in list(_state.sims.items()):
            out += [(provider, url, headers, body) for url, headers, body in sim.advance(at)]
    return out


def sim_adopt(provider: str, req: DeliveryRequest, *, created_at: datetime, store: Any = None) -> None:
    """Teach a simulator an order booked by another process (its timeline starts at ``created_at``)."""
    sim, gateway = simulator(provider), courier_gateway(provider, store=store)
    with _state.lock:
        if sim.external_id(req.shipment_ref) is not None:
            return
        clock = sim.clock
        sim.clock = lambda: created_at
        try:
            gateway.create_order(req)
        finally:
            sim.clock = clock


# --- gateways -------------------------------------------------------------------------------


def courier_gateway(provider: str, *, store: Any = None) -> CourierGateway | None:
    """The gateway for ``provider`` (for ``store``, a ``stores.Location``, when given: Dada/SF shop
    numbers and the own-rider pool are per store); None when the provider is not configured."""
    if provider not in PROVIDERS:
        return None
    store_id = getattr(store, "pk", None)
    if simulator_mode():
        base = _sim_gateway(provider)
        if provider != "own" or store_id is None:
            return base
        with _state.lock:
            key = (provider, store_id)
            if key not in _state.gateways:
                _state.gateways[key] = OwnRidersGateway(
                    riders=base.riders, fee_fen=base.fee_fen, secret=base.secret, transport=base.transport,
                    dispatch_url=base.dispatch_url, max_active_per_rider=base.max_active_per_rider, clock=now)
            return _state.gateways[key]
    key = (provider, store_id)
    with _state.lock:
        if key not in _state.gateways:
            try:
                _state.gateways[key] = _production(provider, store)
            except (ValueError, TypeError) as exc:  # bad JSON or numbers in the environment
                log.error("courier %s misconfigured: %s", provider, exc)
                _state.gateways[key] = None
        gateway = _state.gateways[key]
    if gateway is None and provider not in _state.warned:
        _state.warned.add(provider)
        log.warning("courier %s is not configured (see docs/delivery.md); it is skipped", provider)
    return gateway


def available(provider: str, *, store: Any = None) -> bool:
    return courier_gateway(provider, store=store) is not None


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _env_json(name: str) -> dict[str, Any]:
    raw = _env(name)
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value


def _production(provider: str, store: Any) -> Any:
    code = getattr(store, "code", None)
    transport = UrllibTransport(timeout_s=float(_env("O2O_COURIER_TIMEOUT_S") or 10))
    if provider == "dada":
        key, secret, source, token_key = (_env("O2O_DADA_APP_KEY"), _env("O2O_DADA_APP_SECRET"),
                                          _env("O2O_DADA_SOURCE_ID"), _env("O2O_DADA_CALLBACK_TOKEN_KEY"))
        if not (key and secret and source and token_key):
            return None
        shop_no = str(_env_json("O2O_DADA_SHOP_NOS").get(code or "", "") or _env("O2O_DADA_SHOP_NO"))
        return DadaGateway(app_key=key, app_secret=secret, source_id=source, shop_no=shop_no, transport=transport,
                           base_url=_env("O2O_DADA_BASE_URL") or DADA_PROD, city_code=_env("O2O_DADA_CITY_CODE"),
                           callback_token_key=token_key.encode("utf-8"), clock=timezone.now)
    if provider == "sf":
        dev_id, dev_key = _env("O2O_SF_DEV_ID"), _env("O2O_SF_DEV_KEY")
        if not (dev_id and dev_key):
            return None
        shop_id = str(_env_json("O2O_SF_SHOP_IDS").get(code or "", "") or _env("O2O_SF_SHOP_ID"))
        return SfGateway(dev_id=int(dev_id), dev_key=dev_key, shop_id=shop_id, transport=transport,
                         base_url=_env("O2O_SF_BASE_URL") or SF_PROD, shop_type=int(_env("O2O_SF_SHOP_TYPE") or 1),
                         clock=timezone.now)
    secret = _env("O2O_OWN_RIDERS_SECRET")
    if not secret:
        return None
    pools = _env_json("O2O_OWN_RIDERS")
    riders = [Rider(str(r["name"]), str(r["phone"]), r.get("lat"), r.get("lng"))
              for r in pools.get(code or "", []) if isinstance(r, dict)]
    if store is not None and not riders:
        return None  # this store has no riders of its own
    url = _env("O2O_OWN_RIDERS_DISPATCH_URL")
    return OwnRidersGateway(riders=riders, fee_fen=int(_env("O2O_OWN_RIDERS_FEE_FEN") or 600), secret=secret,
                            transport=transport if url else None, dispatch_url=url,
                            max_active_per_rider=int(_env("O2O_OWN_RIDERS_MAX_ACTIVE") or 1), clock=timezone.now)
