"""Notification adapters: Aliyun SMS (Dysms ``SendSms``), WeChat subscribe messages, JPush app push.

Pure (no Django): each builds and signs its provider's request, sends it through an injected
transport and reads the answer into a :class:`~o2o.adapters.notify.base.SendResult` or a
:class:`~o2o.adapters.notify.base.ProviderError` that says whether a retry may help.
:mod:`o2o.adapters.notify.simulator` plays the three providers locally for tests and the demo.
"""

from .aliyun_sms import AliyunSms
from .base import NotifyError, ProviderError, SendResult, Transport
from .jpush import JPush
from .wechat_subscribe import WeChatSubscribe

__all__ = ["AliyunSms", "JPush", "NotifyError", "ProviderError", "SendResult", "Transport", "WeChatSubscribe"]
