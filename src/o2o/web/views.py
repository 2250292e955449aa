"""The site's front door and its error pages (never a traceback, whatever DEBUG says)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        import json

        body = {"code": {400: "bad_request", 403: "forbidden", 404: "not_found"}.get(status, "server_error"),
                "message": message, "details": {}}
        return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    try:
        html = loader.render_to_string("web/error.html", {"status": status, "message": message}, request)
    except Exception:  # noqa: BLE001 - the error page itself must never fail into a traceback
        html = f"<!doctype html><meta charset='utf-8'><h1>{status}</h1><p>{message}</p>"
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("请求无效。"))


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("没有权限查看这个页面。"))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, _("页面不存在，或者你没有权限查看。"))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, _("服务器出错了，我们已经记录下来。请稍后再试。"))
