"""Update operators that mongomock does differently from MongoDB: $inc keeps Int64 (mongomock
returned a plain int, which re-encodes as int32 when small) and refuses overflow, $mul exists,
$max/$min compare in BSON order (Python's max/min raise TypeError across types)."""

import operator

from bson.int64 import Int64
from mongomock import collection as mm_collection
from mongomock.filtering import bson_compare
from pymongo.errors import WriteError
from sentinels import NOTHING


def _num_result(a, b, r):
    if isinstance(r, int) and not isinstance(r, bool):
        if not -2**63 <= r < 2**63:
            raise WriteError('Failed to apply $inc/$mul: the result %d overflows a 64-bit integer' % r, 2)
        if type(a) is Int64 or type(b) is Int64:
            return Int64(r)
    return r


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_numeric(op, v):
    if not _is_number(v):
        raise WriteError('Cannot %s with non-numeric argument: %r' % (op, v), 14)


def inc_updater(doc, field_name, value):
    _check_numeric('increment', value)
    if isinstance(doc, dict):
        cur = doc.get(field_name, 0)
        if not _is_number(cur):
            raise WriteError("Cannot apply $inc to a value of non-numeric type. {_id: ...} has the field "
                             "'%s' of non-numeric type %s" % (field_name, type(cur).__name__), 14)
        doc[field_name] = _num_result(cur, value, cur + value)
    elif isinstance(doc, list):
        i = int(field_name)
        if i < 0:
            raise WriteError('Negative index provided')
        if i < len(doc):
            doc[i] = _num_result(doc[i], value, doc[i] + value)
        else:
            doc += [None] * (i - len(doc) + 1)
            doc[i] = value


def mul_updater(doc, field_name, value):
    _check_numeric('multiply', value)
    if isinstance(doc, dict):
        cur = doc.get(field_name, NOTHING)
        if cur is NOTHING:
            doc[field_name] = _num_result(value, value, value * 0)
            return
        if not _is_number(cur):
            raise WriteError("Cannot apply $mul to a value of non-numeric type", 14)
        doc[field_name] = _num_result(cur, value, cur * value)


def cmp_updater(op):
    def updater(doc, field_name, value):
        if isinstance(doc, dict):
            if field_name not in doc or bson_compare(op, value, doc[field_name]):
                doc[field_name] = value
    return updater


def install():
    mm_collection._updaters['$inc'] = inc_updater
    mm_collection._updaters['$mul'] = mul_updater
    mm_collection._updaters['$max'] = cmp_updater(operator.gt)
    mm_collection._updaters['$min'] = cmp_updater(operator.lt)
