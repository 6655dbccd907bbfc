"""Sockets and threads: one thread per connection, reading messages and answering each one with a
single send, and main() (the command line of ../mongo_test_server.py)."""

import argparse
import itertools
import select
import socket
import sys
import threading
import time
import traceback

import bson

from . import dispatch, settings
from .errors import CmdError, error_bson, exc_to_code
from .settings import MAX_MESSAGE, log
from .wire import (HEADER, MORE_TO_COME, OP_KILL_CURSORS, OP_MSG, OP_QUERY, QUERY_FAILURE, op_msg_reply,
                   op_reply, parse_op_msg, parse_op_query)

READ_BUFFER = 1 << 16            # recv size; a large message is read up to 1 MiB at a time
MAX_RECV = 1 << 20
CONN_IDS = itertools.count(1)
# A sequential client: before blocking in recv, its connection thread polls the socket for up to
# SPIN_SECONDS. A thread blocked in recv wakes up only ~50 µs after the data arrives on an idle
# (virtual) machine; the client's next command usually comes sooner. A connection spins only after
# it sent the last SPIN_STREAK commands in a row, only one spins at a time, and it stops as soon as
# another connection has a command in flight: a spinning thread holds the GIL between polls and
# burns a core, which concurrent clients need.
SPIN_SECONDS = 0.0002
SPIN_STREAK = 8
_ACTIVE = set()                  # connections with a command in flight
_SPIN = threading.Lock()         # held by the spinning thread
_LAST = [0, 0]                   # the connection of the last command, how many in a row
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


class _Reader:
    """Whole messages from a socket: as few recv calls as the data allows (usually one)."""

    def __init__(self, sock, conn_id, peer):
        self.conn_id = conn_id
        self.peer = peer
        self.recv = sock.recv
        self.poll = select.poll()
        self.poll.register(sock, select.POLLIN)
        self.buf = bytearray()

    def message(self):
        """(request id, opcode, body), or None at EOF or for a bad length."""
        buf = self.buf
        while len(buf) < 16:
            if not self._fill(16):
                return None
        length, req_id, _, opcode = HEADER.unpack_from(buf)
        if length < 16 or length > MAX_MESSAGE + (1 << 20):
            log('bad message length %d from %s' % (length, self.peer))
            return None
        while len(buf) < length:
            if not self._fill(length):
                return None
        body = bytes(buf[16:length])
        del buf[:length]
        return req_id, opcode, body

    def _fill(self, need):
        if not self.buf:
            self._spin()
        chunk = self.recv(min(max(READ_BUFFER, need - len(self.buf)), MAX_RECV))
        self.buf += chunk
        return bool(chunk)

    def _spin(self):
        if _LAST[0] != self.conn_id or _LAST[1] < SPIN_STREAK or _ACTIVE:
            return
        if not _SPIN.acquire(blocking=False):
            return
        try:
            poll = self.poll.poll
            clock = time.perf_counter
            end = clock() + SPIN_SECONDS
            while not _ACTIVE and clock() < end:
                if poll(0):
                    return
        finally:
            _SPIN.release()


def serve_connection(sock, peer):
    conn_id = next(CONN_IDS)
    ctx = {'conn_id': conn_id, 'peer': '%s:%d' % peer[:2]}
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = _Reader(sock, conn_id, ctx['peer'])
        send = sock.sendall
        while True:
            msg = reader.message()
            if msg is None:
                break
            _ACTIVE.add(conn_id)
            if _LAST[0] == conn_id:
                _LAST[1] += 1
            else:
                _LAST[:] = [conn_id, 1]
            req_id, opcode, body = msg
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
            _ACTIVE.discard(conn_id)
    except OSError:
        pass
    except Exception:     # noqa: BLE001
        log('connection thread failed: %s' % traceback.format_exc())
    finally:
        _ACTIVE.discard(conn_id)
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
