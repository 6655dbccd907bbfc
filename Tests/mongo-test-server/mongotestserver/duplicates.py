"""Duplicate key errors worded as MongoDB words them (index name, key pattern, key value)."""

import datetime

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from .keys import dt_utc


def render(v):
    """A value as MongoDB prints it in a duplicate key error message."""
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if v is None:
        return 'null'
    if isinstance(v, str):
        return '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, ObjectId):
        return "ObjectId('%s')" % v
    if isinstance(v, datetime.datetime):
        return 'new Date(%d)' % int(dt_utc(v).replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    if isinstance(v, dict):
        if not v:
            return '{}'
        return '{ ' + ', '.join('%s: %s' % (k, render(x)) for k, x in v.items()) + ' }'
    if isinstance(v, (list, tuple)):
        return '[ ' + ', '.join(render(x) for x in v) + ' ]'
    return repr(v)


class DupKey(DuplicateKeyError):
    """A duplicate key error that knows its index, key pattern and key value."""

    def __init__(self, ns, index_name, key_pattern, key_value):
        msg = 'E11000 duplicate key error collection: %s index: %s dup key: %s' % (
            ns, index_name, render(key_value))
        details = {'keyPattern': key_pattern, 'keyValue': key_value}
        super().__init__(msg, 11000, details)
        self.mts_details = details
        self.mts_msg = msg
        self.index_name = index_name
