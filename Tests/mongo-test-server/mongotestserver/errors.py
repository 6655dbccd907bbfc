"""Error codes, the exceptions handlers raise, and error replies."""

import bson
from pymongo.errors import DuplicateKeyError, OperationFailure

CODE_NAMES = {
    1: 'InternalError', 2: 'BadValue', 9: 'FailedToParse', 14: 'TypeMismatch',
    20: 'IllegalOperation', 26: 'NamespaceNotFound', 27: 'IndexNotFound', 43: 'CursorNotFound',
    48: 'NamespaceExists', 59: 'CommandNotFound', 66: 'ImmutableField', 67: 'CannotCreateIndex',
    72: 'InvalidOptions', 73: 'InvalidNamespace', 85: 'IndexOptionsConflict',
    86: 'IndexKeySpecsConflict', 115: 'CommandNotSupported', 171: 'CannotIndexParallelArrays',
    238: 'NotImplemented', 11000: 'DuplicateKey',
}


class CmdError(Exception):
    def __init__(self, code, msg, extra=None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.extra = extra or {}


def error_reply(code, msg, extra=None):
    reply = {'ok': 0.0, 'errmsg': msg, 'code': code, 'codeName': CODE_NAMES.get(code, 'UnknownError')}
    if extra:
        reply.update(extra)
    return reply


def error_bson(code, msg, extra=None):
    """error_reply as BSON; without extra if extra cannot be encoded."""
    try:
        return bson.encode(error_reply(code, msg, extra))
    except Exception:     # noqa: BLE001
        return bson.encode(error_reply(code, msg))


def _exc_msg(exc):
    msg = getattr(exc, '_message', None)
    return msg if isinstance(msg, str) else str(exc)


def exc_to_code(exc):
    """(code, message, extra) for any exception raised while executing a command."""
    if isinstance(exc, CmdError):
        return exc.code, exc.msg, exc.extra
    if isinstance(exc, DuplicateKeyError):
        details = getattr(exc, 'mts_details', None) or {}
        return 11000, getattr(exc, 'mts_msg', None) or _exc_msg(exc), details
    if isinstance(exc, OperationFailure):
        code = exc.code if isinstance(exc.code, int) and exc.code else 2
        msg = _exc_msg(exc)
        if 'immutable' in msg or 'cannot be changed' in msg:
            code = 66
        return code, msg, {}
    if isinstance(exc, NotImplementedError):
        return 238, 'not emulated by the mongomock test server: %s' % exc, {}
    if isinstance(exc, TypeError):
        return 14, str(exc), {}
    if isinstance(exc, (ValueError, KeyError, IndexError, bson.errors.InvalidDocument)):
        return 2, str(exc) or type(exc).__name__, {}
    if isinstance(exc, OverflowError):
        return 2, 'numeric overflow: %s' % exc, {}
    return 1, '%s: %s' % (type(exc).__name__, exc), {}
