from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "o2o.members"
    label = "members"
    verbose_name = "会员 Members"
