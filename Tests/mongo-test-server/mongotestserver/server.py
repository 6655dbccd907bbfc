"""Sockets and threads: one thread per connection, reading messages and answering each one with a
single send, and main() (the command line of ../mongo_test_server.py)."""

import argparse
import itertools
import socket
import sys
import threading
import traceback

import bson

from . import dispatch, settings
from .errors import CmdError, error_bson, exc_to_code
from .settings import MAX_MESSAGE, log
from .wire import (HEADER, MORE_TO_COME, OP_KILL_CURSORS, OP_MSG, OP_QUERY, QUERY_FAILURE, op_msg_reply,
                   op_reply, parse_op_msg, parse_op_query)

READ_BUFFER = 1 << 16
CONN_IDS = itertools.count(1)
# How long a thread holding the GIL runs before a waiting one gets it (CPython: 5 ms). Shorter, an
# unlocked command (hello, ping) queued behind a long one (a scan) waits 0.5 ms, not 5 ms.
SWITCH_INTERVAL = 0.0005


def _bad_request(what, exc):
    code, msg, _ = exc_to_code(exc)
    return error_bson(code if code != 1 else 9, 'bad %s: %s' % (what, msg))


def _answer_op_msg(body, ctx):
    """The reply to an OP_MSG, or None for moreToCome."""
    try:
        flags, cmd = parse_op_msg(body)
        reply = dispatch.execute(cmd.get('$db', 'admin'), cmd, ctx)
    except Exception as exc:      # noqa: BLE001
        flags, reply = 0, _bad_request('OP_MSG', exc)
    return None if flags & MORE_TO_COME else reply


def _answer_op_query(body, ctx):
    """(OP_REPLY flags, reply) to an OP_QUERY: commands on DB.$cmd only."""
    try:
        ns, query = parse_op_query(body)
        if not ns.endswith('.$cmd'):
            return QUERY_FAILURE, bson.encode({'$err': 'OP_QUERY is only supported for commands',
                                               'code': 352, 'ok': 0.0})
        cmd = query.get('$query', query)
        if not isinstance(cmd, dict):
            raise CmdError(9, '$query must be an object')
        return 0, dispatch.execute(ns[:-5], cmd, ctx)
    except Exception as exc:      # noqa: BLE001
        return 0, _bad_request('OP_QUERY', exc)


def serve_connection(sock, peer):
    ctx = {'conn_id': next(CONN_IDS), 'peer': '%s:%d' % peer[:2]}
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        read = sock.makefile('rb', buffering=READ_BUFFER).read    # one recv per message, mostly
        send = sock.sendall
        while True:
            hdr = read(16)
            if len(hdr) < 16:
                break
            length, req_id, _, opcode = HEADER.unpack(hdr)
            if length < 16 or length > MAX_MESSAGE + (1 << 20):
                log('bad message length %d from %s' % (length, ctx['peer']))
                break
            body = read(length - 16)
            if len(body) < length - 16:
                break
            if opcode == OP_MSG:
                reply = _answer_op_msg(body, ctx)
                if reply is not None:
                    send(op_msg_reply(req_id, reply))
            elif opcode == OP_QUERY:
                flags, reply = _answer_op_query(body, ctx)
                send(op_reply(req_id, reply, flags))
            elif opcode != OP_KILL_CURSORS:       # legacy OP_KILL_CURSORS: no reply
                log('unsupported opcode %d from %s: closing' % (opcode, ctx['peer']))
                break
    except OSError:
        pass
    except Exception:     # noqa: BLE001
        log('connection thread failed: %s' % traceback.format_exc())
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main(argv=None):
    ap = argparse.ArgumentParser(description='MongoDB wire-protocol test server on mongomock')
    ap.add_argument('--port', type=int, default=27017)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--journal')
    ap.add_argument('--replica-set')
    ap.add_argument('--log', action='store_true')
    args = ap.parse_args(argv)
    settings.LOG = args.log
    settings.HOST = args.host
    settings.REPLICA_SET = args.replica_set
    if args.journal:
        dispatch.open_journal(args.journal)
    sys.setswitchinterval(SWITCH_INTERVAL)
    family = socket.AF_INET6 if ':' in args.host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(256)
    settings.PORT = srv.getsockname()[1]
    print('listening on %s:%d' % (args.host, settings.PORT), flush=True)
    try:
        while True:
            conn, peer = srv.accept()
            threading.Thread(target=serve_connection, args=(conn, peer), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
