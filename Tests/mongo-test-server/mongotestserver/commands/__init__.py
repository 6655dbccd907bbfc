"""The command handlers: handler(db, cmd, ctx) -> reply dict (or BSON bytes), run under the global
lock unless listed in NO_LOCK. ctx lives as long as the connection (conn_id, peer); a handler that
sets ctx['journal_cmd'] is journalled as the command itself (deterministic on replay), otherwise
the documents it touched are journalled."""

from . import admin, aggregate, indexes, namespaces, reads, writes

COMMANDS = {
    'hello': admin.cmd_hello, 'isMaster': admin.cmd_hello, 'ismaster': admin.cmd_hello,
    'ping': admin.cmd_ok, 'endSessions': admin.cmd_ok,
    'buildInfo': admin.cmd_buildinfo, 'buildinfo': admin.cmd_buildinfo,
    'getParameter': admin.cmd_getparameter, 'serverStatus': admin.cmd_serverstatus,
    'whatsmyuri': admin.cmd_whatsmyuri,
    'abortTransaction': admin.cmd_transaction, 'commitTransaction': admin.cmd_transaction,
    'listDatabases': namespaces.cmd_list_databases, 'listCollections': namespaces.cmd_list_collections,
    'create': namespaces.cmd_create, 'drop': namespaces.cmd_drop,
    'dropDatabase': namespaces.cmd_drop_database, 'renameCollection': namespaces.cmd_rename_collection,
    'insert': writes.cmd_insert, 'update': writes.cmd_update, 'delete': writes.cmd_delete,
    'findAndModify': writes.cmd_find_and_modify, 'findandmodify': writes.cmd_find_and_modify,
    'find': reads.cmd_find, 'getMore': reads.cmd_get_more, 'killCursors': reads.cmd_kill_cursors,
    'count': reads.cmd_count, 'distinct': reads.cmd_distinct,
    'aggregate': aggregate.cmd_aggregate,
    'createIndexes': indexes.cmd_create_indexes, 'listIndexes': indexes.cmd_list_indexes,
    'dropIndexes': indexes.cmd_drop_indexes, 'deleteIndexes': indexes.cmd_drop_indexes,
}

# Commands that touch no mongomock state: run without the global lock.
NO_LOCK = {'hello', 'isMaster', 'ismaster', 'ping', 'buildInfo', 'buildinfo', 'getParameter',
           'serverStatus', 'whatsmyuri', 'endSessions'}
