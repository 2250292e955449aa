from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "o2o.marketing"
    label = "marketing"
    verbose_name = "营销 Marketing"

    def ready(self) -> None:
        from o2o.marketing import merging, privacy, receivers  # noqa: F401 - order_priced, OneID and PIPL receivers
