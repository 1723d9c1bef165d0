"""Rate-limit counts on PostgreSQL skip the write-ahead log (issue 11, item 5).

Every anonymous request adds one to a RateCounter row. Logged, each of those commits waits for its WAL record
to reach the disk; an UNLOGGED table is written like any other but not through the WAL, so the count costs no
flush. What is given up: after a crash of PostgreSQL (not a restart) the table is empty, i.e. the current
windows' counts start again at zero, which a rate limit can afford. Replicas do not see it either: each
primary counts for itself. SQLite has no such table kind; nothing changes there.
"""

from django.db import migrations


def _set(logged: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("common", "RateCounter")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET {'LOGGED' if logged else 'UNLOGGED'}")

    return run


class Migration(migrations.Migration):
    dependencies = [("common", "0005_hI_durable_jobs")]

    operations = [migrations.RunPython(_set(logged=False), _set(logged=True), elidable=False)]
