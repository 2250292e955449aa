from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "o2o.profiles"
    label = "profiles"
    verbose_name = "用户画像 Profiles"

    def ready(self) -> None:
        # connects the receivers: PIPL export/deletion, OneID merge, the cart's cart_line_added (behaviour events)
        from o2o.profiles import events, merging, privacy  # noqa: F401
