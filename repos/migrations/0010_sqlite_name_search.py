from django.db import migrations

from repos import name_search


def create(apps, schema_editor):
    name_search.ensure(schema_editor.connection)


def drop(apps, schema_editor):
    name_search.drop(schema_editor.connection)


class Migration(migrations.Migration):
    """SQLite's index for name search (repos.name_search); nothing on PostgreSQL."""

    dependencies = [("repos", "0009_lfs_multipart")]

    operations = [migrations.RunPython(create, drop)]
