"""The web pages: the storefront (/shop/), the store console (/console/) and HQ pages (/hq/)."""

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from o2o.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("shop/", include(("o2o.web.shop.urls", "shop"))),
    path("console/", include(("o2o.web.console.urls", "console"))),
    path("hq/", include(("o2o.web.hq.urls", "hq"))),
]
