"""createIndexes, listIndexes, dropIndexes. mongomock keeps the index specs; the index maps of
../indexes.py are built here (with the unique check of a new unique index)."""

from mongomock import helpers as mm_helpers

from ..cursors import documents_reply
from ..duplicates import DupKey
from ..engine import get_coll
from ..errors import CmdError
from ..indexes import Index, state
from .args import check_collation, cursor_batch_size
from .namespaces import ID_INDEX

_OPTIONS = ('unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression')


def _key_list(key):
    return [(f, 1 if d > 0 else -1) for f, d in key.items()]


def _index_dict(spec):
    """(name, mongomock's index dict) for an index specification."""
    key = spec.get('key')
    if not isinstance(key, dict) or not key:
        raise CmdError(67, "The 'key' field of an index specification must be a non-empty object")
    for d in key.values():
        if isinstance(d, str):
            raise CmdError(67, "index type '%s' is not emulated by the mongomock test server" % d)
        if isinstance(d, bool) or not isinstance(d, (int, float)) or d == 0:
            raise CmdError(67, 'Values in the index key pattern must be 1 or -1, got %r' % (d,))
    key_list = _key_list(key)
    index_dict = {'key': key_list}
    if spec.get('sparse'):
        index_dict['sparse'] = True
    if spec.get('unique'):
        index_dict['unique'] = True
    for opt in ('expireAfterSeconds', 'partialFilterExpression'):
        if spec.get(opt) is not None:
            index_dict[opt] = spec[opt]
    name = spec.get('name')
    if name is None:
        name = mm_helpers.gen_index_name(key_list)
    if not isinstance(name, str) or not name:
        raise CmdError(67, 'index name must be a non-empty string')
    return name, index_dict


def _check_new(cs, iname, index_dict):
    """False if the same index exists (nothing to do); raises if it conflicts with one."""
    existing = cs.indexes.get(iname)
    if existing is not None:
        if existing == index_dict:
            return False
        if existing['key'] != index_dict['key']:
            raise CmdError(86, 'An existing index has the same name as the requested index. '
                               'Requested index: %s, existing index: %s' % (index_dict, existing))
        raise CmdError(85, 'An equivalent index already exists with the same name but different '
                           'options. Requested index: %s, existing index: %s' % (index_dict, existing))
    for other_name, other in cs.indexes.items():
        if other['key'] == index_dict['key']:
            if other == index_dict:
                raise CmdError(85, 'Index already exists with a different name: %s' % other_name)
            if other.get('partialFilterExpression') == index_dict.get('partialFilterExpression'):
                raise CmdError(85, 'An equivalent index already exists with a different name and '
                                   'options. Requested index: %s, existing index: %s' % (index_dict, other))
    return True


def _is_id_index(index_dict):
    return (index_dict['key'] == [('_id', 1)] and not index_dict.get('sparse')
            and 'partialFilterExpression' not in index_dict)


def cmd_create_indexes(db, cmd, ctx):
    name = cmd['createIndexes']
    coll = get_coll(db, name)
    indexes = cmd.get('indexes')
    if not isinstance(indexes, list) or not indexes:
        raise CmdError(2, 'Must specify at least one index to create')
    cs = coll._store
    created_auto = not cs.is_created
    before = 1 + len(cs.indexes)
    st = state(cs)
    st.indexes(cs)
    ns = '%s.%s' % (db, name)
    specs = []
    for spec in indexes:
        if not isinstance(spec, dict):
            raise CmdError(14, 'index specification must be an object')
        check_collation(spec)
        specs.append(_index_dict(spec))
    note = None
    # Journalled even if a later index fails: the earlier ones stay, and replay fails the same way.
    ctx['journal_cmd'] = True
    for iname, index_dict in specs:
        if _is_id_index(index_dict):
            if iname != '_id_':
                raise CmdError(85, 'Index already exists with a different name: _id_')
            continue
        if not _check_new(cs, iname, index_dict):
            note = 'all indexes already exist'
            continue
        ix = Index(iname, index_dict)
        try:
            ix.build(st.objs, ns=ns if ix.unique else None)
        except DupKey as exc:
            raise CmdError(11000, 'Index build failed: %s' % exc, exc.mts_details) from None
        cs.create_index(iname, index_dict)
        st.add_built(ix)
    cs.create()
    reply = {'createdCollectionAutomatically': created_auto, 'numIndexesBefore': 1 if created_auto else before,
             'numIndexesAfter': 1 + len(cs.indexes), 'ok': 1.0}
    if note and reply['numIndexesAfter'] == reply['numIndexesBefore']:
        reply['note'] = note
    return reply


def cmd_list_indexes(db, cmd, ctx):
    name = cmd['listIndexes']
    cs = get_coll(db, name)._store
    ns = '%s.%s' % (db, name)
    if not cs.is_created:
        raise CmdError(26, 'ns does not exist: %s' % ns)
    out = [dict(ID_INDEX)]
    for iname, d in cs.indexes.items():
        entry = {'v': 2, 'key': dict(d['key']), 'name': iname}
        entry.update((opt, d[opt]) for opt in _OPTIONS if opt in d)
        out.append(entry)
    return documents_reply(ns, out, cursor_batch_size(cmd))


def cmd_drop_indexes(db, cmd, ctx):
    name = cmd.get('dropIndexes', cmd.get('deleteIndexes'))
    cs = get_coll(db, name)._store
    if not cs.is_created:
        raise CmdError(26, 'ns not found %s.%s' % (db, name))
    which = cmd.get('index')
    was = 1 + len(cs.indexes)
    if which == '*':
        names = list(cs.indexes)
    elif isinstance(which, str):
        names = [which]
    elif isinstance(which, list):
        names = list(which)
    elif isinstance(which, dict):
        key_list = _key_list(which)
        names = [n for n, d in cs.indexes.items() if d['key'] == key_list]
        if not names:
            if key_list == [('_id', 1)]:
                raise CmdError(72, 'cannot drop _id index')
            raise CmdError(27, "can't find index with key: %s" % which)
    else:
        raise CmdError(14, "BSON field 'dropIndexes.index' must be a string, an array or an object")
    for n in names:
        if n == '_id_':
            raise CmdError(72, 'cannot drop _id index')
        if n not in cs.indexes:
            raise CmdError(27, 'index not found with name [%s]' % n)
    for n in names:
        cs.drop_index(n)
    ctx['journal_cmd'] = True
    return {'nIndexesWas': was, 'ok': 1.0}
