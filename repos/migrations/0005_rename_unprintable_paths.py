"""Rename stored file paths that the path rules now refuse (a line break in a folder name made
every page of its repository fail). Each is renamed to ``repos.paths.repaired(path)``, with
``-2``, ``-3`` … before the extension if that name is taken in the same revision."""

import posixpath

from django.core.exceptions import ValidationError
from django.db import migrations, models

import repos.paths


def _is_valid(path):
    try:
        repos.paths.validate_path(path)
    except ValidationError:
        return False
    return True


def rename_unprintable_paths(apps, schema_editor):
    RevisionFile = apps.get_model("repos", "RevisionFile")
    bad = [
        (pk, revision_id, path)
        for pk, revision_id, path in RevisionFile.objects.values_list(
            "pk", "revision_id", "path"
        ).iterator()
        if not _is_valid(path)
    ]
    for pk, revision_id, path in sorted(bad, key=lambda row: (row[1], row[2])):
        taken = set(RevisionFile.objects.filter(revision_id=revision_id).values_list("path", flat=True))
        new = repos.paths.repaired(path)
        stem, ext = posixpath.splitext(new)
        number = 1
        while new in taken:
            number += 1
            new = f"{stem}-{number}{ext}"
        RevisionFile.objects.filter(pk=pk).update(path=new)


class Migration(migrations.Migration):
    dependencies = [
        ("repos", "0004_reparse_card_metadata"),
    ]

    operations = [
        migrations.AlterField(
            model_name="revisionfile",
            name="path",
            field=models.CharField(max_length=255, validators=[repos.paths.validate_path]),
        ),
        migrations.RunPython(rename_unprintable_paths, migrations.RunPython.noop, elidable=True),
    ]
