"""One-time sign-in codes: sent by SMS, checked against the visitor's session.

``O2O["SMS"]["mode"]``: ``"sandbox"`` (the default, for the demo and tests: nothing is sent, the page
shows the code in place of a text message) or ``"sms"``: the code goes out at once through the
notification SMS channel (:func:`deliver`: Aliyun Dysms with the ``login_code`` template, or its local
simulator while ``O2O["NOTIFY"]["backends"]["sms"]`` is ``"simulator"``), never queued, capped or held
for quiet hours. A provider refusal forgets the code, so the visitor can ask again at once.

The session holds the phone, an HMAC of the code (never the code itself, except in sandbox
mode), its expiry and the tries left:
a code lives ``TTL_S`` seconds and allows ``MAX_TRIES`` wrong entries, then a new one is needed.
A new code for the same phone is issued at most every ``RESEND_S`` seconds.

The session's limits alone would reset with a new cookie, so each phone also has hourly counters
in Django's cache (shared by every process once the cache is Redis, per process with the default
local-memory cache): at most ``PHONE_SENDS_PER_HOUR`` codes sent and ``PHONE_FAILS_PER_HOUR`` wrong
codes per phone, whatever the session, and at most ``IP_SENDS_PER_HOUR`` codes from one address. A
six-digit code then takes ~100,000 hours to guess. In ``"sms"`` mode configure a shared cache (Redis),
or each worker process keeps its own counters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from enum import StrEnum

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache

SESSION_SMS = "shop_sms"
TTL_S = 5 * 60
MAX_TRIES = 5
RESEND_S = 60
PHONE_SENDS_PER_HOUR = 10
IP_SENDS_PER_HOUR = 30
PHONE_FAILS_PER_HOUR = 10


class Check(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY = "too_many"
    NONE = "none"  # no code was asked for this phone


def sandbox() -> bool:
    return settings.O2O.get("SMS", {}).get("mode", "sandbox") == "sandbox"


def deliver(phone: str, code: str) -> bool:
    """Send ``code`` to ``phone`` now; False when the SMS channel is off, unconfigured or refuses."""
    from o2o.adapters.notify.base import NotifyError
    from o2o.notifications import backends, config

    if not backends.available("sms"):
        return False
    template = config.template("login_code")
    try:
        backends.adapter("sms").send_sms(phone_numbers=phone, template_code=template.sms_code,
                                         template_params={"code": code})
    except (NotifyError, backends.Unreachable, OSError):
        return False
    return True


def forget(session: SessionBase, phone: str, ip: str | None = None) -> None:
    """Drop the code just issued (it could not be sent): it does not count against the caps either."""
    session.pop(SESSION_SMS, None)
    for kind, who in (("sent", phone), ("ip", ip)):
        if who:
            try:
                cache.decr(_counter(kind, who))
            except ValueError:  # expired meanwhile
                pass


def _counter(kind: str, phone: str) -> str:
    return "shop-sms:" + kind + ":" + hashlib.sha256(f"{settings.SECRET_KEY}:{phone}".encode()).hexdigest()[:32]


def _count(kind: str, phone: str) -> int:
    return int(cache.get(_counter(kind, phone), 0))


def _bump(kind: str, phone: str) -> int:
    key = _counter(kind, phone)
    cache.add(key, 0, timeout=3600)  # the hour starts at the first event
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        return 1


def _digest(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"shop-sms:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(session: SessionBase, phone: str, now: float | None = None, *,
          ip: str | None = None) -> tuple[str | None, int]:
    """(the new code, or None when one was sent less than ``RESEND_S`` ago or a cap is reached; seconds
    to wait). ``ip``: the visitor's address, at most ``IP_SENDS_PER_HOUR`` codes an hour from it, whatever
    the phones (fresh cookies and many numbers: SMS pumping)."""
    now = time.time() if now is None else now
    held = session.get(SESSION_SMS)
    usable = isinstance(held, dict) and held.get("expires", 0) > now and held.get("tries", 0) < MAX_TRIES
    if usable and held.get("phone") == phone and now - held.get("sent", 0) < RESEND_S:
        return None, int(RESEND_S - (now - held.get("sent", 0)))
    if _count("sent", phone) >= PHONE_SENDS_PER_HOUR:
        return None, 3600
    if ip and _count("ip", ip) >= IP_SENDS_PER_HOUR:
        return None, 3600
    _bump("sent", phone)
    if ip:
        _bump("ip", ip)
    code = f"{secrets.randbelow(10**6):06d}"
    session[SESSION_SMS] = {"phone": phone, "hash": _digest(phone, code), "sent": now, "expires": now + TTL_S,
                            "tries": 0, **({"sandbox_code": code} if sandbox() else {})}
    return code, 0


def sandbox_code(session: SessionBase, phone: str) -> str | None:
    """The live code to show in the sandbox box (sandbox mode only)."""
    held = session.get(SESSION_SMS)
    if not sandbox() or not isinstance(held, dict) or held.get("phone") != phone:
        return None
    if held.get("expires", 0) <= time.time() or held.get("tries", 0) >= MAX_TRIES:
        return None
    return held.get("sandbox_code")


def verify(session: SessionBase, phone: str, code: str, now: float | None = None) -> Check:
    now = time.time() if now is None else now
    held = session.get(SESSION_SMS)
    if not isinstance(held, dict) or held.get("phone") != phone:
        return Check.NONE
    if held.get("expires", 0) <= now:
        session.pop(SESSION_SMS, None)
        return Check.EXPIRED
    if held.get("tries", 0) >= MAX_TRIES or _count("failed", phone) >= PHONE_FAILS_PER_HOUR:
        return Check.TOO_MANY
    if hmac.compare_digest(held.get("hash", ""), _digest(phone, code)):
        session.pop(SESSION_SMS, None)
        return Check.OK
    held["tries"] = held.get("tries", 0) + 1
    session[SESSION_SMS] = held
    if _bump("failed", phone) >= PHONE_FAILS_PER_HOUR:
        return Check.TOO_MANY
    return Check.TOO_MANY if held["tries"] >= MAX_TRIES else Check.WRONG
