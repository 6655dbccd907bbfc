"""Databases and collections: listing, creating, dropping, renaming."""

from mongomock.filtering import filter_applies

from ..cursors import documents_reply
from ..engine import CLIENT, get_coll, store
from ..errors import CmdError
from .args import check_collation, cursor_batch_size, doc_arg

ID_INDEX = {'v': 2, 'key': {'_id': 1}, 'name': '_id_'}


def cmd_list_databases(db, cmd, ctx):
    filt = doc_arg(cmd, 'filter') or {}
    name_only = cmd.get('nameOnly')
    dbs = []
    for name in sorted(CLIENT._store.list_created_database_names()):
        entry = {'name': name, 'sizeOnDisk': 0.0, 'empty': False}
        if filt and not filter_applies(filt, entry):
            continue
        dbs.append({'name': name} if name_only else entry)
    reply = {'databases': dbs, 'ok': 1.0}
    if not name_only:
        reply['totalSize'] = 0.0
        reply['totalSizeMb'] = 0
    return reply


def cmd_list_collections(db, cmd, ctx):
    filt = doc_arg(cmd, 'filter') or {}
    out = []
    for name in sorted(CLIENT._store[db].list_created_collection_names()):
        if cmd.get('nameOnly'):
            entry = {'name': name, 'type': 'collection'}
        else:
            entry = {'name': name, 'type': 'collection', 'options': {}, 'info': {'readOnly': False},
                     'idIndex': dict(ID_INDEX)}
        if filt and not filter_applies(filt, entry):
            continue
        out.append(entry)
    return documents_reply('%s.$cmd.listCollections' % db, out, cursor_batch_size(cmd))


def cmd_create(db, cmd, ctx):
    name = cmd['create']
    get_coll(db, name)
    check_collation(cmd)
    cs = store(db, name)
    if cs.is_created:
        raise CmdError(48, 'Collection already exists. NS: %s.%s' % (db, name))
    cs.create()
    ctx['journal_cmd'] = True
    return {'ok': 1.0}


def cmd_drop(db, cmd, ctx):
    name = cmd['drop']
    get_coll(db, name)
    cs = store(db, name)
    if not cs.is_created:
        raise CmdError(26, 'ns not found')
    n = 1 + len(cs.indexes)
    cs.drop()
    return {'nIndexesWas': n, 'ns': '%s.%s' % (db, name), 'ok': 1.0}


def cmd_drop_database(db, cmd, ctx):
    for cs in list(CLIENT._store[db]._collections.values()):
        if cs.is_created:
            cs.drop()
    return {'dropped': db, 'ok': 1.0}


def cmd_rename_collection(db, cmd, ctx):
    src, dst = cmd.get('renameCollection'), cmd.get('to')
    if not isinstance(src, str) or not isinstance(dst, str) or '.' not in src or '.' not in dst:
        raise CmdError(73, 'renameCollection needs full namespaces')
    sdb, sname = src.split('.', 1)
    ddb, dname = dst.split('.', 1)
    if sdb != ddb:
        raise CmdError(238, 'renaming across databases is not emulated')
    dbs = CLIENT._store[sdb]
    if not dbs[sname].is_created:
        raise CmdError(26, 'source namespace does not exist')
    target = dbs[dname]
    if target.is_created and not cmd.get('dropTarget'):
        raise CmdError(48, 'target namespace exists')
    ctx['journal_cmd'] = True
    if target.is_created:
        target.drop()
    dbs.rename(sname, dname)
    return {'ok': 1.0}
