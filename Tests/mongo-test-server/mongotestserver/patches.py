"""The patches into mongomock, installed by install():

- CollectionStore: no per-access RWLock (the global lock serializes commands); every document
  written or deleted keeps the index maps current and is reported to the journal's CHANGES.
- Collection._insert: _id first (as MongoDB stores it), no arrays or regexes as _id, a duplicate
  _id names the _id_ index; no BSON re-encoding of every document (the data came from BSON).
- Unique checks (_ensure_uniques) through the index maps, with MongoDB's rules and messages
  (mongomock scans the collection per write and says only "E11000 Duplicate Key Error").
- Updates: re-checked and re-indexed even when the new document is Python-equal to the old one
  (1 -> true, 1 -> 1.0), and rolled back as a whole when an operator fails.
- _iter_documents through the query planner.
- The update operators of updaters.py; the fast document copies of copies.py.
"""

from bson import ObjectId
from mongomock import collection as mm_collection
from mongomock import store as mm_store
from pymongo.errors import WriteError

from . import copies, updaters
from .duplicates import DupKey
from .indexes import forget_state, state
from .journal import CHANGES, DROP
from .keys import RE_TYPES, key_of
from .query import iter_documents

CS = mm_store.CollectionStore
Collection = mm_collection.Collection
_orig_cs_drop = CS.drop
_orig_insert = Collection._insert
_orig_apply_doc = Collection._apply_update_document
_orig_apply_pipeline = Collection._apply_update_pipeline

# The document the update hook has just checked and indexed (mongomock then calls _ensure_uniques
# on it, which has nothing left to do). Reset for every command.
_CHECKED = [None]


def new_command():
    _CHECKED[0] = None


# CollectionStore --------------------------------------------------------------------------------

def _cs_setitem(self, key, val):
    docs = self._documents
    st = self.__dict__.get('_mts')
    if st is not None and st.docs is docs:
        existed = key in docs
        docs[key] = val
        sid = st.sid(key, val)
        if existed:
            # A document replaced under its key (mongomock's rollback of a failed update).
            for ix in st.indexes(self, sid):
                ix.reindex(sid, val)
    else:
        docs[key] = val
    CHANGES.touch(self, key)


def _cs_delitem(self, key):
    docs = self._documents
    st = self.__dict__.get('_mts')
    if st is not None and st.docs is docs:
        sid = st.seq.pop(key, None)
        if sid is not None:
            st.objs.pop(sid, None)
            for ix in st.list:
                ix.remove(sid)
    del docs[key]
    CHANGES.touch(self, key)


def _cs_contains(self, key):
    self._remove_expired_documents()
    return key in self._documents


def _cs_getitem(self, key):
    self._remove_expired_documents()
    return self._documents[key]


def _cs_len(self):
    self._remove_expired_documents()
    return len(self._documents)


def _cs_documents(self):
    self._remove_expired_documents()
    yield from self._documents.values()


def _cs_drop(self):
    had = bool(self.is_created)
    _orig_cs_drop(self)
    forget_state(self)
    if had:
        CHANGES.touch(self, DROP)


def _cs_remove_expired(self):
    if self._ttl_indexes:
        for index in list(self._ttl_indexes.values()):
            self._expire_documents(index)


# Collection -------------------------------------------------------------------------------------

def _ns(coll):
    return '%s.%s' % (coll.database.name, coll.name)


def _insert(self, data, session=None, ordered=True):
    if isinstance(data, dict):
        if '_id' not in data:
            data = {'_id': ObjectId(), **data}
        elif next(iter(data)) != '_id':
            data = {'_id': data['_id'], **data}
        _id = data['_id']
        if isinstance(_id, list):
            raise WriteError("can't use an array for _id", 2)
        if isinstance(_id, RE_TYPES):
            raise WriteError("can't use a regex for _id", 2)
        if key_of(_id) in self._store._documents:
            raise DupKey(_ns(self), '_id_', {'_id': 1}, {'_id': _id})
    return _orig_insert(self, data, session, ordered)


def _check_and_index(coll, store, key, doc):
    """Unique checks for doc (stored under key), then its index entries; raises DupKey."""
    st = state(store)
    sid = st.sid(key, doc)
    ixs = st.indexes(store, sid)
    if not ixs:
        return
    ns = None
    infos = []
    for ix in ixs:
        info = ix.entries(doc)
        infos.append(info)
        if ix.unique:
            if ns is None:
                ns = _ns(coll)
            ix.check_unique(sid, doc, st.objs, ns, info[0])
    for ix, info in zip(ixs, infos):
        ix.reindex(sid, doc, info)


def _ensure_uniques(self, new_data):
    if _CHECKED[0] is new_data:
        _CHECKED[0] = None
        return
    _check_and_index(self, self._store, key_of(new_data['_id']), new_data)


def _in_place(self, existing_document, was_insert, apply):
    """Runs apply() (which changes existing_document in place), then checks the unique indexes and
    re-indexes the document itself: mongomock only does when the document is no longer Python-equal
    to what it was, which misses 1 -> true or 1 -> 1.0. On any failure the document is restored, so
    a failed update changes nothing (mongomock applies operators one by one)."""
    store = self._store
    key = None if was_insert else key_of(existing_document.get('_id'))
    stored = key is not None and store._documents.get(key) is existing_document
    snapshot = copies.deepcopy(existing_document) if stored else None
    try:
        result = apply()
        if stored and key_of(existing_document.get('_id')) == key:
            _check_and_index(self, store, key, existing_document)
            _CHECKED[0] = existing_document
            CHANGES.touch(store, key)
    except BaseException:
        if snapshot is not None:
            existing_document.clear()
            existing_document.update(snapshot)
        raise
    return result


def _apply_update_document(self, existing_document, spec, document, was_insert):
    return _in_place(self, existing_document, was_insert,
                     lambda: _orig_apply_doc(self, existing_document, spec, document, was_insert))


def _apply_update_pipeline(self, existing_document, pipeline, session):
    was_insert = self._store._documents.get(key_of(existing_document.get('_id'))) is not existing_document
    return _in_place(self, existing_document, was_insert,
                     lambda: _orig_apply_pipeline(self, existing_document, pipeline, session))


def _iter_documents(self, filter):     # noqa: A002 - mongomock's parameter name
    return iter_documents(self._store, filter)


def install():
    CS.__setitem__ = _cs_setitem
    CS.__delitem__ = _cs_delitem
    CS.__contains__ = _cs_contains
    CS.__getitem__ = _cs_getitem
    CS.__len__ = _cs_len
    CS.documents = property(_cs_documents)
    CS.drop = _cs_drop
    CS._remove_expired_documents = _cs_remove_expired
    mm_collection.BSON = None
    Collection._insert = _insert
    Collection._ensure_uniques = _ensure_uniques
    Collection._apply_update_document = _apply_update_document
    Collection._apply_update_pipeline = _apply_update_pipeline
    Collection._iter_documents = _iter_documents
    updaters.install()
    copies.install()


install()
