extension PostgresSchema {
    /// Migration 4: group commit. `cqrs_commit_batch` commits several commands' commits in one
    /// transaction, each in its own block (a subtransaction), so that one command's conflict, replayed
    /// idempotency key or failed statement leaves the others in the batch untouched. Each block does
    /// what `cqrs_commit` does for one commit: the idempotency check, the version check, the events,
    /// the snapshot and the idempotency record. Positions are `xid × 2²⁰ + n` with `n` counting across
    /// the whole batch (one transaction, one xid).
    ///
    /// A procedure, not a function, so that it can `COMMIT` before it returns: its result row (the
    /// INOUT arrays) reaches the client only after the commit is durable, which makes the
    /// acknowledgement safe in one round trip (a function's rows may arrive before the commit at
    /// Sync). Per commit `i` the results say: `r_first[i]`, the position of its first event, when it
    /// was written (0 when not); otherwise `r_fresh[i]` (whether its key was unused) and `r_current[i]`
    /// (the stream's version), or `r_state[i]`/`r_constraint[i]`/`r_message[i]` when its block raised
    /// an error.
    /// Absent values are '' (a snapshot, a key, a fingerprint, no error), since PostgresNIO's arrays
    /// carry no NULLs; an idempotency key is never empty.
    static func commitBatchMigration(_ s: String) -> [String] {
        [
            """
            CREATE PROCEDURE \(s).cqrs_commit_batch(
                p_types text[], p_ids text[], p_expected bigint[], p_counts integer[], p_event_ids uuid[],
                p_event_types text[], p_payloads text[], p_metadata text[], p_occurred_at bigint[], p_snapshots text[],
                p_keys text[], p_fingerprints text[],
                INOUT r_first bigint[] DEFAULT NULL, INOUT r_fresh boolean[] DEFAULT NULL, INOUT r_current bigint[] DEFAULT NULL,
                INOUT r_state text[] DEFAULT NULL, INOUT r_constraint text[] DEFAULT NULL, INOUT r_message text[] DEFAULT NULL)
            LANGUAGE plpgsql AS $batch$
            DECLARE
                base bigint := pg_current_xact_id()::text::bigint * 1048576;
                written integer := 0;
                lo integer := 1;
                n integer;
                fresh boolean;
                current_version bigint;
                failed_state text;
                failed_constraint text;
                failed_message text;
            BEGIN
                r_first := '{}'; r_fresh := '{}'; r_current := '{}'; r_state := '{}'; r_constraint := '{}'; r_message := '{}';
                FOR i IN 1..cardinality(p_types) LOOP
                    n := p_counts[i];
                    BEGIN
                        SELECT NOT EXISTS (SELECT 1 FROM \(s).idempotency_keys k WHERE p_keys[i] <> '' AND k.aggregate_type = p_types[i] AND k.key = p_keys[i]),
                            (SELECT coalesce(max(e.version), 0) FROM \(s).events e WHERE e.aggregate_type = p_types[i] AND e.aggregate_id = p_ids[i])
                        INTO fresh, current_version;
                        IF fresh AND current_version = p_expected[i] THEN
                            INSERT INTO \(s).events (position, aggregate_type, aggregate_id, version, event_id, event_type, payload, metadata, occurred_at)
                            SELECT base + written + e.k, p_types[i], p_ids[i], p_expected[i]::integer + e.k, e.event_id, e.event_type,
                                e.payload::jsonb, p_metadata[i]::jsonb, timestamptz 'epoch' + p_occurred_at[i] * interval '1 millisecond'
                            FROM unnest(p_event_ids[lo:lo + n - 1], p_event_types[lo:lo + n - 1], p_payloads[lo:lo + n - 1])
                                WITH ORDINALITY AS e(event_id, event_type, payload, k);
                            IF p_snapshots[i] <> '' THEN
                                INSERT INTO \(s).snapshots AS sn (aggregate_type, aggregate_id, version, state)
                                VALUES (p_types[i], p_ids[i], p_expected[i]::integer + n, p_snapshots[i]::jsonb)
                                ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, state = excluded.state;
                            END IF;
                            IF p_keys[i] <> '' THEN
                                INSERT INTO \(s).idempotency_keys (aggregate_type, key, fingerprint, aggregate_id, first_version, version, global_position)
                                VALUES (p_types[i], p_keys[i], p_fingerprints[i], p_ids[i], p_expected[i]::integer + 1, p_expected[i]::integer + n,
                                    base + written + n);
                            END IF;
                            r_first := r_first || (base + written + 1);
                            written := written + n;
                        ELSE
                            r_first := r_first || 0::bigint;
                        END IF;
                        r_fresh := r_fresh || fresh; r_current := r_current || current_version;
                        r_state := r_state || ''::text; r_constraint := r_constraint || ''::text; r_message := r_message || ''::text;
                    EXCEPTION WHEN OTHERS THEN
                        GET STACKED DIAGNOSTICS failed_state = RETURNED_SQLSTATE, failed_constraint = CONSTRAINT_NAME, failed_message = MESSAGE_TEXT;
                        r_first := r_first || 0::bigint; r_fresh := r_fresh || false; r_current := r_current || -1::bigint;
                        r_state := r_state || failed_state; r_constraint := r_constraint || coalesce(failed_constraint, '');
                        r_message := r_message || coalesce(failed_message, '');
                    END;
                    lo := lo + n;
                END LOOP;
                COMMIT;
            END
            $batch$
            """
        ]
    }
}
