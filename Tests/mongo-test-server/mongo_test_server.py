#!/usr/bin/env python3
"""A MongoDB wire-protocol test server backed by mongomock (no mongod needed).

    python mongo_test_server.py --port P [--host 127.0.0.1] [--journal FILE] [--replica-set NAME] [--log]

Prints `listening on HOST:PORT` (and flushes) once it accepts connections; `--port 0` picks a free
port and prints the real one. Clients: libmongoc (1.23) and pymongo (4.x). The engine is the PyPI
`mongomock` package (one `mongomock.MongoClient()`); pymongo's `bson` encodes and decodes.

How it works (the code: the mongotestserver package beside this file; its __init__ lists the modules)
- One thread per connection; one global lock around every command that touches mongomock, so each
  command is atomic and commands are serialized (mongomock is not thread-safe). Accepted sockets
  use TCP_NODELAY; a command costs one recv, one write to the journal if it changed anything,
  and one send. The connection of a sequential client polls for its next command for 0.2 ms
  before blocking (a blocked thread wakes up late on an idle virtual machine).
- Wire protocol: 16-byte header; OP_QUERY (2004) for commands on `DB.$cmd` (the handshake), answered
  with OP_REPLY (1); OP_MSG (2013) with kind-0 and kind-1 sections, checksumPresent (CRC ignored) and
  moreToCome (no reply). Replies are OP_MSG with flags 0 and one kind-0 section.
- hello/isMaster report maxWireVersion 13 (MongoDB 5.0) and no `logicalSessionTimeoutMinutes`, so
  drivers use no sessions, no retryable writes and no transactions. No `topologyVersion` either, so
  drivers poll (no streaming/awaitable hello). With --replica-set NAME the server reports itself as
  the primary of a one-member replica set NAME (setName, hosts, primary, me, setVersion, electionId).
- --journal FILE: every state change is appended to FILE before the reply is sent (write(2), no
  fsync: it survives kill -9 of this process, not a machine crash). Data changes are journalled as
  their effect (the full documents written, the _ids deleted, collection drops), so replay is exact
  (generated ObjectIds, $inc, upserts); createIndexes/dropIndexes/create/renameCollection are
  journalled as the command. On start the journal is replayed into a fresh mongomock; a torn last
  record (a crash in the middle of a write) is cut off.
- Indexes: mongomock scans every document for every query and for every unique check (quadratic
  inserts). This server keeps its own in-memory maps per declared index, one per prefix of its
  fields (lookups by _id use mongomock's own dict), used (a) for unique checks, with MongoDB's rules
  (missing == null unless sparse; sparse skips documents that lack every indexed field;
  partialFilterExpression; multikey) and duplicate-key errors naming the index, and (b) to narrow
  queries: equality/$in on `_id` or on the leading fields of a non-sparse index, numeric ranges on
  an index's first field; a find sorted on a single indexed numeric field with a limit walks the
  index in order and stops early. Candidates are re-checked with mongomock's matcher (or, for
  simple filters, an equivalent fast predicate; or not at all when the index answers the whole
  filter exactly), so results are mongomock's.
- Field order: MongoDB moves `_id` first on insert; so does this server (also for upserts).
- mongomock patched where it differs from MongoDB in ways the stores depend on: unique checks
  (mongomock says only "E11000 Duplicate Key Error" without the index, scans the whole collection per
  write, and its sparse check also skips explicit nulls), `$inc` (on an Int64 it returned a plain int,
  which re-encodes as int32 when small), `$max`/`$min` (Python's max/min: TypeError across types;
  here BSON order), `$mul` (missing), and a failed update operator no longer leaves the operators
  before it applied.

What this test server does not emulate
- Transactions and sessions (drivers see no logicalSessionTimeoutMinutes: pymongo raises
  "Sessions are not supported by this MongoDB deployment" for an explicit session), retryable
  writes, causal consistency, $clusterTime/operationTime; lsid, txnNumber, autocommit,
  startTransaction, read/write concerns and read preferences are ignored (every write is
  "acknowledged" once journalled, without fsync).
- Change streams, tailable/awaitData cursors, capped collections, collection options and schema
  validators (create options are ignored), views, time-series collections.
- Authentication (no users: every client is allowed), TLS, compression (none is negotiated),
  OP_COMPRESSED, the legacy opcodes (OP_INSERT/OP_UPDATE/OP_DELETE/OP_GET_MORE; OP_QUERY only for
  commands on `DB.$cmd`).
- Collations (a non-simple collation is rejected), arrayFilters and `$[]`/`$[<id>]`, hint (ignored),
  let, $where, $text, geo queries, text/2dsphere/hashed indexes (rejected), explain, dbStats,
  collStats, serverStatus beyond a stub; index builds are instant and never in progress.
- Replication and elections (a --replica-set has one member, always primary, no oplog), sharding,
  maxTimeMS, cursor timeouts (idle cursors are only purged after 10 minutes once more than 1000
  are open), real storage statistics (sizes are 0), real durability (see --journal above).
- mongomock's own limits, as they are: equality uses Python's `==`, so `{a: 1}` also matches
  `a: true` (1 == 1.0 == Int64(1) as in MongoDB); `nModified` counts a document as unchanged when
  the new value is Python-equal (1 -> 1.0, 1 -> true, int32 -> int64); an array sorts by its first
  element (MongoDB: by its smallest element ascending, largest descending); Decimal128, Timestamp,
  MinKey/MaxKey cannot be sorted; the positional `$` update works only with `$elemMatch`-style
  queries on arrays of documents (not on arrays of scalars); no $bit, no $rename of dotted paths;
  aggregation lacks $merge, $unset, $replaceWith, $sortByCount, $bucketAuto, $collStats and more.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mongotestserver.server import main  # noqa: E402

if __name__ == '__main__':
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
