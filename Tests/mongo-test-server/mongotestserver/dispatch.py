"""Running one command: the global lock (mongomock is not thread-safe, and each command must be
atomic), the error reply for any failure, and the journal record of what the command changed."""

import threading
import time
import traceback

import bson

from . import patches, settings
from .commands import COMMANDS, NO_LOCK
from .engine import check_db
from .errors import error_bson, error_reply, exc_to_code
from .journal import CHANGES, Journal, records_for
from .settings import log

LOCK = threading.Lock()          # around every command that touches mongomock
JOURNAL = None                   # the open Journal (--journal), or None

# Not part of a command's meaning: left out of the commands journalled as themselves.
GENERIC_FIELDS = {'$db', 'lsid', '$clusterTime', '$readPreference', 'txnNumber', 'autocommit',
                  'startTransaction', 'writeConcern', 'readConcern', 'apiVersion', 'apiStrict',
                  'apiDeprecationErrors', 'comment', 'maxTimeMS', 'bypassDocumentValidation',
                  '$query', '$queryOptions'}


def _encode(reply):
    return reply if type(reply) is bytes else bson.encode(reply)


def execute_locked(db, cmd, ctx=None, replay=False):
    """Runs a command under LOCK, journals its effect (unless replaying), returns the encoded
    reply."""
    ctx = ctx if ctx is not None else {}
    name = next(iter(cmd))
    handler = COMMANDS[name]
    journal = None if replay else JOURNAL
    with LOCK:
        CHANGES.start(journal is not None)
        ctx.pop('journal_cmd', None)
        patches.new_command()
        try:
            try:
                reply = handler(db, cmd, ctx)
            except Exception as exc:      # noqa: BLE001 - becomes an error reply
                code, msg, extra = exc_to_code(exc)
                if code == 1 or replay:
                    log('command %s failed: %s' % (name, traceback.format_exc()))
                reply = error_reply(code, msg, extra)
            return _encode(reply)
        finally:
            touched = CHANGES.finish()
            if journal is not None:
                if ctx.pop('journal_cmd', None):
                    journal.write([{'d': db, 'cmd': {k: v for k, v in cmd.items() if k not in GENERIC_FIELDS}}])
                elif touched:
                    records = records_for(touched)
                    if records:
                        journal.write(records)


def execute(db, cmd, ctx):
    """Runs one command (its $db, else db); returns the reply as BSON bytes. Never raises."""
    try:
        if not cmd:
            return error_bson(9, 'empty command')
        name = next(iter(cmd))
        db = cmd.get('$db', db)
        handler = COMMANDS.get(name)
        if handler is None:
            return error_bson(59, "no such command: '%s'" % name)
        check_db(db)
        if name in NO_LOCK:
            return _encode(handler(db, cmd, ctx))
        if not settings.LOG:
            return execute_locked(db, cmd, ctx)
        t0 = time.perf_counter()
        out = execute_locked(db, cmd, ctx)
        log('%s %s.%s %.2f ms' % (name, db, cmd.get(name), (time.perf_counter() - t0) * 1000))
        return out
    except Exception as exc:      # noqa: BLE001
        code, msg, extra = exc_to_code(exc)
        if code == 1:
            log('command failed: %s' % traceback.format_exc())
        return error_bson(code, msg, extra)


def open_journal(path):
    """Replays the journal at path, then journals every change to it from now on."""
    global JOURNAL
    journal = Journal(path)
    t0 = time.perf_counter()
    n = journal.replay(lambda db, cmd: execute_locked(db, cmd, replay=True))
    log('replayed %d journal records in %.2f s' % (n, time.perf_counter() - t0))
    journal.open()
    JOURNAL = journal
