from django.db import migrations, models


def forget_earlier_answers(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Answers kept before this change have no fingerprint to check a retry against; they
    # only ever live a day, so they are dropped rather than guessed at.
    apps.get_model("api", "IdempotentRequest").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("api", "0001_api_tokens")]

    operations = [
        migrations.RunPython(forget_earlier_answers, migrations.RunPython.noop),
        migrations.RemoveField(model_name="idempotentrequest", name="body"),
        migrations.AddField(
            model_name="idempotentrequest",
            name="fingerprint",
            field=models.CharField(
                default="",
                help_text="SHA-256 of the method, path and body: a reused key must match.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotentrequest",
            name="content",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotentrequest",
            name="content_type",
            field=models.CharField(default="application/json", max_length=100),
            preserve_default=False,
        ),
    ]
