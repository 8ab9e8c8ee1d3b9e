"""PostgreSQL appends a batch of decisions in one statement: ``almp_append(batch jsonb)``.

The group committer prepares a batch without the chain lock (sealing, digests: hash scheme 4, see
api/store/chain.py) and calls this function in autocommit, so the chain head's row lock is held inside
the server for one statement and its commit, never while a Python thread waits to be scheduled. The
function re-checks, under the lock, what the preparation relied on (no data key it seals with was
erased, no idempotency key it claims was taken since) and raises ``almp_append: race`` otherwise: the
committer then appends that batch the classic way, everything under the lock.

The link below must stay the same as ``api.store.chain.link`` (a test compares them on PostgreSQL).
SQLite has no server-side code: its write lock covers the whole transaction, and the classic path runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APPEND = r"""
CREATE OR REPLACE FUNCTION almp_append(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    head_seq bigint;
    head_hash text;
    start_seq bigint;
    start_hash text;
    r jsonb;
    hashes text[] := '{}';
BEGIN
    -- the commit ending this statement does not wait for the disk, so the head's lock is released at once;
    -- the caller acknowledges nothing before its next statement (almp_durable) has made the batch durable
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT seq, row_hash INTO head_seq, head_hash FROM chain_head WHERE id = 1 FOR UPDATE;
    IF head_seq IS NULL THEN
        RAISE EXCEPTION 'almp_append: the chain head is missing';
    END IF;
    start_seq := head_seq;
    start_hash := head_hash;
    IF EXISTS (SELECT 1 FROM data_keys
               WHERE id IN (SELECT jsonb_array_elements_text(batch -> 'used_keys')) AND erased_at IS NOT NULL) THEN
        RAISE EXCEPTION 'almp_append: race (a data key was erased)';
    END IF;
    IF jsonb_array_length(batch -> 'idempotency_keys') > 0 AND EXISTS (
            SELECT 1 FROM decisions
            WHERE idempotency_key IN (SELECT jsonb_array_elements_text(batch -> 'idempotency_keys'))
              AND (batch ->> 'idempotency_since' IS NULL
                   OR created_at >= (batch ->> 'idempotency_since')::timestamptz)) THEN
        RAISE EXCEPTION 'almp_append: race (an idempotency key was taken)';
    END IF;
    INSERT INTO data_keys (id, subject, wrapped, created_at, retain_until)
        SELECT k.id, k.subject, k.wrapped, k.created_at, k.retain_until
        FROM jsonb_to_recordset(batch -> 'new_keys')
             AS k(id text, subject text, wrapped text, created_at timestamptz, retain_until date);
    UPDATE data_keys AS d SET retain_until = e.until
        FROM jsonb_to_recordset(batch -> 'extend_keys') AS e(id text, until date)
        WHERE d.id = e.id AND (d.retain_until IS NULL OR d.retain_until < e.until);
    FOR r IN SELECT value FROM jsonb_array_elements(batch -> 'rows') LOOP
        head_seq := head_seq + 1;
        r := r || jsonb_build_object('seq', head_seq, 'prev_hash', head_hash);
        head_hash := 'sha256:' || encode(sha256(convert_to(
            'almp-chain-4' || E'\n' || head_hash || E'\n' || head_seq::text || E'\n' || (r ->> 'digest'),
            'UTF8')), 'hex');
        hashes := hashes || head_hash;
        INSERT INTO decisions (seq, id, created_at, kind, policy_id, version, content_hash, engine_version, as_of,
                               caller, idempotency_key, request_hash, input_json, result_json, trace_json,
                               prev_hash, row_hash, hash_scheme, subject, sealed, statement_basis)
        VALUES (head_seq, r ->> 'id', (r ->> 'created_at')::timestamptz, r ->> 'kind', r ->> 'policy_id',
                r ->> 'version', r ->> 'content_hash', r ->> 'engine_version', (r ->> 'as_of')::date,
                r ->> 'caller', r ->> 'idempotency_key', r ->> 'request_hash', r ->> 'input_json',
                r ->> 'result_json', r ->> 'trace_json', r ->> 'prev_hash', head_hash,
                (r ->> 'hash_scheme')::integer, r ->> 'subject', r ->> 'sealed', r ->> 'statement_basis');
    END LOOP;
    UPDATE chain_head SET seq = head_seq, row_hash = head_hash WHERE id = 1;
    RETURN jsonb_build_object('seq', start_seq, 'hash', start_hash, 'hashes', to_jsonb(hashes));
END
$fn$;
"""


# A transaction that writes WAL and commits under the session's own synchronous_commit: its commit flushes
# the WAL up to its own record, so every transaction committed before it - the batch just appended with
# synchronous_commit off - is then as durable as the server is configured to make a commit (disk, or a
# synchronous standby). Concurrent barriers share one flush, as commits do.
DURABLE = r"""
CREATE OR REPLACE FUNCTION almp_durable() RETURNS void
LANGUAGE sql AS $fn$
    SELECT pg_logical_emit_message(true, 'almp', 'durable');
    SELECT;
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)
        op.execute(DURABLE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS almp_append(jsonb)")
        op.execute("DROP FUNCTION IF EXISTS almp_durable()")
