from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "o2o.reviews"
    label = "reviews"
    verbose_name = "商品评价 Reviews"

    def ready(self) -> None:
        from o2o.reviews import merging, privacy  # noqa: F401 - OneID merge and PIPL export/deletion receivers
