from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "o2o.profiles"
    label = "profiles"
    verbose_name = "用户画像 Profiles"
