"""Handshake, server information and session commands."""

import datetime
import os
import threading
import time

import mongomock
from bson import ObjectId
from bson.int64 import Int64

from .. import settings
from ..errors import CmdError
from ..settings import MAX_BSON, MAX_MESSAGE, MAX_WRITE_BATCH

ELECTION_ID = ObjectId('7fffffff0000000000000001')


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def cmd_hello(db, cmd, ctx):
    host, port = settings.HOST, settings.PORT
    addr = ('[%s]:%d' if ':' in host else '%s:%d') % (host, port)
    reply = {
        'helloOk': True,
        'ismaster': True,
        'maxBsonObjectSize': MAX_BSON,
        'maxMessageSizeBytes': MAX_MESSAGE,
        'maxWriteBatchSize': MAX_WRITE_BATCH,
        'localTime': _now(),
        'minWireVersion': 0,
        'maxWireVersion': 13,
        'readOnly': False,
        'connectionId': ctx.get('conn_id', 0),
        'ok': 1.0,
    }
    if next(iter(cmd)) == 'hello':
        reply['isWritablePrimary'] = True
    if settings.REPLICA_SET:
        reply.update({'setName': settings.REPLICA_SET, 'setVersion': 1, 'hosts': [addr], 'primary': addr,
                      'me': addr, 'secondary': False, 'electionId': ELECTION_ID})
    return reply


def cmd_ok(db, cmd, ctx):
    """ping, endSessions."""
    return {'ok': 1.0}


def cmd_buildinfo(db, cmd, ctx):
    return {'version': '5.0.0-mongomock', 'gitVersion': 'mongomock-%s' % mongomock.__version__,
            'versionArray': [5, 0, 0, 0], 'bits': 64, 'debug': False, 'maxBsonObjectSize': MAX_BSON,
            'storageEngines': ['mongomock'], 'javascriptEngine': 'none', 'modules': [],
            'sysInfo': 'mongomock test server', 'allocator': 'system', 'ok': 1.0}


def cmd_getparameter(db, cmd, ctx):
    params = {'featureCompatibilityVersion': {'version': '5.0'}, 'authenticationMechanisms': [],
              'maxBSONDepth': 100, 'logLevel': 0}
    which = cmd.get('getParameter')
    if which == '*' or (isinstance(which, dict) and which.get('allParameters')):
        out = dict(params)
    else:
        out = {k: v for k, v in params.items() if k in cmd}
    out['ok'] = 1.0
    return out


def cmd_serverstatus(db, cmd, ctx):
    return {'host': '%s:%d' % (settings.HOST, settings.PORT), 'version': '5.0.0-mongomock',
            'process': 'mongo-test-server', 'pid': Int64(os.getpid()),
            'uptime': float(time.time() - settings.START), 'localTime': _now(),
            'connections': {'current': threading.active_count() - 1}, 'ok': 1.0}


def cmd_whatsmyuri(db, cmd, ctx):
    return {'you': ctx.get('peer', ''), 'ok': 1.0}


def cmd_transaction(db, cmd, ctx):
    raise CmdError(20, 'transactions are not emulated by the mongomock test server')
