"""Django settings.

SQLite (a WAL-mode file under ``var/``) is the embedded default for the demo; production
and the PostgreSQL test suite set ``DATABASE_URL`` (psycopg 3).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(os.environ.get("O2O_HOME", Path(__file__).resolve().parents[3]))
VAR_DIR = Path(os.environ.get("O2O_VAR_DIR", BASE_DIR / "var"))
DATA_DIR = Path(os.environ.get("O2O_DATA_DIR", BASE_DIR.parent / "shared" / "data"))

SECRET_KEY = os.environ.get("O2O_SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
# Off unless asked for: no page, the demo's included, ever shows a traceback (O2O_DEBUG=1 for development).
DEBUG = os.environ.get("O2O_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("O2O_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "unfold",  # the admin's theme (before django.contrib.admin)
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the Swagger UI from its own static files, never a CDN
    "django_htmx",
    "import_export",
    "o2o.stores",
    "o2o.accounts",
    "o2o.catalog",
    "o2o.inventory",
    "o2o.fulfilment",
    "o2o.outbox",
    "o2o.orders",
    "o2o.members",
    "o2o.reviews",
    "o2o.profiles",
    "o2o.notifications",
    "o2o.marketing",
    "o2o.experiments",
    "o2o.groupbuy",
    "o2o.demo",
    "o2o.web",
    "o2o.config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "o2o.config.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "o2o.config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "o2o.config.urls"
WSGI_APPLICATION = "o2o.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=int(os.environ.get("O2O_CONN_MAX_AGE", "60")))
        if db["ENGINE"].endswith("postgresql"):
            db.setdefault("OPTIONS", {})
        if db["ENGINE"].endswith("sqlite3"):
            db.setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
        return {"default": db}
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("O2O_SQLITE_PATH", str(VAR_DIR / "o2o.sqlite3")),
            "OPTIONS": dict(_SQLITE_OPTIONS),
            "TEST": {"NAME": os.environ.get("O2O_SQLITE_TEST_PATH")} if os.environ.get("O2O_SQLITE_TEST_PATH") else {},
        }
    }


# IMMEDIATE transactions take SQLite's write lock up front, so two writers never deadlock
# upgrading a read lock; WAL lets readers run beside the single writer.
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}

DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves it (empty unless `collectstatic` ran)
# Front-end files installed by `make setup` (npm), served by WhiteNoise from the finders: no CDN,
# no collectstatic needed for the demo (production may still collect them).
STATICFILES_DIRS = [("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist")]
WHITENOISE_USE_FINDERS = True
# Look static files up per request instead of scanning every app's files when the middleware starts:
# the scan costs ~50 ms, paid by every test client. A production deployment runs `collectstatic` and
# sets O2O_STATIC_SCAN_ONCE=1 (one scan per worker process, long-lived cache headers).
WHITENOISE_AUTOREFRESH = os.environ.get("O2O_STATIC_SCAN_ONCE", "0") != "1"
LOGIN_URL = "/console/login"
# Spreadsheet cells starting with "=" are exported as text, never run as formulas by Excel.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"o2o": {"handlers": ["console"], "level": os.environ.get("O2O_LOG_LEVEL", "INFO")}},
}

# US dollars to yuan, for pricing the imported Complete Journey catalog.
O2O_USD_CNY = float(os.environ.get("O2O_USD_CNY", "7.2"))

# --- o2o settings -------------------------------------------------------------------------
O2O = {
    # Largest POS batch accepted in one request.
    "POS_MAX_BATCH": 1000,
    # Default lifetime of a reservation (cart hold / unpaid order), seconds.
    "RESERVATION_TTL_S": 15 * 60,
    # How far a customer is expected to travel for a pickup, metres.
    "PICKUP_REACH_M": 10_000,
    # Largest number of lines in one availability or reservation request.
    "MAX_BASKET_LINES": 100,
    # --- orders (docs/orders.md and the pages it links) ---
    # Unpaid orders hold their stock this long, then `o2o expire-orders` puts it back.
    "ORDER_PAYMENT_WINDOW_S": 15 * 60,
    # A paid order's holds last this long (until the store picks).
    "ORDER_PAID_HOLD_S": 7 * 24 * 3600,
    # What the customer pays for delivery (fen); free from `free_over_fen` of goods.
    "DELIVERY_FEES": {"pickup": 0, "same_city": 600, "express": 1000, "free_over_fen": 9900},
    # Discount steps of the checkout (dotted paths of o2o.core.orders.PricingStep classes).
    "PRICING_STEPS": ["o2o.members.pricing_steps.TierBenefits"],  # for the plain engine (orders.pricing.steps_engine)
    # Tier discount, promotions, coupons and points with explicit stacking rules (o2o.marketing.pricing).
    "PRICING_ENGINE": "o2o.marketing.pricing.marketing_engine",
    # The storefront home's hero is a page-element A/B experiment when one with this key runs (o2o.experiments).
    "HOME_HERO_EXPERIMENT": "home-hero",
    "PRICING_POLICY": {"stages": ["tier", "promotion", "coupon", "points"], "promotions": "all", "max_coupons": 1,
                       "coupon_on_promoted_lines": True, "tier_on_promoted_lines": True,
                       "points_on_delivery": False},
    # Pickup: how long a ready order waits, and what happens after ("cancel" refunds, "keep" alerts).
    "PICKUP_HOLD_HOURS": 72,
    "PICKUP_EXPIRED_POLICY": "cancel",
    "PICKUP_MAX_FAILURES_PER_HOUR": 20,
    # Payment gateways: "sandbox" (local simulators, shared test keys) or "production" (env, docs/payments.md).
    "PAYMENTS": {"mode": os.environ.get("O2O_PAYMENTS_MODE", "sandbox")},
    # Couriers: "simulator" or "production" (env, docs/delivery.md); the order tried on (re-)dispatch.
    "COURIERS": {"mode": os.environ.get("O2O_COURIERS_MODE", "simulator"), "order": ["dada", "sf", "own"]},
    # Group buying (o2o.groupbuy): a waiting paid order's stock stays held this long past its group's expiry.
    "GROUPBUY": {"HOLD_MARGIN_S": 3600},
    # Handlers of the transactional outbox's events.
    "OUTBOX_HANDLERS": ["o2o.outbox.handlers.log_event", "o2o.members.handlers.on_order_event",
                        "o2o.marketing.handlers.on_order_event",
                        "o2o.groupbuy.handlers.on_order_event", "o2o.marketing.triggers.on_order_event"],
    # Notifications (o2o.notifications.config): per channel "simulator" (local providers), "production"
    # (credentials from the environment) or "off"; the marketing cap per member per China day; quiet hours
    # (China time) for marketing; deliveries tried per message; template overrides per kind.
    "NOTIFY": {
        "backends": {c: os.environ.get("O2O_NOTIFY_BACKEND", "simulator") for c in ("sms", "wechat", "push")},
        "daily_cap": 2,
        "quiet_hours": ["21:00", "09:00"],
        "max_attempts": 5,
        "wechat_app_id": os.environ.get("O2O_WECHAT_MP_APPID", ""),
        "templates": {},
    },
    # Triggers of `o2o run-triggers` (o2o.marketing.triggers).
    "TRIGGERS": {"ABANDONED_CART_MIN": 120, "ABANDONED_CART_MAX_AGE_H": 72, "REPURCHASE_MIN_ORDERS": 3,
                 "PICKUP_DEADLINE_H": 4, "APPOINTMENT_REMIND_H": 24, "COUPON_EXPIRING_DAYS": 3},
}

# The admin's theme (django-unfold): its settings live with the HQ pages.
from o2o.web.hq.unfold_settings import UNFOLD  # noqa: E402,F401
