"""Request guards that apply to the whole site: the API and the web pages."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware


class RejectNulMiddleware:
    """NUL characters are never valid text here (PostgreSQL refuses them, SQLite keeps them):
    refuse them up front, the same on every database: the API's JSON error shape (422) on /api/, the
    site's error page (400) on the web pages, where a form posts them percent-encoded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "").lower()
        # Uploaded files (the admin's CSV/Excel import) are binary: only text bodies are checked.
        multipart = request.content_type == "multipart/form-data"
        body = request.body if request.method in ("POST", "PUT", "PATCH") and not multipart else b""
        if not request.path.startswith("/api/"):
            # A multipart form's text fields are checked once parsed (its files are left alone).
            fields = (v for _key, values in request.POST.lists() for v in values) if multipart else ()
            if ("%00" in query or "\x00" in request.path or b"\x00" in body or b"%00" in body
                    or any("\x00" in v for v in fields)):
                from o2o.web.views import bad_request

                return bad_request(request)
        else:
            if "%00" in query or "\x00" in request.path or b"\x00" in body or b"\\u0000" in body.lower():
                return JsonResponse(
                    {"code": "invalid_characters", "message": "请求包含空字符 The request contains NUL characters",
                     "details": {}},
                    status=422,
                )
        return self.get_response(request)


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese first: the site speaks zh-Hans until the visitor picks English with the language button.

    Django's own middleware would follow the browser's Accept-Language, so a phone set to English
    would open an English storefront; here only the language cookie (set by ``/i18n/setlang/``)
    switches the language.
    """

    def process_request(self, request: HttpRequest) -> None:
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
