"""Every charge point gets a public code for its QR sticker.

Three steps so that existing rows get a code each (a column default would
give them all the same one): add the column empty, fill it row by row, then
make it required and unique.
"""

from django.db import migrations, models

import chargepoints.models


def fill_public_codes(apps, schema_editor):
    ChargePoint = apps.get_model("chargepoints", "ChargePoint")
    taken = set(ChargePoint.objects.exclude(public_code=None).values_list("public_code", flat=True))
    batch = []
    for cp in ChargePoint.objects.filter(public_code=None).only("pk").iterator(chunk_size=2000):
        code = chargepoints.models.generate_public_code()
        while code in taken:
            code = chargepoints.models.generate_public_code()
        taken.add(code)
        cp.public_code = code
        batch.append(cp)
        if len(batch) >= 2000:
            ChargePoint.objects.bulk_update(batch, ["public_code"])
            batch = []
    if batch:
        ChargePoint.objects.bulk_update(batch, ["public_code"])


class Migration(migrations.Migration):
    dependencies = [("chargepoints", "0004_connectors")]

    operations = [
        migrations.AddField(
            model_name="chargepoint",
            name="public_code",
            field=models.CharField(max_length=16, null=True, editable=False),
        ),
        migrations.RunPython(fill_public_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="chargepoint",
            name="public_code",
            field=models.CharField(
                default=chargepoints.models.generate_public_code,
                editable=False,
                help_text="The code on the charge point's QR sticker: drivers report at /r/<code>/.",
                max_length=16,
                unique=True,
            ),
        ),
    ]
