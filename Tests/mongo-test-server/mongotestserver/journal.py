"""The journal (--journal FILE): every state change is appended before the reply is sent (one
write(2) per command, no fsync), and replayed into a fresh mongomock on start.

Data changes are journalled as their effect: the patched CollectionStore reports every document
key written or deleted during a command (and every drop) to CHANGES; after the command the current
documents under those keys become records {d, c, p: [documents]} / {d, c, x: [deleted _ids]} /
{d, c, drop: true}. A few commands are journalled as the command itself: {d, cmd}.
"""

import os

import bson

from .engine import CLIENT, all_stores, store
from .indexes import forget_state
from .keys import key_of
from .settings import CODEC, log

DROP = object()


class Changes:
    """The (store, key) pairs touched by the running command, in order; (store, DROP) for a drop.
    Only recorded while enabled (a journalled command), which is only under the global lock."""

    def __init__(self):
        self.enabled = False
        self.touched = []

    def touch(self, cs, key):
        if self.enabled:
            self.touched.append((cs, key))

    def start(self, enabled):
        self.enabled = enabled
        self.touched = []

    def finish(self):
        touched = self.touched
        self.enabled = False
        self.touched = []
        return touched


CHANGES = Changes()
_NS_CACHE = {}


def _store_ns(cs):
    """(database, collection) names of a store (stores do not know their database)."""
    hit = _NS_CACHE.get(id(cs))
    if hit is not None and hit[0] is cs:
        dbs = CLIENT._store._databases.get(hit[1])
        if dbs is not None and dbs._collections.get(hit[2]) is cs:
            return hit[1], hit[2]
    for dbname, dbs in CLIENT._store._databases.items():
        for cname, c in dbs._collections.items():
            if c is cs:
                _NS_CACHE[id(cs)] = (cs, dbname, cname)
                return dbname, cname
    return None, cs.name


def records_for(touched):
    """Journal records for the touched keys, in order (a drop starts a new record)."""
    records = []
    current = {}      # store id -> (store, {key: None}) since the last drop of that store

    def flush(cs):
        entry = current.pop(id(cs), None)
        if entry is None:
            return
        db, cname = _store_ns(cs)
        puts, dels = [], []
        docs = cs._documents
        for k in entry[1]:
            d = docs.get(k)
            if d is None:
                dels.append(k)
            else:
                puts.append(d)
        for i in range(0, len(dels), 10000):
            records.append({'d': db, 'c': cname, 'x': dels[i:i + 10000]})
        for i in range(0, len(puts), 500):       # records stay far below 16 MB
            records.append({'d': db, 'c': cname, 'p': puts[i:i + 500]})

    for cs, key in touched:
        if key is DROP:
            flush(cs)
            db, cname = _store_ns(cs)
            records.append({'d': db, 'c': cname, 'drop': True})
        else:
            current.setdefault(id(cs), (cs, {}))[1][key] = None
    for cs, _ in list(current.values()):
        flush(cs)
    return records


def apply_record(rec, run_command):
    """Replays one record; run_command(db, cmd) runs a journalled command."""
    if 'cmd' in rec:
        run_command(rec['d'], rec['cmd'])
        return
    cs = store(rec['d'], rec['c'])
    forget_state(cs)
    if rec.get('drop'):
        cs.drop()
        forget_state(cs)
        return
    docs = cs._documents
    for _id in rec.get('x', ()):
        docs.pop(key_of(_id), None)
    for doc in rec.get('p', ()):
        docs[key_of(doc['_id'])] = doc


class Journal:
    def __init__(self, path):
        self.path = path
        self.fd = None

    def replay(self, run_command):
        """Applies every complete record; cuts off a torn last one. Returns the record count."""
        if not os.path.exists(self.path):
            return 0
        with open(self.path, 'rb') as f:
            data = f.read()
        pos = 0
        count = 0
        while pos + 4 <= len(data):
            size = int.from_bytes(data[pos:pos + 4], 'little', signed=True)
            if size < 5 or pos + size > len(data):
                break
            try:
                rec = bson.decode(data[pos:pos + size], CODEC)
            except Exception:     # noqa: BLE001 - a torn record
                break
            apply_record(rec, run_command)
            pos += size
            count += 1
        if pos < len(data):
            log('journal: cutting a torn record at offset %d (%d bytes)' % (pos, len(data) - pos))
            with open(self.path, 'r+b') as f:
                f.truncate(pos)
        for cs in all_stores():
            forget_state(cs)
        return count

    def open(self):
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, records):
        """Appends the records with one write(2) (more only for a partial write)."""
        view = memoryview(b''.join(bson.encode(r) for r in records))
        while view:
            view = view[os.write(self.fd, view):]
