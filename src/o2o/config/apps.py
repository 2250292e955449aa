from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "o2o.config"
    label = "o2o_config"
    verbose_name = "o2o"
