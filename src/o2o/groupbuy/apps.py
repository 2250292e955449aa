from django.apps import AppConfig


class GroupbuyConfig(AppConfig):
    name = "o2o.groupbuy"
    label = "groupbuy"
    verbose_name = "拼团与社区团购 Group buying"

    def ready(self) -> None:
        from o2o.groupbuy import privacy  # noqa: F401 - the member export and deletion receivers
