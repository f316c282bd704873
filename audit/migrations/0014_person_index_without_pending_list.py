"""The persons index answers from its tree alone: no GIN pending list (PostgreSQL).

A GIN index's fast update queues new entries in a pending list of up to `gin_pending_list_limit` (4 MB) that every
search reads through from start to end, and that the insert crossing the limit merges into the tree. Each month's
persons index then made every access report read up to 490 pages per month asked for, whatever the person
(bench_audit_scale: 11 of its 21 ms at 20 million events), and made one audit write in every hundred thousand or so
stall a request while it merged the list (up to 200 ms). With `fastupdate = off` an event's persons go into the
tree as it is written (8 concurrent writers: about 6% fewer events per second).

PostgreSQL cannot alter a partitioned index's storage parameters, and building the index again would rewrite
every month: each month's index is altered instead (its pending list merged now), and `audit_partition_create`
alters the GIN indexes of every month it makes from now on.
"""

from importlib import import_module

from django.db import migrations

_PARTITIONS = import_module("audit.migrations.0011_monthly_partitions")

# The GIN indexes of the partition `qualified` names, for the loop that alters them.
_GIN_INDEXES_OF = """
SELECT x.indexrelid::regclass::text FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_am AS am ON am.oid = i.relam WHERE x.indrelid = to_regclass({table}) AND am.amname = 'gin'
"""


def _partition_create(fast_update: str) -> str:
    """`audit_partition_create` as migration 0011 made it, with the new month's GIN indexes set to `fast_update`."""
    return f"""
CREATE OR REPLACE FUNCTION audit_partition_create(part_name text, lower_bound timestamptz, upper_bound timestamptz)
    RETURNS boolean LANGUAGE plpgsql SET search_path = {{schema}}, pg_temp AS $$
DECLARE
    grantee text;
    gin_index text;
    qualified text := 'audit_partitions.' || quote_ident(part_name);
BEGIN
    IF to_regclass(qualified) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %s PARTITION OF audit_auditevent FOR VALUES FROM (%L) TO (%L) WITH (fillfactor = 50)',
                   qualified, lower_bound, upper_bound);
    EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()', qualified);
    FOR gin_index IN {_GIN_INDEXES_OF.format(table="qualified")} LOOP
        EXECUTE format('ALTER INDEX %s SET (fastupdate = {fast_update})', gin_index);
    END LOOP;
    {_PARTITIONS._OWNER_ONLY}
    RETURN true;
END $$
"""


def _set_fast_update(schema_editor: object, fast_update: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        (schema,) = cursor.fetchone()
        cursor.execute(
            "SELECT x.indexrelid::regclass::text FROM pg_inherits AS p JOIN pg_index AS x ON x.indrelid = p.inhrelid"
            " JOIN pg_class AS i ON i.oid = x.indexrelid JOIN pg_am AS am ON am.oid = i.relam"
            " WHERE p.inhparent = 'audit_auditevent'::regclass AND am.amname = 'gin' ORDER BY 1"
        )
        indexes = [name for (name,) in cursor.fetchall()]
    schema_editor.execute(_partition_create(fast_update).replace("{schema}", schema), params=None)
    for index in indexes:
        schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = {fast_update})", params=None)
        if fast_update == "off":  # what was queued goes into the tree now, not at some request's insert
            schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", params=[index])


def _forward(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _set_fast_update(schema_editor, "off")


def _backward(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _set_fast_update(schema_editor, "on")


class Migration(migrations.Migration):
    dependencies = [("audit", "0013_seal_without_jit")]

    operations = [migrations.RunPython(_forward, _backward, elidable=False)]
