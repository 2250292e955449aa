"""HQ pages, mounted at /hq/ (namespace "hq"); master data is in the Django admin at /admin/."""

from django.urls import path

from o2o.web.hq import notifications, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("notifications", notifications.notifications, name="notifications"),
]
