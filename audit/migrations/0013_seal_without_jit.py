"""The seal's batch function never compiles itself with JIT.

A `LANGUAGE sql` function is planned with its arguments as parameters, so the planner prices the batch's id range
at a generic fraction of the whole log: past about 10 million events that price crosses `jit_above_cost`, and
every 2,000-event batch then spent over a second compiling expressions it runs once (measured in
bench_audit_scale: 1.3 s of JIT against 60 ms of work). The plan itself stays right (run-time pruning keeps the
row lookups in one partition); only the JIT is turned off, for this function alone.
"""

from django.db import migrations

FUNCTION = "audit_seal_batch(bigint, bigint, bigint)"


def _forward(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER FUNCTION {FUNCTION} SET jit = off")


def _backward(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER FUNCTION {FUNCTION} RESET jit")


class Migration(migrations.Migration):
    dependencies = [("audit", "0012_archive_detach_requests")]

    operations = [migrations.RunPython(_forward, _backward, elidable=False)]
