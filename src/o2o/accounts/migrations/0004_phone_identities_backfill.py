"""Every member's phone becomes their phone identity (OneID); of members sharing a phone, the oldest gets it.

The identity reuses the member's ciphertext (same field, ``member.phone``) and blind index, so nothing is
decrypted here. Legacy members signed in on the H5 storefront: that is the identity's channel.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Member = apps.get_model("accounts", "Member")
    MemberIdentity = apps.get_model("accounts", "MemberIdentity")
    taken = set(MemberIdentity.objects.filter(kind="phone").values_list("value_index", flat=True))
    rows = []
    for m in Member.objects.exclude(phone_index="").order_by("pk").iterator(chunk_size=1000):
        if m.phone_index in taken:
            continue
        taken.add(m.phone_index)
        rows.append(MemberIdentity(member_id=m.pk, kind="phone", app_id="", value_enc=m.phone_enc,
                                   value_index=m.phone_index, value_masked=m.phone_masked, channel="h5",
                                   first_seen_at=m.created_at, last_seen_at=m.created_at))
    MemberIdentity.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_member_identities"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
