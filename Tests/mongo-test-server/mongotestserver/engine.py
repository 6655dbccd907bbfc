"""The mongomock client every command works on, and collection lookup."""

import mongomock

from .errors import CmdError
from .settings import MAX_BSON

CLIENT = mongomock.MongoClient()
# mongomock asks the server version to decide some MongoDB 5 behaviours (empty update operators).
_SERVER_INFO = {'version': '5.0.5', 'versionArray': [5, 0, 5], 'sysInfo': 'Mock', 'bits': 64,
                'debug': False, 'maxBsonObjectSize': MAX_BSON, 'ok': 1}
CLIENT.server_info = lambda: _SERVER_INFO
_COLLS = {}


def get_coll(db, name):
    if not isinstance(name, str) or not name or '\0' in name or name.startswith('$'):
        raise CmdError(73, 'Invalid collection name: %r' % (name,))
    c = _COLLS.get((db, name))
    if c is None:
        c = _COLLS[(db, name)] = CLIENT[db][name]
    return c


def store(db, name):
    """mongomock's CollectionStore of db.name."""
    return CLIENT._store[db][name]


def check_db(db):
    if not isinstance(db, str) or not db or any(ch in db for ch in '/\\. "$\0'):
        raise CmdError(73, 'Invalid database name: %r' % (db,))


def all_stores():
    for dbs in CLIENT._store._databases.values():
        yield from dbs._collections.values()
