"""The seal runs through functions the schema owner owns (SECURITY DEFINER), so the app's role needs no UPDATE
on the audit tables (PostgreSQL).

- `audit_seal_batch(after_seq, first_id, last_id)` numbers the unsealed events with ids in the range, sets their
  seq on exactly the row versions it numbered and returns (seq, id, entry) built from the versions it wrote:
  the statement the sealer used to run itself.
- `audit_head_lock()` locks the one-row chain head (creating it at first) and returns it.
- `audit_head_advance(seq, frontier, horizon, cluster)` moves the head. It takes the chain hash from the chain
  entry of that seq, never moves back, and refuses a horizon beyond the transactions still running or one
  that would leave an event below it unsealed: calling it, which the app's role may, cannot hide events
  from the sealer.

An unsealed event can then be changed by the app only through `audit_seal_batch`: its role has no UPDATE on
`audit_auditevent` (docs/operations.md sets the roles up). The functions run with a fixed search_path (the
schema they were created in, then pg_temp), and nobody but the owner may execute them until granted.
The entry expression is frozen here as the encoder had it (audit.encoding.ENTRY_SQL, format version 1); a
test holds the installed function to the encoder.
"""

from django.db import migrations

ENTRY_SQL = (
    "convert_to("
    """'{"action":' || to_json(e.action)::text"""
    """ || ',"actor_id":' || coalesce(e.actor_id::text, 'null')"""
    """ || ',"actor_username":' || to_json(e.actor_username)::text"""
    """ || ',"detail":' || e.detail::text"""
    """ || ',"fields":' || e.fields::text"""
    """ || ',"id":' || e.id::text"""
    """ || ',"ip":' || coalesce(to_json(host(e.ip))::text, 'null')"""
    """ || ',"object_id":' || to_json(e.object_id)::text"""
    """ || ',"object_type":' || to_json(e.object_type)::text"""
    """ || ',"occurred_at":"' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"""
    """ || ',"outcome":' || to_json(e.outcome)::text"""
    """ || ',"persons":' || e.persons::text"""
    """ || ',"purpose":' || to_json(e.purpose)::text"""
    """ || ',"request_id":' || to_json(e.request_id)::text"""
    """ || ',"role":' || to_json(e.role)::text"""
    """ || ',"seq":' || (e.seq)::text"""
    """ || ',"v":1}', 'UTF8')"""
)

SEAL_BATCH = f"""
CREATE FUNCTION audit_seal_batch(after_seq bigint, first_id bigint, last_id bigint)
    RETURNS TABLE (sealed_seq bigint, event_id bigint, sealed_entry bytea)
    LANGUAGE sql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
UPDATE audit_auditevent AS e SET seq = q.s
    FROM (SELECT ctid AS row_version, after_seq + row_number() OVER (ORDER BY id) AS s FROM audit_auditevent
          WHERE id BETWEEN first_id AND last_id AND seq IS NULL) AS q
    WHERE e.ctid = q.row_version
    RETURNING e.seq, e.id, {ENTRY_SQL}
$$
"""

HEAD_LOCK = """
CREATE FUNCTION audit_head_lock() RETURNS SETOF audit_chainhead
    LANGUAGE sql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
INSERT INTO audit_chainhead (id, seq, hash, frontier, horizon)
    VALUES (1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea, ''::bytea, 0)
    ON CONFLICT (id) DO NOTHING;
SELECT * FROM audit_chainhead WHERE id = 1 FOR UPDATE;
$$
"""

HEAD_ADVANCE = """
CREATE FUNCTION audit_head_advance(new_seq bigint, new_frontier bytea, new_horizon bigint, new_cluster bigint)
    RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    head audit_chainhead;
    new_hash bytea;
    this_cluster bigint := (SELECT system_identifier FROM pg_control_system());
    running bigint := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    searched_from bigint;
BEGIN
    SELECT * INTO head FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND OR new_seq < head.seq THEN
        RAISE EXCEPTION 'audit chain head: no head, or seq % is behind %', new_seq, head.seq
            USING ERRCODE = 'restrict_violation';
    END IF;
    new_hash := head.hash;
    IF new_seq > 0 THEN
        SELECT hash INTO new_hash FROM audit_chainentry WHERE seq = new_seq;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'audit chain head: no chain entry %', new_seq USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF new_cluster IS DISTINCT FROM this_cluster OR new_horizon > running THEN
        RAISE EXCEPTION 'audit chain head: horizon % is beyond the running transactions', new_horizon
            USING ERRCODE = 'restrict_violation';
    END IF;
    -- Where the last seal searched from, unless that was read in another cluster or ahead of this one's.
    searched_from := CASE WHEN head.cluster = this_cluster AND head.horizon <= running THEN head.horizon ELSE 0 END;
    IF EXISTS (SELECT 1 FROM audit_auditevent
               WHERE txid >= searched_from AND txid < new_horizon AND seq IS NULL) THEN
        RAISE EXCEPTION 'audit chain head: an event below horizon % is not sealed', new_horizon
            USING ERRCODE = 'restrict_violation';
    END IF;
    UPDATE audit_chainhead SET seq = new_seq, hash = new_hash, frontier = new_frontier, sealed_at = now(),
                               horizon = new_horizon, cluster = new_cluster
        WHERE id = 1;
END $$
"""

FUNCTIONS = (
    "audit_seal_batch(bigint, bigint, bigint)",
    "audit_head_lock()",
    "audit_head_advance(bigint, bytea, bigint, bigint)",
)


def _forward(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        (schema,) = cursor.fetchone()
    for statement in (SEAL_BATCH, HEAD_LOCK, HEAD_ADVANCE):
        schema_editor.execute(statement.replace("{schema}", schema), params=None)
    for function in FUNCTIONS:
        schema_editor.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC", params=None)


def _reverse(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for function in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_verificationrun_kind")]

    operations = [migrations.RunPython(_forward, _reverse)]
