"""Running a filter over a collection: candidates from the planner, re-checked with mongomock's
matcher (or an equivalent fast predicate for simple filters), then sorted, skipped and limited.
Results are references to the stored documents: use them under the global lock."""

import itertools
import operator

from bson.int64 import Int64
from mongomock.filtering import filter_applies, resolve_sort_key
from sentinels import NOTHING

from .errors import CmdError
from .keys import exact_eq, is_plain_number
from .planner import plan_query

_OPS = {'$gt': operator.gt, '$gte': operator.ge, '$lt': operator.lt, '$lte': operator.le}
_EQ, _IN = 0, 1


def compile_filter(filt):
    """A fast predicate equivalent to mongomock's filter_applies(filt, doc) for the common simple
    filters (top-level, non-dotted fields; equality/$eq/$in on strings, numbers, ObjectIds; numeric
    $gt/$gte/$lt/$lte), falling back to filter_applies for a document whose value is an array or
    a sub-document. None if the filter is not that simple."""
    preds = []
    for f, v in filt.items():
        if f.startswith('$') or '.' in f:
            return None
        if not isinstance(v, dict):
            if not exact_eq([v]):
                return None
            preds.append((f, _EQ, v))
            continue
        if not v or not all(k.startswith('$') for k in v):
            return None
        for op, arg in v.items():
            if op == '$eq':
                if not exact_eq([arg]):
                    return None
                preds.append((f, _EQ, arg))
            elif op == '$in':
                if not isinstance(arg, list) or not exact_eq(arg):
                    return None
                preds.append((f, _IN, arg))
            elif op in _OPS:
                if not is_plain_number(arg):
                    return None
                preds.append((f, _OPS[op], arg))
            else:
                return None

    def match(doc):
        for f, kind, arg in preds:
            v = doc.get(f, NOTHING)
            t = type(v)
            if t is list or t is tuple or t is dict:
                return filter_applies(filt, doc)
            if kind == _EQ:
                if v is NOTHING or not v == arg:
                    return False
            elif kind == _IN:
                if v is NOTHING or v not in arg:
                    return False
            elif (t is not int and t is not float and t is not Int64) or not kind(v, arg):
                return False
        return True
    return match


def matcher(filt):
    m = compile_filter(filt)
    return m if m is not None else (lambda d: filter_applies(filt, d))


def sort_docs(docs, sort):
    for key, direction in reversed(sort):
        if key == '$natural':
            if direction < 0:
                docs.reverse()
            continue
        if key.startswith('$'):
            raise CmdError(238, 'sorting by %s is not emulated' % key)
        if isinstance(direction, dict):
            raise CmdError(238, 'sort by $meta is not emulated')
        rev = direction < 0
        if '.' not in key:
            vals = [d.get(key, NOTHING) for d in docs]
            # All numbers or all strings: Python's order is BSON's, no need for mongomock's key.
            if all(is_plain_number(v) for v in vals) or all(type(v) is str for v in vals):
                order = sorted(range(len(docs)), key=vals.__getitem__, reverse=rev)
                docs = [docs[i] for i in order]
                continue
        docs.sort(key=lambda d: resolve_sort_key(key, d), reverse=rev)
    return docs


def candidates(store, filt, sort=None, need=None):
    """(the stored documents matching filt, in sort order?): a list or a lazy iterator."""
    store._remove_expired_documents()
    docs = store._documents
    if not docs:
        filter_applies(filt, {})      # an invalid filter fails on an empty collection too
        return (), False
    plan = plan_query(store, filt, sort, need)
    if plan is None:
        found, ordered, exact = list(docs.values()), False, not filt
    else:
        kind, found, exact = plan
        ordered = kind == 'ordered'
        exact = exact or not filt
    if exact:
        return found, ordered
    match = matcher(filt)
    return (d for d in found if match(d)), ordered


def iter_documents(store, filt):
    """The matching stored documents in natural order, lazily (mongomock's _iter_documents)."""
    return iter(candidates(store, filt)[0])


def run_query(coll, filt, sort=None, skip=0, limit=0):
    """Matching stored documents, sorted, skipped and limited."""
    need = skip + limit if limit else None
    found, ordered = candidates(coll._store, filt, sort, need)
    if ordered:
        out = list(itertools.islice(found, need))
        return out[skip:] if skip else out
    out = list(found)
    if sort:
        out = sort_docs(out, sort)
    if skip:
        out = out[skip:]
    if limit:
        out = out[:limit]
    return out
