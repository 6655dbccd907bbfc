"""aggregate: mongomock's pipeline over copies of the matching documents, except for the drivers'
countDocuments and sums of a field ($match, $skip/$limit, $group by a constant with $sum), which
are computed over the stored documents without copying them."""

import itertools

from bson.int64 import Int64
from mongomock import aggregate as mm_aggregate
from mongomock import collection as mm_collection

from ..cursors import documents_reply
from ..engine import get_coll
from ..errors import CmdError
from ..keys import is_plain_number
from ..settings import DEFAULT_FIRST_BATCH
from .args import check_collation, patch_dt


def _group_sums(group):
    """[(output field, "field" | number)] for {_id: <constant>, F: {$sum: 1 | <number> | "$field"}},
    else None."""
    if not isinstance(group, dict) or '_id' not in group:
        return None
    gid = group['_id']
    if isinstance(gid, (dict, list)) or (isinstance(gid, str) and gid.startswith('$')):
        return None
    sums = []
    for name, acc in group.items():
        if name == '_id':
            continue
        if not isinstance(acc, dict) or set(acc) != {'$sum'}:
            return None
        arg = acc['$sum']
        if isinstance(arg, str) and arg.startswith('$') and '.' not in arg and len(arg) > 1:
            sums.append((name, arg[1:]))
        elif is_plain_number(arg):
            sums.append((name, arg))
        else:
            return None
    return sums


def _skip_limit(stages):
    """(skip, limit or None) for a run of $skip/$limit stages, else None."""
    skip, limit = 0, None
    for stage in stages:
        (op, v), = stage.items()
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return None
        if op == '$skip' and limit is None:
            skip += v
        elif op == '$limit' and v > 0:
            limit = v if limit is None else min(limit, v)
        else:
            return None
    return skip, limit


def _simple_group(coll, pipeline):
    """The result of [$match, ($skip|$limit)*, {$group: {_id: <constant>, F: {$sum: ...}, ...}}]
    computed without copying documents; None for any other pipeline."""
    if len(pipeline) < 2 or set(pipeline[0]) != {'$match'} or set(pipeline[-1]) != {'$group'}:
        return None
    group = pipeline[-1]['$group']
    sums = _group_sums(group)
    window = _skip_limit(pipeline[1:-1]) if sums is not None else None
    if window is None:
        return None
    skip, limit = window
    docs = coll._iter_documents(patch_dt(pipeline[0]['$match']))
    if skip or limit is not None:
        docs = itertools.islice(docs, skip, None if limit is None else skip + limit)
    fields = [(name, arg) for name, arg in sums if isinstance(arg, str)]
    totals = {name: 0 for name, _ in sums}
    kinds = {name: int for name, _ in sums}
    n = 0
    for d in docs:
        n += 1
        for name, f in fields:
            v = d.get(f)
            t = type(v)
            if t is int or t is Int64 or t is float:
                totals[name] += v
                if t is float:
                    kinds[name] = float
                elif t is Int64 and kinds[name] is int:
                    kinds[name] = Int64
    if not n:
        return []
    out = {'_id': group['_id']}
    for name, arg in sums:
        if isinstance(arg, str):
            kind = kinds[name]
            out[name] = kind(totals[name]) if kind is not int else totals[name]
        else:
            out[name] = arg * n
    return [out]


def cmd_aggregate(db, cmd, ctx):
    target = cmd.get('aggregate')
    if not isinstance(target, str):
        raise CmdError(238, 'database-level aggregation is not emulated by the mongomock test server')
    coll = get_coll(db, target)
    pipeline = cmd.get('pipeline')
    if not isinstance(pipeline, list):
        raise CmdError(14, "BSON field 'aggregate.pipeline' must be an array")
    if cmd.get('explain'):
        raise CmdError(238, 'explain is not emulated by the mongomock test server')
    check_collation(cmd)
    cursor_opt = cmd.get('cursor')
    if cursor_opt is None:
        raise CmdError(9, "The 'cursor' option is required, except for aggregate with the explain argument")
    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise CmdError(40323, 'A pipeline stage specification object must contain exactly one field.')
        mm_aggregate.validate_stage_name(next(iter(stage)))
    ns = '%s.%s' % (db, target)
    grouped = _simple_group(coll, pipeline)
    if grouped is not None:
        return documents_reply(ns, grouped)
    copy_doc = mm_collection._copy_field
    rest = pipeline
    if pipeline and '$match' in pipeline[0]:
        match = patch_dt(pipeline[0]['$match'])
        docs = [copy_doc(d, dict) for d in coll._iter_documents(match)]
        rest = pipeline[1:]
    else:
        docs = [copy_doc(d, dict) for d in coll._store._documents.values()]
    result = mm_aggregate.process_pipeline(docs, coll.database, rest, None)
    batch = cursor_opt.get('batchSize') if isinstance(cursor_opt, dict) else None
    return documents_reply(ns, result, DEFAULT_FIRST_BATCH if batch is None else int(batch))
