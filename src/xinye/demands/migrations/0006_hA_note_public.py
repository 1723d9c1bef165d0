"""A handler's note typed with a status change is internal unless they ticked "the submitter sees the note"
(issue 16, item 2). Until now the box was ignored for status changes, so what an old note was meant to be is
unknown: old handler notes on status changes (rejections excepted, their reason is owed to the submitter)
are made internal; handlers still see them."""

from django.db import migrations, models


def hide_old_handler_notes(apps, schema_editor):
    DemandEvent = apps.get_model("demands", "DemandEvent")
    old = (
        DemandEvent.objects.filter(kind="status", actor__isnull=False)
        .exclude(note="")
        .exclude(actor_label="submitter")
        .exclude(to_status="rejected")
    )
    ids = list(old.values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        DemandEvent.objects.filter(pk__in=ids[start : start + 1000]).update(note_public=False)


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0005_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="demandevent",
            name="note_public",
            field=models.BooleanField(default=True),
        ),
        # reverse: the column goes away with the field, nothing else to undo
        migrations.RunPython(hide_old_handler_notes, migrations.RunPython.noop),
    ]
