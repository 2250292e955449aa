from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "o2o.demo"
    label = "demo"
