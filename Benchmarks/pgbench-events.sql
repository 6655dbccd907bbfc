-- pgbench baseline: one command = one transaction inserting one event row into a table shaped like
-- the swift-cqrs events table (same columns, keys, jsonb payload/metadata, position from the xid).
\set n random(1, 9000000000000000000)
INSERT INTO bench_pgbench.events (position, aggregate_type, aggregate_id, version, event_id, event_type, payload, metadata, occurred_at)
VALUES (pg_current_xact_id()::text::bigint * 1048576 + 1, 'account', 'pgbench-' || :client_id || '-' || :n, 1,
        gen_random_uuid(), 'deposited', '{"deposited": {"amount": 1}}', '{"userId": "bench", "requestId": "bench"}', now());
