from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "o2o.experiments"
    label = "experiments"
    verbose_name = "A/B 实验 Experiments"
