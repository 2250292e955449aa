"""Request guards that apply to the whole API."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


class RejectNulMiddleware:
    """NUL characters are never valid text here (PostgreSQL refuses them, SQLite keeps them):
    refuse them up front with the API's error shape, the same on every database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            query = request.META.get("QUERY_STRING", "").lower()
            body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
            if "%00" in query or "\x00" in request.path or b"\x00" in body or b"\\u0000" in body.lower():
                return JsonResponse(
                    {"code": "invalid_characters", "message": "请求包含空字符 The request contains NUL characters",
                     "details": {}},
                    status=422,
                )
        return self.get_response(request)
