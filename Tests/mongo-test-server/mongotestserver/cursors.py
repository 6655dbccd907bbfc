"""Server-side cursors: the documents of a query, handed out in batches (firstBatch, then
getMore's nextBatch), and the cursor replies, built as BSON bytes from encoded documents."""

import random
import struct
import time

import bson

from .settings import BATCH_BYTES, CURSOR_IDLE_SECONDS

_I32 = struct.Struct('<i')
_OK_ONE = b'\x01ok\x00' + struct.pack('<d', 1.0)
CURSORS = {}
MAX_IDLE_CURSORS = 1000        # idle cursors are purged only once more than this many are open


class ServerCursor:
    """docs: stored documents (encoded lazily, with the projection, under the global lock), or
    already encoded ones (encoded=True)."""
    __slots__ = ('id', 'ns', 'docs', 'pos', 'projection', 'coll', 'used', 'encoded')

    def __init__(self, ns, docs, projection=None, coll=None, encoded=False):
        self.id = 0
        self.ns = ns
        self.docs = docs
        self.pos = 0
        self.projection = projection
        self.coll = coll
        self.used = time.monotonic()
        self.encoded = encoded

    def batch(self, n):
        """Next batch (encoded documents): at most n documents (None: no count limit), ~4 MB."""
        out = []
        size = 0
        docs = self.docs
        proj = self.projection
        enc = bson.encode
        while self.pos < len(docs) and (n is None or len(out) < n):
            d = docs[self.pos]
            if self.encoded:
                raw = d
            else:
                if proj is not None:
                    d = self.coll._copy_only_fields(d, dict(proj), dict)
                raw = enc(d)
            if out and size + len(raw) > BATCH_BYTES:
                break
            out.append(raw)
            size += len(raw)
            self.pos += 1
        self.used = time.monotonic()
        return out

    @property
    def exhausted(self):
        return self.pos >= len(self.docs)


def register_cursor(cur):
    if len(CURSORS) > MAX_IDLE_CURSORS:
        now = time.monotonic()
        for cid in [c for c, v in CURSORS.items() if now - v.used > CURSOR_IDLE_SECONDS]:
            del CURSORS[cid]
    while True:
        cid = random.getrandbits(62) | 1
        if cid not in CURSORS:
            break
    cur.id = cid
    CURSORS[cid] = cur
    return cid


def _cursor_bson(key, docs, cid, ns):
    """{cursor: {KEY: [docs...], id: cid, ns: ns}, ok: 1.0} as BSON, from encoded documents."""
    arr = b''.join(b'\x03%d\x00%s' % (i, d) for i, d in enumerate(docs))
    nsb = ns.encode('utf-8')
    body = (b'\x04' + key.encode() + b'\x00' + _I32.pack(len(arr) + 5) + arr + b'\x00'
            + b'\x12id\x00' + struct.pack('<q', cid)
            + b'\x02ns\x00' + _I32.pack(len(nsb) + 1) + nsb + b'\x00')
    cursor = b'\x03cursor\x00' + _I32.pack(len(body) + 5) + body + b'\x00'
    return _I32.pack(len(cursor) + len(_OK_ONE) + 5) + cursor + _OK_ONE + b'\x00'


def cursor_reply(cur, first_n, single=False, key='firstBatch'):
    """The cursor reply as BSON bytes (handlers may return bytes instead of a dict)."""
    batch = cur.batch(first_n)
    if single or cur.exhausted:
        cid = 0
        if cur.id:
            CURSORS.pop(cur.id, None)
    else:
        cid = cur.id or register_cursor(cur)
    return _cursor_bson(key, batch, cid, cur.ns)


def documents_reply(ns, docs, batch_size=None):
    """A cursor reply over documents computed by the command (listCollections, aggregate...)."""
    cur = ServerCursor(ns, [bson.encode(d) for d in docs], encoded=True)
    return cursor_reply(cur, batch_size)
