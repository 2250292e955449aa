"""URL map: the web pages (storefront, console, HQ), the admin and the API (/api/v1, docs at /api/docs)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from o2o.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", lambda request: redirect("/api/v1/docs"), name="api-docs"),
    path("", include("o2o.web.urls")),
]

handler400 = "o2o.web.views.bad_request"
handler403 = "o2o.web.views.forbidden"
handler404 = "o2o.web.views.not_found"
handler500 = "o2o.web.views.server_error"
