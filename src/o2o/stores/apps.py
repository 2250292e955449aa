from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "o2o.stores"
    label = "stores"
    verbose_name = "门店网络 Store network"
