"""The wire protocol: a 16-byte header (length, requestID, responseTo, opCode); OP_MSG (2013) with
kind-0 and kind-1 sections, checksumPresent (the CRC is ignored) and moreToCome (no reply);
OP_QUERY (2004) for commands on `DB.$cmd` (the handshake), answered with OP_REPLY (1). Replies
are OP_MSG with flags 0 and one kind-0 section."""

import itertools
import struct

import bson

from .errors import CmdError
from .settings import CODEC

OP_REPLY, OP_QUERY, OP_KILL_CURSORS, OP_MSG = 1, 2004, 2007, 2013
HEADER = struct.Struct('<iiii')
CHECKSUM_PRESENT, MORE_TO_COME = 1, 2
QUERY_FAILURE = 2
_I32 = struct.Struct('<i')
_MSG_HEAD = struct.Struct('<iiiiIB')          # header, flagBits 0, section kind 0
_REPLY_HEAD = struct.Struct('<iiiiiqii')      # header, responseFlags, cursorID, startingFrom, numberReturned
_REQ_IDS = itertools.count(1)


def parse_op_msg(body):
    """(flags, command) of an OP_MSG body (after the header); document sequences become arrays."""
    flags = struct.unpack_from('<I', body, 0)[0]
    end = len(body) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos = 4
    cmd = None
    seqs = []
    while pos < end:
        kind = body[pos]
        pos += 1
        size = _I32.unpack_from(body, pos)[0]
        if size < 5 or pos + size > end:
            raise CmdError(9, 'OP_MSG section size out of bounds')
        if kind == 0:
            if cmd is not None:
                raise CmdError(9, 'OP_MSG with more than one body section')
            cmd = bson.decode(body[pos:pos + size], CODEC)
        elif kind == 1:
            seqs.append(_document_sequence(body, pos, pos + size))
        else:
            raise CmdError(9, 'unknown OP_MSG section kind %d' % kind)
        pos += size
    if cmd is None:
        raise CmdError(9, 'OP_MSG without a body section')
    for ident, docs in seqs:
        existing = cmd.get(ident)
        if isinstance(existing, list):
            existing.extend(docs)
        else:
            cmd[ident] = docs
    return flags, cmd


def _document_sequence(body, start, end):
    p = start + 4
    z = body.index(b'\0', p, end)
    ident = body[p:z].decode('utf-8')
    p = z + 1
    docs = []
    while p < end:
        dsize = _I32.unpack_from(body, p)[0]
        if dsize < 5 or p + dsize > end:
            raise CmdError(9, 'OP_MSG document sequence out of bounds')
        docs.append(bson.decode(body[p:p + dsize], CODEC))
        p += dsize
    return ident, docs


def parse_op_query(body):
    """(full collection name, query document) of an OP_QUERY body."""
    pos = 4
    z = body.index(b'\0', pos)
    ns = body[pos:z].decode('utf-8')
    pos = z + 1 + 8
    size = _I32.unpack_from(body, pos)[0]
    return ns, bson.decode(body[pos:pos + size], CODEC)


def op_msg_reply(response_to, reply):
    """The OP_MSG carrying reply (BSON bytes), as one buffer."""
    return _MSG_HEAD.pack(21 + len(reply), next(_REQ_IDS), response_to, OP_MSG, 0, 0) + reply


def op_reply(response_to, reply, flags=0):
    """The OP_REPLY carrying one document (BSON bytes), as one buffer."""
    return _REPLY_HEAD.pack(36 + len(reply), next(_REQ_IDS), response_to, OP_REPLY, flags, 0, 0, 1) + reply
