"""URL map: the admin, the API (/api/v1, docs at /api/docs) and a home page."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from o2o.config.api import api


def home(request: HttpRequest) -> HttpResponse:
    html = (
        "<!doctype html><html lang='zh-hans'><meta charset='utf-8'><title>o2o</title>"
        "<h1>o2o 全渠道零售</h1><ul>"
        "<li><a href='/admin/'>管理后台 Admin</a></li>"
        "<li><a href='/api/docs'>API 文档 API docs</a></li>"
        "</ul></html>"
    )
    return HttpResponse(html)


urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", lambda request: redirect("/api/v1/docs"), name="api-docs"),
]
