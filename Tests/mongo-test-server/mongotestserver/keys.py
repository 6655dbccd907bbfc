"""Normalized, hashable forms of BSON values: the keys of the index maps.

  coarse (queries): numbers and booleans share one class (Python's 1 == True, as mongomock
  compares), sub-documents ignore field order: a superset of what mongomock's matcher accepts.
  strict (unique checks): booleans apart from numbers, sub-document field order matters, 1 == 1.0.
"""

import datetime
import re

import bson
from bson import ObjectId
from bson.int64 import Int64
from mongomock import helpers as mm_helpers
from sentinels import NOTHING

MISSING = ('z',)        # null and missing are the same index key
EMPTY_ARRAY = ('e',)
NAN = ('n', float('nan'))   # every NaN is this one key (as in MongoDB; float('nan') != itself)
RE_TYPES = (re.Pattern, bson.Regex)
_EXACT_TYPES = (str, int, float, Int64, ObjectId)


def dt_utc(v):
    """A datetime as naive UTC."""
    if v.tzinfo is not None:
        v = (v - v.utcoffset()).replace(tzinfo=None)
    return v


def is_plain_number(v):
    t = type(v)
    return (t is int or t is Int64 or t is float) and v == v


def exact_eq(values):
    """True if index equality on these values is exactly mongomock's match (no re-check needed)."""
    for v in values:
        t = type(v)
        if t not in _EXACT_TYPES or (t is float and v != v):
            return False
    return True


def norm(v, strict=False):
    t = type(v)
    if t is str:
        return ('s', v)
    if t is bool:
        return ('b', v) if strict else ('n', v)
    if t is int or t is Int64:
        return ('n', v)
    if t is float:
        return ('n', v) if v == v else NAN
    if v is None:
        return MISSING
    if t is ObjectId:
        return ('o', v)
    if isinstance(v, datetime.datetime):
        return ('d', dt_utc(v))
    if isinstance(v, dict):
        if strict:
            return ('m',) + tuple((k, norm(x, True)) for k, x in v.items())
        return ('m', frozenset((k, norm(x, False)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return ('a',) + tuple(norm(x, strict) for x in v)
    if isinstance(v, bytes):
        return ('y', bytes(v), getattr(v, 'subtype', 0))
    if isinstance(v, (int, float)):
        return ('n', v) if v == v else NAN
    try:
        hash(v)
        return ('x', t.__name__, v)
    except TypeError:
        return ('r', t.__name__, repr(v))


def denorm(e):
    """A value back from its norm() (for the keyValue of a duplicate key error)."""
    tag = e[0]
    if tag == 'z':
        return None
    if tag == 'e':
        return []
    if tag == 'm':
        items = e[1] if len(e) == 2 and isinstance(e[1], frozenset) else e[1:]
        return {k: denorm(x) for k, x in items}
    if tag == 'a':
        return [denorm(x) for x in e[1:]]
    if tag == 'y':
        return bson.Binary(e[1], e[2])
    if tag in ('x', 'r'):
        return e[2]
    return e[1]


def key_of(_id):
    """The key mongomock uses for an _id in its document store."""
    return mm_helpers.hashdict(_id) if isinstance(_id, dict) else _id


def field_values(doc, parts):
    """Raw values at a dotted path (NOTHING for missing), descending into arrays of documents."""
    if len(parts) == 1:
        return [doc.get(parts[0], NOTHING)]
    cur = [doc]
    for p in parts:
        nxt = []
        for c in cur:
            if isinstance(c, dict):
                nxt.append(c.get(p, NOTHING))
            elif isinstance(c, list):
                for e in c:
                    if isinstance(e, dict):
                        nxt.append(e.get(p, NOTHING))
            else:
                nxt.append(NOTHING)
        cur = nxt
    return cur or [NOTHING]


def field_entries(vals, strict):
    """The distinct index entries of field_values(): arrays contribute each element (an empty
    array: EMPTY_ARRAY), missing is MISSING."""
    out = []
    for v in vals:
        if v is NOTHING:
            if MISSING not in out:
                out.append(MISSING)
        elif isinstance(v, list):
            if not v and EMPTY_ARRAY not in out:
                out.append(EMPTY_ARRAY)
            for x in v:
                e = norm(x, strict)
                if e not in out:
                    out.append(e)
        else:
            e = norm(v, strict)
            if e not in out:
                out.append(e)
    return out
