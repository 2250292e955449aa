from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "o2o.outbox"
    label = "outbox"
    verbose_name = "事件发件箱 Event outbox"
