"""The in-memory index maps kept beside mongomock's CollectionStore (mongomock itself scans every
document for every query and every unique check).

Each document is named by its sequence number (sid): its natural order, as mongomock keeps
documents in an insertion-ordered dict. An index map maps an entry to one sid or to a set of sids.
"""

import bisect
import itertools

from mongomock.filtering import filter_applies
from pymongo.errors import WriteError
from sentinels import NOTHING

from .duplicates import DupKey
from .keys import denorm, field_entries, field_values, is_plain_number


def madd(m, e, sid):
    """Adds sid under e; returns True if e is new in m."""
    cur = m.get(e, NOTHING)
    if cur is NOTHING:
        m[e] = sid
        return True
    if type(cur) is set:
        cur.add(sid)
    elif cur != sid:
        m[e] = {cur, sid}
    return False


def mdel(m, e, sid):
    """Removes sid under e; returns True if e is gone from m."""
    cur = m.get(e, NOTHING)
    if cur is NOTHING:
        return False
    if type(cur) is set:
        cur.discard(sid)
        if len(cur) == 1:
            m[e] = next(iter(cur))
        elif not cur:
            del m[e]
            return True
        return False
    if cur == sid:
        del m[e]
        return True
    return False


def mget(m, e):
    cur = m.get(e, NOTHING)
    if cur is NOTHING:
        return ()
    if type(cur) is set:
        return cur
    return (cur,)


def mlen(m, e):
    cur = m.get(e, NOTHING)
    if cur is NOTHING:
        return 0
    if type(cur) is set:
        return len(cur)
    return 1


class Index:
    """One declared index: for each prefix of its fields, a map from the entries of those fields to
    sids (prefixes[0], `first`, is keyed by the first field's entry alone, the others by tuples),
    plus the sorted distinct numeric values of the first field."""

    def __init__(self, name, spec):
        self.name = name
        self.spec = spec
        self.fields = [f for f, _ in spec['key']]
        self.pattern = {f: d for f, d in spec['key']}
        self.paths = [f.split('.') for f in self.fields]
        self.unique = bool(spec.get('unique'))
        self.sparse = bool(spec.get('sparse'))
        self.pfe = spec.get('partialFilterExpression')
        self.prefixes = [{} for _ in self.fields]
        self.first = self.prefixes[0]
        self.full = self.prefixes[-1]
        self.rev = {}             # sid -> (entries, plain number?, multi?)
        self.sorted = []          # distinct numeric first-field values
        self.nonnum = set()       # sids whose first field is not one plain number
        self.multi = set()        # sids with several first-field values (arrays)
        self.usable = (not self.sparse and self.pfe is None
                       and not any(p.isdigit() for path in self.paths for p in path))

    def entries(self, doc, strict=False):
        """(entry tuples, first field one plain number?, first field multi-valued?)."""
        if self.pfe is not None and not filter_applies(self.pfe, doc):
            return (), True, False
        per = []
        present = False
        first_vals = None
        for path in self.paths:
            vals = field_values(doc, path)
            if first_vals is None:
                first_vals = vals
            if not present:
                present = any(v is not NOTHING for v in vals)
            per.append(field_entries(vals, strict))
        if self.sparse and not present:
            return (), True, False
        plain = len(first_vals) == 1 and is_plain_number(first_vals[0])
        multi = len(first_vals) > 1 or any(isinstance(v, list) for v in first_vals)
        if len(per) == 1:
            return tuple((e,) for e in per[0]), plain, multi
        if sum(1 for p in per if len(p) > 1) > 1:
            raise WriteError('cannot index parallel arrays [%s]' % ', '.join(self.fields), 171)
        return tuple(itertools.product(*per)), plain, multi

    def add(self, sid, info):
        ents, plain, multi = info
        self.rev[sid] = info
        first = self.first
        for t in ents:
            e0 = t[0]
            if madd(first, e0, sid) and e0[0] == 'n' and e0[1] == e0[1]:
                bisect.insort(self.sorted, e0[1])
            for n in range(2, len(t) + 1):
                madd(self.prefixes[n - 1], t[:n], sid)
        if not plain:
            self.nonnum.add(sid)
        if multi:
            self.multi.add(sid)

    def remove(self, sid):
        info = self.rev.pop(sid, None)
        if info is None:
            return
        first = self.first
        for t in info[0]:
            e0 = t[0]
            if mdel(first, e0, sid) and e0[0] == 'n' and e0[1] == e0[1]:
                s = self.sorted
                i = bisect.bisect_left(s, e0[1])
                if i < len(s) and s[i] == e0[1]:
                    del s[i]
            for n in range(2, len(t) + 1):
                mdel(self.prefixes[n - 1], t[:n], sid)
        self.nonnum.discard(sid)
        self.multi.discard(sid)

    def reindex(self, sid, doc, info=None):
        if info is None:
            info = self.entries(doc)
        old = self.rev.get(sid)
        if old is not None and old == info:
            return
        self.remove(sid)
        self.add(sid, info)

    def owners(self, t):
        return mget(self.full, t) if len(t) > 1 else mget(self.first, t[0])

    def check_unique(self, sid, doc, objs, ns, ents=None):
        """Raises DupKey if doc (sequence number sid) conflicts with another document."""
        if ents is None:
            ents = self.entries(doc)[0]
        strict_new = None
        for t in ents:
            for o in self.owners(t):
                if o == sid:
                    continue
                other = objs.get(o)
                if other is None or other is doc:
                    continue
                if strict_new is None:
                    strict_new = set(self.entries(doc, True)[0])
                common = strict_new.intersection(self.entries(other, True)[0])
                if common:
                    dup = sorted(common, key=repr)[0]
                    value = {f: denorm(e) for f, e in zip(self.fields, dup)}
                    raise DupKey(ns, self.name, dict(self.pattern), value)

    def build(self, objs, exclude=None, ns=None):
        """Indexes every document but sid `exclude`; with ns, checks uniqueness on the way."""
        for sid, d in list(objs.items()):
            if sid == exclude:
                continue
            if ns is not None and self.unique:
                self.check_unique(sid, d, objs, ns)
            self.add(sid, self.entries(d))


class CollectionState:
    """Beside a CollectionStore: each document's sid, sid -> document, and the Index of each
    declared index (rebuilt when mongomock's index specs change)."""

    def __init__(self, store):
        self.docs = store._documents
        self.seq = {}
        self.objs = {}
        for i, (k, d) in enumerate(self.docs.items()):
            self.seq[k] = i
            self.objs[i] = d
        self.counter = len(self.seq)
        self.ix = {}
        self.list = []

    def sid(self, key, doc):
        sid = self.seq.get(key)
        if sid is None:
            sid = self.seq[key] = self.counter
            self.counter += 1
        self.objs[sid] = doc
        return sid

    def indexes(self, store, exclude=None):
        idx = store.indexes
        if len(idx) != len(self.list) or any(ix.spec is not idx.get(ix.name) for ix in self.list):
            new = {}
            for name, spec in idx.items():
                ix = self.ix.get(name)
                if ix is None or ix.spec is not spec:
                    ix = Index(name, spec)
                    ix.build(self.objs, exclude)
                new[name] = ix
            self.ix = new
            self.list = list(new.values())
        return self.list

    def add_built(self, ix):
        self.ix[ix.name] = ix
        self.list = list(self.ix.values())


def state(store):
    """The CollectionState of a store (a new one after mongomock replaced its document dict)."""
    st = store.__dict__.get('_mts')
    if st is None or st.docs is not store._documents:
        st = CollectionState(store)
        store.__dict__['_mts'] = st
    return st


def forget_state(store):
    store.__dict__.pop('_mts', None)
