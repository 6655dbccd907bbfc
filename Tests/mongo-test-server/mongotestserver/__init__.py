"""The MongoDB wire-protocol test server over mongomock (entry point: ../mongo_test_server.py, whose
docstring says what it does and does not emulate).

Modules, lowest first (each imports only the ones above it):
  settings     command-line settings, limits, the codec, log()
  errors       error codes and error replies
  keys         normalized, hashable index keys of BSON values
  duplicates   duplicate key errors as MongoDB words them
  indexes      the in-memory index maps and the per-collection state beside mongomock's store
  engine       the mongomock client and collection lookup
  journal      change tracking, journal records, append and replay
  planner      query plans over the index maps
  query        matching, sorting and running queries
  updaters     $inc/$mul/$max/$min as MongoDB does them
  copies       fast deepcopy and datetime normalization of BSON-shaped documents
  patches      the patches into mongomock (store, insert, update, unique checks, scans)
  cursors      server-side cursors and cursor replies
  commands/    the command handlers, one module per family, and the command table
  dispatch     the global lock, command execution and journalling
  wire         OP_MSG / OP_QUERY parsing and reply framing
  server       sockets, connection threads, main()
"""
