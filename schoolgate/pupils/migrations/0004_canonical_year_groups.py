"""Year groups get one name each; files uploaded under the old import (kept as text) are to be uploaded again."""

from django.db import migrations


def cancel_unconfirmed_runs(apps, schema_editor):
    # Their decoded text is about to go: a file uploaded but not yet imported has to be uploaded again.
    ImportRun = apps.get_model("pupils", "ImportRun")
    ImportRun.objects.filter(status__in=["invalid", "validated"], confirmed_at=None).update(status="cancelled")
    ImportRun.objects.filter(status__in=["validated", "applying"]).exclude(confirmed_at=None).update(
        status="failed",
        problems=[
            {
                "line": None,
                "column": "",
                "message": "Schoolgate was updated before this import ran; upload the file again.",
            }
        ],
    )


def canonical_year_groups(apps, schema_editor):
    # "Year 4" beside "4" was one year shown twice: every value Schoolgate recognises gets its one name;
    # a value it does not recognise stays as it was (the next import from the information system refuses it).
    from schoolgate.pupils import year_groups

    Pupil = apps.get_model("pupils", "Pupil")
    values = Pupil.objects.exclude(year_group="").values_list("year_group", flat=True).distinct()
    for value in list(values):
        name = year_groups.canonical(value)
        if name and name != value:
            Pupil.objects.filter(year_group=value).update(year_group=name)


class Migration(migrations.Migration):
    dependencies = [
        ("pupils", "0003_consent"),
    ]

    operations = [
        migrations.RunPython(cancel_unconfirmed_runs, migrations.RunPython.noop),
        migrations.RunPython(canonical_year_groups, migrations.RunPython.noop),
    ]
