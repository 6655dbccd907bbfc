"""find, getMore, killCursors, count and distinct."""

from bson.int64 import Int64
from mongomock import filtering as mm_filtering
from mongomock.filtering import iter_key_candidates
from sentinels import NOTHING

from ..cursors import CURSORS, ServerCursor, cursor_reply
from ..engine import get_coll
from ..errors import CmdError
from ..keys import norm
from ..query import run_query
from ..settings import DEFAULT_FIRST_BATCH
from .args import check_collation, doc_arg, filter_arg, int_arg, sort_spec


def cmd_find(db, cmd, ctx):
    name = cmd['find']
    coll = get_coll(db, name)
    filt = filter_arg(cmd, 'filter')
    sort = sort_spec(cmd)
    skip = int_arg(cmd, 'skip', 0)
    limit = int_arg(cmd, 'limit', 0)
    batch = None if cmd.get('batchSize') is None else int_arg(cmd, 'batchSize')
    single = bool(cmd.get('singleBatch', False))
    if skip < 0:
        raise CmdError(2, 'skip value must be non-negative')
    if batch is not None and batch < 0:
        raise CmdError(2, 'batchSize value must be non-negative')
    if limit < 0:
        limit, single = -limit, True
    if cmd.get('tailable') or cmd.get('awaitData'):
        raise CmdError(238, 'tailable cursors are not emulated by the mongomock test server')
    check_collation(cmd)
    projection = doc_arg(cmd, 'projection') or None
    docs = run_query(coll, filt, sort, skip, limit)
    cur = ServerCursor('%s.%s' % (db, name), docs, projection, coll)
    first = batch if batch is not None else DEFAULT_FIRST_BATCH
    if limit and first:
        first = min(first, limit)
    return cursor_reply(cur, first, single)


def cmd_get_more(db, cmd, ctx):
    cid = cmd.get('getMore')
    if isinstance(cid, bool) or not isinstance(cid, int):
        raise CmdError(14, "BSON field 'getMore.getMore' is the wrong type, expected type 'long'")
    cur = CURSORS.get(int(cid))
    if cur is None:
        raise CmdError(43, 'cursor id %d not found' % cid)
    ns = '%s.%s' % (db, cmd.get('collection'))
    if cur.ns != ns:
        raise CmdError(13, 'Requested getMore on namespace %s, but cursor belongs to a different '
                           'namespace %s' % (ns, cur.ns))
    n = None if cmd.get('batchSize') is None else int_arg(cmd, 'batchSize')
    if n is not None and n <= 0:
        n = None
    return cursor_reply(cur, n, key='nextBatch')


def cmd_kill_cursors(db, cmd, ctx):
    killed, missing = [], []
    for cid in cmd.get('cursors') or []:
        if CURSORS.pop(int(cid), None) is not None:
            killed.append(Int64(cid))
        else:
            missing.append(Int64(cid))
    return {'cursorsKilled': killed, 'cursorsNotFound': missing, 'cursorsAlive': [],
            'cursorsUnknown': [], 'ok': 1.0}


def cmd_count(db, cmd, ctx):
    coll = get_coll(db, cmd['count'])
    q = filter_arg(cmd, 'query')
    skip = int_arg(cmd, 'skip', 0)
    limit = abs(int_arg(cmd, 'limit', 0))
    check_collation(cmd)
    n = sum(1 for _ in coll._iter_documents(q)) if q else len(coll._store)
    n = max(0, n - skip)
    if limit:
        n = min(n, limit)
    return {'n': n, 'ok': 1.0}


def cmd_distinct(db, cmd, ctx):
    coll = get_coll(db, cmd['distinct'])
    key = cmd.get('key')
    if not isinstance(key, str):
        raise CmdError(14, "BSON field 'distinct.key' is missing or not a string")
    q = filter_arg(cmd, 'query')
    check_collation(cmd)
    seen = set()
    values = []
    for d in coll._iter_documents(q):
        for v in iter_key_candidates(key, d):
            if v is NOTHING:
                continue
            for x in (v if isinstance(v, list) else [v]):
                e = norm(x, True)
                if e not in seen:
                    seen.add(e)
                    values.append(x)
    try:
        values.sort(key=mm_filtering.BsonComparable)
    except Exception:      # noqa: BLE001 - uncomparable types keep their order
        pass
    return {'values': values, 'ok': 1.0}
