"""Reading and checking command arguments."""

from mongomock import helpers as mm_helpers

from ..errors import CmdError


def int_arg(cmd, name, default=0):
    v = cmd.get(name, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CmdError(14, "BSON field '%s' is the wrong type '%s', expected a number" % (name, type(v).__name__))
    if isinstance(v, float) and v != int(v):
        raise CmdError(2, "BSON field '%s' must be an integer, got %r" % (name, v))
    return int(v)


def doc_arg(cmd, name, default=None):
    v = cmd.get(name, default)
    if v is None:
        return default
    if not isinstance(v, dict):
        raise CmdError(14, "BSON field '%s' is the wrong type '%s', expected type 'object'" % (name, type(v).__name__))
    return v


def patch_dt(v):
    """A filter with its datetimes as mongomock stores them (naive UTC, milliseconds)."""
    return mm_helpers.patch_datetime_awareness_in_document(v)


def filter_arg(cmd, name):
    """A query filter argument (default {})."""
    return patch_dt(doc_arg(cmd, name, {}))


def cursor_batch_size(cmd):
    """The batchSize of the `cursor` option, or None."""
    batch = (doc_arg(cmd, 'cursor') or {}).get('batchSize')
    return int(batch) if batch is not None else None


def check_collation(opts):
    c = opts.get('collation')
    if c and c.get('locale') not in (None, 'simple'):
        raise CmdError(238, 'collations are not emulated by the mongomock test server')


def check_no_array_filters(opts):
    if opts.get('arrayFilters'):
        raise CmdError(238, 'arrayFilters are not emulated by the mongomock test server')


def sort_spec(cmd, name='sort'):
    """[(field, 1 | -1)] or None."""
    s = doc_arg(cmd, name)
    if not s:
        return None
    out = []
    for k, v in s.items():
        if isinstance(v, dict):
            raise CmdError(238, 'sort by $meta is not emulated')
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v not in (1, -1):
            raise CmdError(2, 'bad sort specification for %s: %r' % (k, v))
        out.append((k, int(v)))
    return out


def is_replacement(u):
    return isinstance(u, dict) and not any(k.startswith('$') for k in u)


def check_update(u, where):
    """An update document (operators only, or a replacement) or pipeline."""
    if not isinstance(u, (dict, list)):
        raise CmdError(14, "BSON field '%s' must be an object or an array" % where)
    if isinstance(u, dict) and not is_replacement(u) and not all(k.startswith('$') for k in u):
        raise CmdError(9, 'Unknown modifier or a mix of modifiers and fields in an update document')
