"""The HTTP API: django-ninja under /api/v1, one error shape for everything a client can cause."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from o2o.accounts.api import router as accounts_router
from o2o.accounts.auth import API_AUTH
from o2o.catalog.api import router as catalog_router
from o2o.common.errors import ApiError
from o2o.experiments.api import router as experiments_router
from o2o.fulfilment.api import router as fulfilment_router
from o2o.groupbuy.api import router as groupbuy_router
from o2o.inventory.api import router as inventory_router
from o2o.inventory.pos_api import router as pos_router
from o2o.marketing.api import members_router as marketing_members_router
from o2o.marketing.api import router as coupons_router
from o2o.marketing.appointments import router as appointments_router
from o2o.members.api import router as members_router
from o2o.notifications.api import router as notifications_router
from o2o.orders.api.cart import router as cart_router
from o2o.orders.api.delivery import router as delivery_router
from o2o.orders.api.orders import router as orders_router
from o2o.orders.api.payments import router as payments_router
from o2o.orders.api.pos import router as pos_orders_router
from o2o.orders.api.returns import router as returns_router
from o2o.orders.api.store import router as store_router
from o2o.profiles.api import router as profiles_router
from o2o.profiles.api import segments_router
from o2o.profiles.api_lookup import router as lookup_router
from o2o.reviews.api import router as reviews_router
from o2o.stores.api import router as stores_router

log = logging.getLogger("o2o.api")

api = NinjaAPI(
    title="o2o API",
    version="1",
    description="One inventory, one member and one order center for online and in-store retail. "
    "Errors are JSON `{code, message, details}`; money is integer fen; coordinates are GCJ-02.",
    urls_namespace="api-v1",
    docs_url="/docs",
    auth=API_AUTH,
)


def _error(request: HttpRequest, status: int, code: str, message: str, details=None) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "details": details or {}}, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    return _error(request, 422, "invalid", "请求参数有误 Invalid request", {"errors": errors})


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "请先登录 Sign in first")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "malformed_request" if exc.status_code == 400 else "http_error"
    return _error(request, exc.status_code, code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "未找到 Not found")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", "无权访问 Not allowed here")


@api.exception_handler(DjangoValidationError)
def _django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _error(request, 422, "invalid", "请求参数有误 Invalid request", {"errors": exc.messages})


@api.exception_handler(DataError)
@api.exception_handler(OverflowError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A number or date beyond what the database stores, or a character it refuses (NUL):
    # the client's input, and the transaction it was in has rolled back.
    log.info("input out of range: %s", exc)
    return _error(request, 422, "out_of_range", "数值或字符超出范围 A value is out of range or has invalid characters")


# PostgreSQL's "try again" states: deadlock detected, serialization failure, lock not available.
_RETRYABLE_SQLSTATES = {"40P01", "40001", "55P03"}


@api.exception_handler(OperationalError)
def _db_busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        # The transaction was rolled back whole; the same request (same Idempotency-Key) may be sent again.
        log.warning("retryable database conflict %s: %s", sqlstate, exc)
        return _error(request, 409, "retry", "并发冲突，请重试 Concurrent update; send the request again",
                      {"sqlstate": sqlstate})
    log.exception("database unavailable")
    return _error(request, 503, "database_unavailable", "数据库暂不可用 The database is unavailable")


@api.exception_handler(IntegrityError)
def _db_conflict(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A constraint caught something validation missed: still the client's input, never a 500.
    log.warning("database refused a request: %s", exc)
    return _error(request, 409, "constraint_violation", "数据冲突 The request conflicts with stored data")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled API error")
    return _error(request, 500, "server_error", "服务器内部错误 Internal error")


api.add_router("/auth", accounts_router)
api.add_router("/catalog", catalog_router)
api.add_router("/locations", stores_router)
api.add_router("/inventory", inventory_router)
api.add_router("/pos", pos_router)
api.add_router("/fulfilment", fulfilment_router)
api.add_router("/", cart_router)
api.add_router("/orders", orders_router)
api.add_router("/payments", payments_router)
api.add_router("/store", store_router)
api.add_router("/delivery", delivery_router)
api.add_router("/returns", returns_router)
api.add_router("/pos/orders", pos_orders_router)
api.add_router("/members", members_router)
api.add_router("/members", profiles_router)
api.add_router("/members", lookup_router)  # staff look-up by phone / member code / card
api.add_router("/segments", segments_router)
api.add_router("/members", marketing_members_router)
api.add_router("/members", "o2o.marketing.api_birthday.router")  # the birthday for birthday coupons
api.add_router("/coupons", coupons_router)
api.add_router("/notifications", notifications_router)
api.add_router("/appointments", appointments_router)
api.add_router("/groupbuy", groupbuy_router)
api.add_router("/experiments", experiments_router)
api.add_router("/reviews", reviews_router)
