"""Re-encrypt personal data under the current key (O2O_PII_KEYS: the first key encrypts)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.accounts.identities import rotate_identities
from o2o.accounts.pii_services import rotate_member_phones


class Command(BaseCommand):
    help = "用当前密钥重新加密个人信息 Re-encrypt personal data under the current key"

    def handle(self, *args, **opts) -> None:
        self.stdout.write(f"re-encrypted {rotate_member_phones()} member phones")
        self.stdout.write(f"re-encrypted {rotate_identities()} member identities")
