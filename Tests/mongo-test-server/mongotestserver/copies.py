"""Fast versions of two functions mongomock runs over whole documents on every write: deepcopy
(the snapshot of a document before an update) and patch_datetime_awareness_in_document (datetimes
to naive UTC milliseconds, on every inserted document, filter and update). Documents here are what
bson.decode made them (plain dicts, lists and immutable scalars) or mongomock's upserts made them
(OrderedDicts). Those are handled directly, keeping their types; any other value goes to the
original function, so the results are the same."""

import copy
import datetime
import types
from collections import OrderedDict

from bson import Binary, Decimal128, ObjectId
from bson.int64 import Int64
from mongomock import collection as mm_collection
from mongomock import helpers as mm_helpers

# Immutable values that both functions return unchanged (or as an equal copy).
_SCALARS = frozenset({str, int, float, bool, type(None), Int64, ObjectId, bytes, Binary, Decimal128})
_orig_patch_datetime = mm_helpers.patch_datetime_awareness_in_document


def deepcopy(v, memo=None):
    t = type(v)
    if t is dict:
        return {k: deepcopy(x) for k, x in v.items()}
    if t is list:
        return [deepcopy(x) for x in v]
    if t is OrderedDict:
        return OrderedDict((k, deepcopy(x)) for k, x in v.items())
    if t in _SCALARS or t is datetime.datetime:
        return v
    return copy.deepcopy(v, memo)


def patch_datetime(v):
    t = type(v)
    if t is dict:
        return {k: patch_datetime(x) for k, x in v.items()}
    if t is list:
        return [patch_datetime(x) for x in v]
    if t is OrderedDict:
        return OrderedDict((k, patch_datetime(x)) for k, x in v.items())
    if t in _SCALARS:
        return v
    return _orig_patch_datetime(v)


def install():
    mm_collection.copy = types.SimpleNamespace(copy=copy.copy, deepcopy=deepcopy)
    mm_helpers.patch_datetime_awareness_in_document = patch_datetime
