from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "o2o.profiles"
    label = "profiles"
    verbose_name = "用户画像 Profiles"

    def ready(self) -> None:
        from o2o.profiles import privacy  # noqa: F401 - connects the PIPL export/deletion receivers
