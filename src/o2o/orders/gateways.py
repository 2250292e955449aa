"""The one place that wires concrete payment adapters: ``payment_gateway("wechat" | "alipay")``.

``settings.O2O["PAYMENTS"]["mode"]`` picks the wiring (default ``"sandbox"``):

* ``sandbox`` (tests, the demo, the benchmark): the real WeChat Pay / Alipay adapters talking
  to the in-process simulators of :mod:`o2o.adapters.payments.sandbox`. The simulators' RSA keys
  and APIv3 key are generated once and kept in ``settings.O2O["SANDBOX_KEY_DIR"]`` (default
  ``VAR_DIR/sandbox-keys``, i.e. ``BASE_DIR/var/sandbox-keys``), so that every process (two
  gunicorn workers, a management command) signs and verifies with the same keys. The
  simulators remember trades per process only: :func:`sandbox_sync` re-registers a trade from
  our ``Payment`` row before the sandbox pays, refunds or answers a query for it.
* ``production``: keys and ids from environment variables (see ``docs/payments.md``), HTTP
  through :class:`~o2o.adapters.couriers.base.UrllibTransport`.

Gateways are built once per process (RSA key loading is slow) and cached.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from o2o.adapters.couriers.base import UrllibTransport
from o2o.adapters.payments import Alipay, PaymentGateway, WeChatPay
from o2o.adapters.payments.keys import SandboxKeys, generate_rsa_key, load_private_key, to_pem
from o2o.adapters.payments.sandbox import (
    SANDBOX_ALIPAY_APP_ID,
    SANDBOX_MCHID,
    SANDBOX_MERCHANT_SERIAL,
    SANDBOX_PLATFORM_SERIAL,
    SANDBOX_WECHAT_APPID,
    AlipaySandbox,
    SandboxWorld,
    WeChatOrder,
    WeChatPaySandbox,
)
from o2o.common.errors import ApiError, Conflict, NotFound

# Our provider names (``Payment.provider``) -> the adapters' names.
ADAPTER = {"wechat": "wechatpay", "alipay": "alipay"}
PROVIDERS = tuple(ADAPTER)
KEY_FILE = "keys.json"
_SANDBOX_WECHAT_URL = "https://api.mch.weixin.qq.com"
_SANDBOX_ALIPAY_URL = "https://openapi.alipay.com/gateway.do"

_lock = threading.Lock()
_cache: dict[tuple[str, str], Any] = {}


class PaymentsUnavailable(ApiError):
    status = 503
    code = "payments_unavailable"


def payments_settings() -> dict[str, Any]:
    return dict(settings.O2O.get("PAYMENTS", {"mode": "sandbox"}))


def mode() -> str:
    return str(payments_settings().get("mode", "sandbox"))


def is_sandbox() -> bool:
    return mode() == "sandbox"


def sandbox_key_dir() -> Path:
    default = Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "sandbox-keys"
    return Path(settings.O2O.get("SANDBOX_KEY_DIR") or default)


def notify_url(provider: str) -> str:
    """Where the provider POSTs its notifications (must be https for WeChat Pay)."""
    base = (payments_settings().get("notify_base_url") or os.environ.get("O2O_PAYMENT_NOTIFY_BASE_URL")
            or "https://localhost")
    return f"{str(base).rstrip('/')}/api/v1/payments/notify/{provider}"


def unknown_provider(provider: str) -> NotFound:
    return NotFound("未知的支付方式 Unknown payment provider", code="unknown_provider",
                    details={"provider": provider, "allowed": list(PROVIDERS)})


def payment_gateway(provider: str) -> PaymentGateway:
    """The gateway for ``"wechat"`` or ``"alipay"`` in the configured mode (cached per process)."""
    if provider not in ADAPTER:
        raise unknown_provider(provider)
    if is_sandbox():
        return sandbox_world().gateways[ADAPTER[provider]]
    key = ("production", provider)
    with _lock:
        if key not in _cache:
            _cache[key] = production_gateway(provider)
        return _cache[key]


def reset() -> None:
    """Forget the cached gateways (tests that change the settings)."""
    with _lock:
        _cache.clear()


# --- sandbox ----------------------------------------------------------------------------------


def sandbox_world() -> SandboxWorld:
    if not is_sandbox():
        raise NotFound("仅沙箱模式可用 Only in sandbox mode", code="not_sandbox")
    key_dir = sandbox_key_dir()
    key = ("sandbox", str(key_dir))
    with _lock:
        if key not in _cache:
            _cache[key] = build_sandbox(load_or_create_keys(key_dir))
        return _cache[key]


def build_sandbox(keys: SandboxKeys) -> SandboxWorld:
    """Both adapters wired to fresh simulators with ``keys`` (like ``sandbox_gateways`` but shared keys)."""
    wechat_sandbox = WeChatPaySandbox(keys, SANDBOX_MCHID, SANDBOX_WECHAT_APPID)
    alipay_sandbox = AlipaySandbox(keys, SANDBOX_ALIPAY_APP_ID)
    wechat = WeChatPay(mchid=SANDBOX_MCHID, appid=SANDBOX_WECHAT_APPID, merchant_serial_no=SANDBOX_MERCHANT_SERIAL,
                       merchant_private_key=keys.merchant, platform_serial_no=SANDBOX_PLATFORM_SERIAL,
                       platform_public_key=keys.platform.public_key(), apiv3_key=keys.apiv3_key,
                       transport=wechat_sandbox, base_url=_SANDBOX_WECHAT_URL)
    alipay = Alipay(app_id=SANDBOX_ALIPAY_APP_ID, app_private_key=keys.app, alipay_public_key=keys.alipay.public_key(),
                    transport=alipay_sandbox, gateway=_SANDBOX_ALIPAY_URL)
    return SandboxWorld(gateways={"wechatpay": wechat, "alipay": alipay},
                        sandboxes={"wechatpay": wechat_sandbox, "alipay": alipay_sandbox}, keys=keys)


def _keys_json(keys: SandboxKeys) -> str:
    return json.dumps({"version": 1, "merchant": to_pem(keys.merchant).decode(), "platform": to_pem(keys.platform).decode(),
                       "app": to_pem(keys.app).decode(), "alipay": to_pem(keys.alipay).decode(),
                       "apiv3_key": keys.apiv3_key.decode("ascii")})


def _read_keys(path: Path) -> SandboxKeys:
    data = json.loads(path.read_text("utf-8"))
    return SandboxKeys(merchant=load_private_key(data["merchant"]), platform=load_private_key(data["platform"]),
                       app=load_private_key(data["app"]), alipay=load_private_key(data["alipay"]),
                       apiv3_key=data["apiv3_key"].encode("ascii"))


def _read_keys_patiently(path: Path, wait_s: float = 5.0) -> SandboxKeys:
    """Read the key file; a file being written by another process (no hard links) is waited for."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _read_keys(path)
        except (ValueError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def load_or_create_keys(directory: Path) -> SandboxKeys:
    """The sandbox keys kept in ``directory``: created once, the same in every process.

    Written to a temporary file, then published with ``os.link`` (atomic, and it never replaces
    an existing file): when two processes race, the first link wins and the other discards its
    own keys and reads the winner's, so no two processes ever hold different keys (``os.replace``
    would let the loser keep keys nobody else has). On a filesystem without hard links we fall
    back to an exclusive create of the final file, which readers wait for until it is complete.
    """
    path = directory / KEY_FILE
    if path.exists():
        return _read_keys_patiently(path)
    directory.mkdir(parents=True, exist_ok=True)
    keys = SandboxKeys(merchant=generate_rsa_key(), platform=generate_rsa_key(), app=generate_rsa_key(),
                       alipay=generate_rsa_key(), apiv3_key=os.urandom(16).hex().encode("ascii"))
    text = _keys_json(keys)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process published first: use its keys
        except OSError:
            _create_exclusive(path, text)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return _read_keys_patiently(path)


def _create_exclusive(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def sandbox_sync(payment: Any) -> None:
    """Sandbox mode: make this process's simulator know ``payment`` (a ``Payment`` row) as we do.

    A trade created (or paid) in another process is registered here from the row: unpaid for a
    created or closed payment, paid with its transaction id for a paid one. No-op in production.
    """
    if not is_sandbox() or payment.provider not in ADAPTER:
        return
    world = sandbox_world()
    no = payment.out_trade_no
    if payment.provider == "wechat":
        wsb = world.wechatpay_sandbox
        if no in wsb.orders:
            return
        params = payment.client_params or {}
        package = str(params.get("package", ""))
        order = WeChatOrder(no, payment.amount_fen, f"o2o {no}", notify_url("wechat"), payment.expires_at,
                            "JSAPI" if package else "MWEB", "", package.removeprefix("prepay_id="), {})
        if payment.status == "paid":
            order.status, order.transaction_id = "SUCCESS", payment.transaction_id
            order.paid_at, order.paid_fen = payment.paid_at, payment.amount_fen
        wsb.orders.setdefault(no, order)
        return
    asb = world.alipay_sandbox
    if no in asb.orders:
        return
    order_string = (payment.client_params or {}).get("order_string")
    if not order_string:
        return
    try:
        asb.open(order_string)
    except ValueError:
        return
    trade = asb.orders[no]
    if payment.status == "paid":
        trade.status, trade.paid_at, trade.paid_fen = "TRADE_SUCCESS", payment.paid_at, payment.amount_fen
        trade.trade_no = payment.transaction_id or trade.trade_no


def sandbox_pay(payment: Any, *, amount_fen: int | None = None) -> tuple[dict[str, str], bytes]:
    """The buyer pays ``payment`` in the sandbox: the signed notification the provider would POST."""
    world = sandbox_world()
    sandbox_sync(payment)
    sandbox = world.sandboxes[ADAPTER[payment.provider]]
    if payment.out_trade_no not in sandbox.orders:
        raise Conflict("沙箱中无此交易 The sandbox does not know this trade", code="sandbox_cannot_pay",
                       details={"out_trade_no": payment.out_trade_no})
    try:
        return sandbox.pay(payment.out_trade_no, amount_fen=amount_fen)
    except ValueError as exc:
        raise Conflict(f"沙箱拒绝支付 The sandbox refuses to pay: {exc}", code="sandbox_cannot_pay",
                       details={"out_trade_no": payment.out_trade_no}) from None


# --- production -------------------------------------------------------------------------------

WECHAT_ENV = ("O2O_WECHATPAY_MCHID", "O2O_WECHATPAY_APPID", "O2O_WECHATPAY_SERIAL_NO",
              "O2O_WECHATPAY_PRIVATE_KEY_PATH", "O2O_WECHATPAY_PLATFORM_SERIAL_NO",
              "O2O_WECHATPAY_PLATFORM_CERT_PATH", "O2O_WECHATPAY_APIV3_KEY")
ALIPAY_ENV = ("O2O_ALIPAY_APP_ID", "O2O_ALIPAY_PRIVATE_KEY_PATH", "O2O_ALIPAY_PUBLIC_KEY_PATH")


def _need(env: Mapping[str, str], names: tuple[str, ...], provider: str) -> None:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise PaymentsUnavailable("支付渠道未配置 Payment provider not configured", code="payments_unconfigured",
                                  details={"provider": provider, "missing": missing})


def production_gateway(provider: str, env: Mapping[str, str] | None = None) -> PaymentGateway:
    """A gateway for real money, from environment variables (never cached here: see ``payment_gateway``)."""
    env = os.environ if env is None else env
    timeout = float(env.get("O2O_PAYMENT_HTTP_TIMEOUT_S", "10"))
    if provider == "wechat":
        _need(env, WECHAT_ENV, provider)
        return WeChatPay(mchid=env["O2O_WECHATPAY_MCHID"], appid=env["O2O_WECHATPAY_APPID"],
                         merchant_serial_no=env["O2O_WECHATPAY_SERIAL_NO"],
                         merchant_private_key=Path(env["O2O_WECHATPAY_PRIVATE_KEY_PATH"]).read_bytes(),
                         platform_serial_no=env["O2O_WECHATPAY_PLATFORM_SERIAL_NO"],
                         platform_public_key=Path(env["O2O_WECHATPAY_PLATFORM_CERT_PATH"]).read_bytes(),
                         apiv3_key=env["O2O_WECHATPAY_APIV3_KEY"].encode("ascii"),
                         transport=UrllibTransport(timeout), base_url=env.get("O2O_WECHATPAY_BASE_URL")
                         or "https://api.mch.weixin.qq.com")
    if provider == "alipay":
        _need(env, ALIPAY_ENV, provider)
        product = env.get("O2O_ALIPAY_PRODUCT", "wap")
        return Alipay(app_id=env["O2O_ALIPAY_APP_ID"],
                      app_private_key=Path(env["O2O_ALIPAY_PRIVATE_KEY_PATH"]).read_bytes(),
                      alipay_public_key=Path(env["O2O_ALIPAY_PUBLIC_KEY_PATH"]).read_bytes(),
                      transport=UrllibTransport(timeout),
                      gateway=env.get("O2O_ALIPAY_GATEWAY") or "https://openapi.alipay.com/gateway.do",
                      product="app" if product == "app" else "wap", return_url=env.get("O2O_ALIPAY_RETURN_URL") or None)
    raise unknown_provider(provider)
