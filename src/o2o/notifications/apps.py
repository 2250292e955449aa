from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "o2o.notifications"
    label = "notifications"
    verbose_name = "消息通知 Notifications"

    def ready(self) -> None:
        from o2o.notifications import privacy  # noqa: F401 - PIPL export and deletion receivers
