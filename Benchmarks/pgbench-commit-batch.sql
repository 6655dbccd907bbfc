-- pgbench: the server-side floor of one command on PostgreSQL, i.e. `cqrs_commit_batch` called with one
-- commit of one event on a fresh aggregate, as the store does with one client (run after
-- `cqrs-bench postgres-row URL 1 alone` has created the bench_swift schema):
--   pgbench URL -n -M prepared -f Benchmarks/pgbench-commit-batch.sql -c 1 -T 5
\set n random(1, 9000000000000000000)
CALL bench_swift.cqrs_commit_batch(ARRAY['account'], ARRAY['pgbench-' || :client_id || '-' || :n], ARRAY[0::bigint], ARRAY[1],
    ARRAY[gen_random_uuid()], ARRAY['deposited'], ARRAY['{"deposited": {"amount": 1}}'], ARRAY['{"userId": "bench", "requestId": "bench"}'],
    ARRAY[1700000000000::bigint], ARRAY[''], ARRAY[''], ARRAY['']);
