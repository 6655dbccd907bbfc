"""insert, update, delete and findAndModify."""

import traceback

import bson
from bson.raw_bson import RawBSONDocument
from pymongo.errors import OperationFailure

from ..engine import get_coll
from ..errors import CmdError, exc_to_code
from ..keys import key_of
from ..query import run_query
from ..settings import log
from .args import (check_collation, check_no_array_filters, check_update, doc_arg, filter_arg,
                   int_arg, is_replacement, sort_spec)


def _statements(cmd, field, run):
    """Runs run(index, statement) for each statement of cmd[field]; returns the write errors
    (after the first one, the rest run only if the command is unordered)."""
    items = cmd.get(field)
    if not isinstance(items, list):
        raise CmdError(9, "BSON field '%s.%s' is missing or not an array" % (next(iter(cmd)), field))
    ordered = cmd.get('ordered', True)
    errors = []
    for i, item in enumerate(items):
        try:
            run(i, item)
        except Exception as exc:          # noqa: BLE001 - every failure becomes a write error
            if not isinstance(exc, (OperationFailure, CmdError)):
                log('%s error' % next(iter(cmd)), traceback.format_exc())
            code, msg, extra = exc_to_code(exc)
            err = {'index': i, 'code': code, 'errmsg': msg}
            if code == 11000:
                err.update(extra)
            errors.append(err)
            if ordered:
                break
    return errors


def _reply(reply, errors):
    if errors:
        reply['writeErrors'] = errors
    return reply


def cmd_insert(db, cmd, ctx):
    coll = get_coll(db, cmd['insert'])
    done = []

    def insert(i, doc):
        if not isinstance(doc, dict):
            raise CmdError(14, 'a document to insert must be an object')
        coll._insert(doc)
        done.append(i)

    errors = _statements(cmd, 'documents', insert)
    return _reply({'n': len(done), 'ok': 1.0}, errors)


def cmd_update(db, cmd, ctx):
    coll = get_coll(db, cmd['update'])
    totals = {'n': 0, 'nModified': 0}
    upserted = []

    def update(i, st):
        if not isinstance(st, dict):
            raise CmdError(14, 'an update statement must be an object')
        q = filter_arg(st, 'q')
        u = st.get('u')
        check_update(u, 'update.updates.u')
        multi = bool(st.get('multi', False))
        if multi and is_replacement(u):
            raise CmdError(9, 'multi update is not supported for replacement-style update')
        check_no_array_filters(st)
        check_collation(st)
        res = coll._update(q, u, upsert=bool(st.get('upsert', False)), multi=multi)
        totals['n'] += res['n']
        totals['nModified'] += res['nModified']
        if res.get('upserted') is not None:
            upserted.append({'index': i, '_id': res['upserted']})

    errors = _statements(cmd, 'updates', update)
    reply = dict(totals, ok=1.0)
    if upserted:
        reply['upserted'] = upserted
    return _reply(reply, errors)


def cmd_delete(db, cmd, ctx):
    coll = get_coll(db, cmd['delete'])
    store = coll._store
    deleted = [0]

    def delete(i, st):
        if not isinstance(st, dict):
            raise CmdError(14, 'a delete statement must be an object')
        q = filter_arg(st, 'q')
        limit = int_arg(st, 'limit', 0)
        if limit not in (0, 1):
            raise CmdError(9, 'The limit field in delete objects must be 0 or 1. Got %d' % limit)
        check_collation(st)
        keys = []
        for d in coll._iter_documents(q):
            keys.append(key_of(d['_id']))
            if limit == 1:
                break
        for k in keys:
            if k in store._documents:
                del store[k]
                deleted[0] += 1

    errors = _statements(cmd, 'deletes', delete)
    return _reply({'n': deleted[0], 'ok': 1.0}, errors)


def _raw(doc):
    return None if doc is None else RawBSONDocument(bson.encode(doc))


def cmd_find_and_modify(db, cmd, ctx):
    coll = get_coll(db, cmd.get('findAndModify', cmd.get('findandmodify')))
    query = filter_arg(cmd, 'query')
    sort = sort_spec(cmd)
    update = cmd.get('update')
    remove = bool(cmd.get('remove', False))
    new = bool(cmd.get('new', False))
    upsert = bool(cmd.get('upsert', False))
    fields = doc_arg(cmd, 'fields')
    check_collation(cmd)
    check_no_array_filters(cmd)
    if remove and update is not None:
        raise CmdError(9, 'Cannot specify both an update and remove=true')
    if not remove and update is None:
        raise CmdError(9, 'Either an update or remove=true must be specified')
    if remove and (new or upsert):
        raise CmdError(9, 'Cannot specify both new=true and remove=true; or upsert=true and remove=true')
    if update is not None:
        check_update(update, 'findAndModify.update')

    def project(d):
        if d is None:
            return None
        if fields:
            return _raw(coll._copy_only_fields(d, dict(fields), dict))
        return _raw(d)

    found = run_query(coll, query, sort, 0, 1)
    old = found[0] if found else None
    store = coll._store
    if remove:
        if old is None:
            return {'lastErrorObject': {'n': 0}, 'value': None, 'ok': 1.0}
        value = project(old)
        del store[key_of(old['_id'])]
        return {'lastErrorObject': {'n': 1}, 'value': value, 'ok': 1.0}
    if old is not None:
        before = None if new else project(old)
        spec = dict(query)
        spec['_id'] = old['_id']
        coll._update(spec, update, upsert=False, multi=False)
        value = project(store._documents.get(key_of(old['_id']))) if new else before
        return {'lastErrorObject': {'n': 1, 'updatedExisting': True}, 'value': value, 'ok': 1.0}
    if not upsert:
        return {'lastErrorObject': {'n': 0, 'updatedExisting': False}, 'value': None, 'ok': 1.0}
    res = coll._update(query, update, upsert=True, multi=False)
    _id = res.get('upserted')
    leo = {'n': 1, 'updatedExisting': False}
    value = None
    if _id is not None:
        leo['upserted'] = _id
        if new:
            value = project(store._documents.get(key_of(_id)))
    return {'lastErrorObject': leo, 'value': value, 'ok': 1.0}
