extension DocsAssets {
    /// `GET /docs/docs.js`: fetches `/openapi.json`, renders operations by tag and a "Try it" form per operation.
    static let javascript = #"""
    // Renders /openapi.json: operations by tag, schemas as trees, a "Try it" form per operation.
    'use strict';
    (() => {
      const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
      const TOKEN_KEY = 'cqrs-docs-token';
      const byId = id => document.getElementById(id);
      const anchor = (kind, name) => `${kind}-${String(name).replace(/[^\w.-]+/g, '-')}`;
      let spec = {};
      // el('tag', {class, text, attr...}, ...children): builds an element; strings become text nodes.
      const el = (tag, attrs = {}, ...kids) => {
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs)) {
          if (v == null || v === false) continue;
          if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v === true ? '' : v);
        }
        for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) e.append(kid);
        return e;
      };
      // Plain text with `code` spans and line breaks kept (CSS pre-line); never parsed as HTML.
      const prose = (text, cls = 'desc') => text ? el('div', { class: cls }, String(text).split('`').map((s, i) => i % 2 ? el('code', { text: s }) : s)) : null;
      const storage = { get() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; } },
        set(v) { try { v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY); } catch { /* storage disabled */ } } };
      const authHeaders = () => { const t = byId('token').value.trim(); return t ? { Authorization: `Bearer ${t}` } : {}; };
      // --- JSON pointers and $ref -------------------------------------------------------------
      const pointer = ref => {
        if (typeof ref !== 'string' || !ref.startsWith('#')) throw new Error(`unsupported $ref ${ref}`);
        return ref.slice(1).split('/').slice(1).map(s => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))
          .reduce((node, key) => {
            if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`unresolved $ref ${ref}`);
            return node[key];
          }, spec);
      };
      // Follows a chain of $refs; siblings of a $ref (summary, description) win over the target's.
      const deref = (obj, seen = new Set()) => {
        let node = obj, ref = null;
        while (node && typeof node === 'object' && typeof node.$ref === 'string') {
          if (seen.has(node.$ref)) throw new Error(`cyclic $ref ${node.$ref}`);
          seen.add(node.$ref); ref = ref || node.$ref;
          const { $ref, ...rest } = node;
          node = { ...pointer($ref), ...rest };
        }
        return { node: node && typeof node === 'object' ? node : {}, ref };
      };
      const refName = ref => ref ? ref.split('/').pop().replace(/~1/g, '/').replace(/~0/g, '~') : '';
      const safeDeref = obj => { try { return deref(obj); } catch (e) { return { node: {}, ref: obj && obj.$ref, error: e.message }; } };
      // --- schemas ------------------------------------------------------------------------------
      const typeOf = (s, depth = 0) => {
        const t = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
        if (t === 'array' || (!t && s.items)) return `array<${s.items && depth < 3 ? typeOf(safeDeref(s.items).node, depth + 1) : '…'}>`;
        return t || (s.properties ? 'object' : s.oneOf ? 'oneOf' : s.anyOf ? 'anyOf' : s.allOf ? 'allOf' : s.enum ? 'enum' : 'any');
      };
      const facts = s => {
        const out = [];
        if (s.format) out.push(s.format);
        if (s.enum) out.push(`one of ${s.enum.map(v => JSON.stringify(v)).join(', ')}`);
        if ('const' in s) out.push(`= ${JSON.stringify(s.const)}`);
        for (const [k, label] of [['minimum', '≥'], ['exclusiveMinimum', '>'], ['maximum', '≤'], ['exclusiveMaximum', '<'],
          ['minLength', 'min length '], ['maxLength', 'max length '], ['minItems', 'min items '], ['maxItems', 'max items '], ['pattern', 'pattern ']])
          if (s[k] !== undefined && typeof s[k] !== 'boolean') out.push(`${label}${s[k]}`);
        if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
        if (s.additionalProperties === false) out.push('no other fields');
        if (s.deprecated) out.push('deprecated');
        return out.join(', ');
      };
      const children = s => {
        const kids = [];
        const req = new Set(s.required || []);
        for (const [name, sub] of Object.entries(s.properties || {})) kids.push([name, sub, req.has(name)]);
        if (s.items && typeof s.items === 'object') kids.push(['[items]', s.items]);
        if (s.additionalProperties && typeof s.additionalProperties === 'object') kids.push(['[other fields]', s.additionalProperties]);
        for (const k of ['allOf', 'oneOf', 'anyOf']) (s[k] || []).forEach((sub, i) => kids.push([`${k}[${i}]`, sub]));
        if (s.not) kids.push(['not', s.not]);
        return kids;
      };
      // One tree node; children are built when the node is first opened, ancestors' $refs stop cycles.
      const schemaNode = (name, schema, required, stack, open) => {
        const { node, ref, error } = safeDeref(schema);
        const cyclic = ref && stack.includes(ref);
        const line = el('span', { class: 'node' },
          name != null ? el('span', { class: 'prop' }, name, required ? el('span', { class: 'req', title: 'required', text: '*' }) : null) : null,
          el('span', { class: 'type', text: typeOf(node) }),
          ref ? el('span', { class: 'ref', title: ref, text: refName(ref) }) : null,
          error ? el('span', { class: 'bad', text: error }) : cyclic ? el('span', { class: 'cycle', text: '↻ recursive' }) : null,
          facts(node) ? el('span', { class: 'facts', text: facts(node) }) : null,
          node.description ? prose(node.description, 'note') : null);
        const kids = cyclic || error ? [] : children(node);
        if (!kids.length) return el('li', { class: 'leaf' }, line);
        const list = el('ul', { class: 'tree' });
        const details = el('details', { open }, el('summary', {}, line), list);
        const fill = () => { if (!list.childElementCount) for (const [n, s, r] of kids) list.append(schemaNode(n, s, r, ref ? [...stack, ref] : stack, false)); };
        if (open) fill(); else details.addEventListener('toggle', fill);
        return el('li', {}, details);
      };
      const schemaTree = (schema, open = true) => el('ul', { class: 'tree root' }, schemaNode(null, schema, false, [], open));
      // A value that satisfies the schema's required properties, for the body textarea.
      const example = (schema, stack = []) => {
        const { node: s, ref } = safeDeref(schema);
        if (ref && stack.includes(ref)) return null;
        const inner = ref ? [...stack, ref] : stack;
        if (s.example !== undefined) return s.example;
        if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
        for (const k of ['const', 'default']) if (s[k] !== undefined) return s[k];
        if (s.enum) return s.enum[0];
        if (s.oneOf || s.anyOf) return example((s.oneOf || s.anyOf)[0], inner);
        if (s.allOf) return Object.assign({}, ...s.allOf.map(x => example(x, inner)).filter(x => x && typeof x === 'object'));
        const type = Array.isArray(s.type) ? s.type.find(t => t !== 'null') : s.type;
        if (type === 'object' || s.properties) {
          const out = {};
          for (const name of s.required || []) out[name] = example((s.properties || {})[name] || {}, inner);
          return out;
        }
        if (type === 'array') return [];
        if (type === 'integer' || type === 'number') return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
        if (type === 'boolean') return false;
        if (type === 'string') return s.format === 'uuid' ? '00000000-0000-0000-0000-000000000000' : '';
        return null;
      };
      // --- operations ---------------------------------------------------------------------------
      const operations = () => {
        const ops = [];
        for (const [path, rawItem] of Object.entries(spec.paths || {})) {
          const item = safeDeref(rawItem).node;
          for (const method of METHODS) {
            const op = item[method];
            if (!op) continue;
            const params = new Map();
            for (const p of [...(item.parameters || []), ...(op.parameters || [])]) {
              const r = safeDeref(p);
              params.set(`${r.node.in}:${r.node.name}`, r);
            }
            const id = op.operationId || `${method} ${path}`;
            ops.push({ path, method, op, id, anchor: anchor('op', id), params: [...params.values()], tag: (op.tags || [])[0] || 'default' });
          }
        }
        return ops;
      };
      const table = (head, rows) => el('table', {}, el('thead', {}, el('tr', {}, head.map(h => el('th', { text: h })))),
        el('tbody', {}, rows.map(r => el('tr', {}, r.map(c => el('td', {}, c))))));
      const paramRows = params => params.map(({ node: p, ref, error }) => {
        const s = safeDeref(p.schema || {}).node;
        return [el('code', { class: 'pname' }, p.name || refName(ref), p.required ? el('span', { class: 'req', title: 'required', text: '*' }) : null),
          p.in || '', el('span', {}, el('span', { class: 'type', text: typeOf(s) }), facts(s) ? el('span', { class: 'facts', text: facts(s) }) : null),
          error ? el('span', { class: 'bad', text: error }) : prose(p.description || s.description, 'note')];
      });
      const content = (c, open = true) => Object.entries(c || {}).map(([media, m]) => el('div', { class: 'media' },
        el('span', { class: 'mtype', text: media }), m && m.schema ? schemaTree(m.schema, open) : el('span', { class: 'note', text: 'no schema' })));
      const statusClass = code => `code c${String(code)[0]}`;
      const responses = rs => Object.entries(rs || {}).map(([code, raw]) => {
        const { node: r, ref, error } = safeDeref(raw);
        const headers = Object.entries(r.headers || {}).map(([name, h]) => {
          const hn = safeDeref(h).node;
          return el('li', {}, el('code', { text: name }), ' ', el('span', { class: 'type', text: typeOf(safeDeref(hn.schema || {}).node) }),
            prose(hn.description, 'note'));
        });
        return el('div', { class: 'response' },
          el('div', { class: 'rhead' }, el('span', { class: statusClass(code), text: code }), prose(r.description),
            ref ? el('span', { class: 'ref', title: ref, text: refName(ref) }) : null, error ? el('span', { class: 'bad', text: error }) : null),
          headers.length ? el('ul', { class: 'headers' }, headers) : null, content(r.content, /^2/.test(code)));
      });
      const tryIt = o => {
        const inputs = o.params.map(r => r.node).filter(p => ['path', 'query', 'header'].includes(p.in)).map(p => {
          const s = safeDeref(p.schema || {}).node;
          const input = el('input', { name: p.name, required: !!p.required, placeholder: s.default !== undefined ? String(s.default) : typeOf(s) });
          const name = el('span', {}, p.name, p.required ? el('span', { class: 'req', text: '*' }) : null, el('small', { text: ` ${p.in}` }));
          return { p, input, label: el('label', {}, name, input) };
        });
        const body = o.op.requestBody && safeDeref(o.op.requestBody).node;
        const media = body && body.content && (body.content['application/json'] || Object.values(body.content)[0]);
        const textarea = body ? el('textarea', { rows: 4, spellcheck: 'false', 'aria-label': 'JSON body' }) : null;
        if (textarea) textarea.value = JSON.stringify(media && media.schema ? example(media.schema) ?? {} : {}, null, 2);
        const out = el('div', { class: 'result' });
        const form = el('form', { class: 'try' }, el('div', { class: 'fields' }, inputs.map(i => i.label)),
          textarea ? el('label', { class: 'body' }, el('span', { text: 'Body (application/json)' }), textarea) : null,
          el('button', { type: 'submit', text: 'Send' }), out);
        form.addEventListener('submit', async event => {
          event.preventDefault();
          let path = o.path;
          const query = new URLSearchParams(), headers = authHeaders();
          for (const { p, input } of inputs) {
            const v = input.value;
            if (p.in === 'path') path = path.split(`{${p.name}}`).join(encodeURIComponent(v));
            else if (v !== '') (p.in === 'query' ? query.append(p.name, v) : (headers[p.name] = v));
          }
          const init = { method: o.method.toUpperCase(), headers };
          if (textarea && textarea.value.trim() !== '') { init.body = textarea.value; headers['Content-Type'] = 'application/json'; }
          const qs = query.toString(), url = base() + path + (qs ? `?${qs}` : '');
          out.replaceChildren(el('p', { class: 'note', text: `${init.method} ${url} …` }));
          const started = performance.now();
          try {
            const res = await fetch(url, init);
            const text = await res.text();
            let shown = text;
            if (/json/.test(res.headers.get('content-type') || '')) try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* keep the raw text */ }
            const hs = []; res.headers.forEach((v, k) => hs.push(`${k}: ${v}`));
            out.replaceChildren(el('div', { class: 'rhead' }, el('span', { class: statusClass(res.status), text: String(res.status) }),
              el('span', { text: `${res.statusText ? `${res.statusText} · ` : ''}${init.method} ${url} · ${Math.round(performance.now() - started)} ms` })),
            el('pre', { class: 'hdrs', text: hs.join('\n') }), el('pre', { class: 'json', text: shown || '(empty body)' }));
          } catch (e) { out.replaceChildren(el('p', { class: 'bad', text: `Request failed: ${e.message}` })); }
        });
        return form;
      };
      const base = () => { const u = ((spec.servers || [])[0] || {}).url || ''; return u.startsWith('/') ? u.replace(/\/+$/, '') : ''; };
      const operation = o => {
        const body = o.op.requestBody && safeDeref(o.op.requestBody).node;
        const details = el('details', { class: `op ${o.method}`, id: o.anchor, 'data-operation-id': o.id },
          el('summary', {}, el('span', { class: `method ${o.method}`, text: o.method.toUpperCase() }), el('code', { class: 'path', text: o.path }),
            el('span', { class: 'summary', text: o.op.summary || '' }), o.op.deprecated ? el('span', { class: 'bad', text: 'deprecated' }) : null),
          el('div', { class: 'opbody' }, prose(o.op.description), el('p', { class: 'opid' }, 'operationId ', el('code', { text: o.id })),
            o.params.length ? [el('h4', { text: 'Parameters' }), table(['name', 'in', 'schema', 'description'], paramRows(o.params))] : null,
            body ? [el('h4', { text: `Request body${body.required ? ' (required)' : ''}` }), prose(body.description), content(body.content)] : null,
            el('h4', { text: 'Responses' }), responses(o.op.responses), el('h4', { text: 'Try it' }), tryIt(o)));
        if (location.hash === `#${o.anchor}`) details.open = true;
        return details;
      };
      const render = () => {
        const info = spec.info || {};
        document.title = info.title ? `${info.title} · API` : 'API documentation';
        byId('title').textContent = info.title || 'API documentation';
        byId('version').textContent = info.version ? `v${info.version}` : '';
        byId('info').replaceChildren(prose(info.description),
          el('p', { class: 'note' }, `OpenAPI ${spec.openapi || '?'} · `, el('a', { href: '/openapi.json', text: 'openapi.json' })));
        const groups = new Map((spec.tags || []).map(t => [t.name, { tag: t, ops: [] }]));
        for (const o of operations()) {
          if (!groups.has(o.tag)) groups.set(o.tag, { tag: { name: o.tag }, ops: [] });
          groups.get(o.tag).ops.push(o);
        }
        const sections = [], nav = [];
        for (const { tag, ops } of groups.values()) {
          if (!ops.length) continue;
          sections.push(el('section', { class: 'tag', id: anchor('tag', tag.name), 'data-tag': tag.name },
            el('h2', { text: tag.name }), prose(tag.description), ops.map(operation)));
          nav.push(el('div', { class: 'navgroup' }, el('a', { class: 'navtag', href: `#${anchor('tag', tag.name)}`, text: tag.name }),
            ops.map(o => el('a', { href: `#${o.anchor}`, title: `${o.method.toUpperCase()} ${o.path}${o.op.summary ? ` · ${o.op.summary}` : ''}` },
              el('span', { class: `method ${o.method}`, text: o.method.toUpperCase() }), o.path))));
        }
        byId('ops').replaceChildren(...sections);
        byId('nav').replaceChildren(...nav);
        byId('status').replaceChildren(sections.length ? '' : 'The document has no operations.');
        byId('status').hidden = sections.length > 0;
      };
      const fail = message => {
        const retry = el('button', { type: 'button', text: 'Retry' });
        retry.addEventListener('click', load);
        const status = byId('status');
        status.hidden = false; status.className = 'status error';
        status.replaceChildren(`Could not load /openapi.json: ${message} `, retry);
      };
      async function load() {
        const status = byId('status');
        status.hidden = false; status.className = 'status'; status.textContent = 'Loading /openapi.json…';
        try {
          const res = await fetch('/openapi.json', { headers: { Accept: 'application/json', ...authHeaders() } });
          if (!res.ok) return fail(`${res.status} ${res.statusText}${res.status === 401 ? ' (enter the bearer token above)' : ''}`);
          spec = await res.json();
          if (!spec || typeof spec !== 'object' || typeof spec.paths !== 'object') return fail('not an OpenAPI document');
          render();
        } catch (e) { fail(e.message); }
      }
      // A link to #op-x opens that operation.
      window.addEventListener('hashchange', () => {
        const d = document.getElementById(location.hash.slice(1));
        if (d && d.tagName === 'DETAILS') d.open = true;
      });
      const token = byId('token');
      token.value = storage.get();
      token.addEventListener('input', () => storage.set(token.value.trim()));
      byId('auth').addEventListener('submit', event => { event.preventDefault(); load(); });
      load();
    })();
    """#
}
