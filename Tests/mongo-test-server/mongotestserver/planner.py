"""Query plans over the index maps. Every plan yields a superset of the matching documents (the
caller re-checks them with the filter) unless it says it is exact."""

import bisect
import itertools

from sentinels import NOTHING

from .indexes import mget, mlen, state
from .keys import RE_TYPES, exact_eq, is_plain_number, key_of, norm

MAX_KEY_COMBINATIONS = 256     # $in lists on several fields: at most this many index lookups


def _eq_value_ok(v):
    if isinstance(v, (list, tuple) + RE_TYPES):
        return False
    if isinstance(v, dict):
        return not any(k.startswith('$') for k in v)
    return True


def _field_constraint(v):
    """('eq', raw values) | ('range', lo, lo_incl, hi, hi_incl) | None."""
    if not isinstance(v, dict):
        return ('eq', [v]) if _eq_value_ok(v) else None
    if not v or not all(k.startswith('$') for k in v):
        return ('eq', [v]) if v and _eq_value_ok(v) else None
    if '$eq' in v and _eq_value_ok(v['$eq']):
        return ('eq', [v['$eq']])
    if '$in' in v and isinstance(v['$in'], list) and all(_eq_value_ok(x) for x in v['$in']):
        return ('eq', list(v['$in']))
    lo = hi = None
    lo_incl = hi_incl = False
    for op, b in v.items():
        if op in ('$gt', '$gte', '$lt', '$lte'):
            if not is_plain_number(b):
                return None
            if op in ('$gt', '$gte'):
                incl = op == '$gte'
                if lo is None or b > lo or (b == lo and not incl):
                    lo, lo_incl = b, incl
            else:
                incl = op == '$lte'
                if hi is None or b < hi or (b == hi and not incl):
                    hi, hi_incl = b, incl
    if lo is None and hi is None:
        return None
    return ('range', lo, lo_incl, hi, hi_incl)


def _constraints(filt, out):
    """field -> constraint for the top-level fields of filt (and of its $and)."""
    for k, v in filt.items():
        if k == '$and':
            if isinstance(v, list):
                for sub in v:
                    if isinstance(sub, dict):
                        _constraints(sub, out)
            continue
        if k.startswith('$'):
            continue
        c = _field_constraint(v)
        if c is not None:
            out.setdefault(k, c)
    return out


def _range_bounds(ix, c):
    s = ix.sorted
    _, lo, lo_incl, hi, hi_incl = c
    i = 0 if lo is None else (bisect.bisect_left(s, lo) if lo_incl else bisect.bisect_right(s, lo))
    j = len(s) if hi is None else (bisect.bisect_right(s, hi) if hi_incl else bisect.bisect_left(s, hi))
    return i, max(i, j)


def _by_id(st, docs, values, exact):
    found = []
    seen = set()
    for raw in values:
        try:
            k = key_of(raw)
            d = docs.get(k)
        except TypeError:
            return None
        if d is not None and id(d) not in seen:
            seen.add(id(d))
            found.append((st.seq.get(k, -1), d))
    found.sort(key=lambda p: p[0])
    return ('docs', [d for _, d in found], exact)


def _eq_lookup(ix, cons):
    """(cost, index map, keys) for equality on the longest prefix of the index's fields that the
    constraints fix (by equality or $in, at most MAX_KEY_COMBINATIONS combinations)."""
    lists = []
    size = 1
    for f in ix.fields:
        c = cons.get(f)
        if c is None or c[0] != 'eq':
            break
        size *= len(c[1])
        if size > MAX_KEY_COMBINATIONS:
            break
        lists.append([norm(x) for x in c[1]])
    if len(lists) > 1:
        m = ix.prefixes[len(lists) - 1]
        keys = list(itertools.product(*lists))
    else:
        m = ix.first
        keys = lists[0] if lists else [norm(x) for x in cons[ix.fields[0]][1]]
    return sum(mlen(m, k) for k in keys), m, keys


def plan_query(store, filt, sort=None, need=None):
    """None (scan everything) | (kind, docs, exact): kind 'docs' = a list in natural order, 'ordered'
    = an iterator in sort order; exact = every candidate matches filt (the filter is one constraint
    that the index answers exactly), so the caller may skip mongomock's matcher."""
    cons = _constraints(filt, {}) if filt else {}
    if not cons and not sort:
        return None
    single = len(filt) == 1 and len(cons) == 1 and next(iter(filt)) in cons
    st = state(store)
    c = cons.get('_id')
    if c is not None and c[0] == 'eq':
        return _by_id(st, store._documents, c[1], single and exact_eq(c[1]))
    ixs = [ix for ix in st.indexes(store) if ix.usable]
    best = None        # (cost, ix, ('eq', map, keys) | ('range', i, j))
    for ix in ixs:
        c0 = cons.get(ix.fields[0])
        if c0 is None:
            continue
        if c0[0] == 'eq':
            cost, m, keys = _eq_lookup(ix, cons)
            plan = ('eq', m, keys)
        else:
            i, j = _range_bounds(ix, c0)
            cost = (j - i) + len(ix.multi)
            plan = ('range', i, j)
        if best is None or cost < best[0]:
            best = (cost, ix, plan)
    # An index walk in sort order that stops after `need` matches.
    if sort and len(sort) == 1 and sort[0][0] != '$natural':
        sf, sd = sort[0]
        for ix in ixs:
            if ix.fields[0] != sf or ix.nonnum:
                continue
            c0 = cons.get(sf)
            if c0 is not None and c0[0] != 'range':
                continue
            i, j = _range_bounds(ix, c0) if c0 is not None else (0, len(ix.sorted))
            est = need if need else (j - i)
            if best is None or best[0] > 4 * est or (not need and best[0] >= est):
                exact = single and c0 is not None and '.' not in sf
                return ('ordered', _walk(st, ix, i, j, sd < 0), exact)
    if best is None:
        return None
    _, ix, plan = best
    f0 = ix.fields[0]
    sids = set()
    if plan[0] == 'eq':
        _, m, keys = plan
        for k in keys:
            sids.update(mget(m, k))
        exact = single and m is ix.first and '.' not in f0 and exact_eq(cons[f0][1])
    else:
        _, i, j = plan
        first = ix.first
        for v in ix.sorted[i:j]:
            sids.update(mget(first, ('n', v)))
        sids.update(ix.multi)
        exact = single and not ix.nonnum and '.' not in f0
    objs = st.objs
    return ('docs', [objs[s] for s in sorted(sids)], exact)


def _walk(st, ix, i, j, reverse):
    objs = st.objs
    first = ix.first
    s = ix.sorted
    for n in (range(j - 1, i - 1, -1) if reverse else range(i, j)):
        cur = first.get(('n', s[n]), NOTHING)
        if cur is NOTHING:
            continue
        if type(cur) is set:
            for sid in sorted(cur):
                yield objs[sid]
        else:
            yield objs[cur]
