"""Migration operations shared by the apps: database triggers written once per database vendor."""

from django.db import migrations


def vendor_sql(*, sqlite_up: str, sqlite_down: str, postgresql_up: str, postgresql_down: str) -> migrations.RunPython:
    """Run the SQL written for the database in use (SQLite or PostgreSQL); other vendors get none."""
    forward = {"sqlite": sqlite_up, "postgresql": postgresql_up}
    backward = {"sqlite": sqlite_down, "postgresql": postgresql_down}

    def forwards(apps, schema_editor):
        sql = forward.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        sql = backward.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)
