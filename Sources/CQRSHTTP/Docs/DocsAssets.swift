/// The `/docs` page: HTML, CSS and script that render `/openapi.json`; served from the server itself.
enum DocsAssets {
    /// `GET /docs`: the page shell; it loads `/docs/docs.css` and `/docs/docs.js` (nothing inline, for the CSP).
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>API documentation</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/docs/docs.css">
    <script src="/docs/docs.js" defer></script>
    </head>
    <body>
    <header class="top">
    <div class="brand"><h1 id="title">API documentation</h1><span id="version" class="version"></span></div>
    <form id="auth" class="token"><label for="token">Bearer token</label><input id="token" type="password" autocomplete="off" placeholder="optional, kept for this tab"></form>
    </header>
    <div class="layout">
    <nav id="nav" class="nav" aria-label="Operations"></nav>
    <main id="main">
    <div id="info" class="info"></div>
    <p id="status" class="status">Loading <a href="/openapi.json">/openapi.json</a>…</p>
    <div id="ops"></div>
    </main>
    </div>
    <noscript><p class="status error">This page needs JavaScript to render <a href="/openapi.json">/openapi.json</a>.</p></noscript>
    </body>
    </html>
    """#

    /// `GET /docs/docs.css`: the page's style sheet.
    static let css = #"""
    :root {
      --fg: #1d232b; --muted: #5f6b7a; --bg: #fff; --panel: #f6f8fa; --line: #d8dee4; --accent: #0b63c5;
      --get: #1f7a3f; --post: #0b63c5; --put: #9a5b00; --patch: #7a4fb5; --delete: #b3261e; --other: #5f6b7a;
      --ok: #1f7a3f; --warn: #9a5b00; --err: #b3261e;
      --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
      color-scheme: light dark;
    }
    @media (prefers-color-scheme: dark) {
      :root { --fg: #e6e9ed; --muted: #9aa5b1; --bg: #15181c; --panel: #1e2227; --line: #343a42; --accent: #6cb0ff;
        --get: #5ccf84; --post: #6cb0ff; --put: #e8a74a; --patch: #b895ee; --delete: #ff7b72; --ok: #5ccf84; --warn: #e8a74a; --err: #ff7b72; }
    }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    code, pre, textarea, input { font-family: var(--mono); font-size: 12.5px; }
    h1 { font-size: 18px; margin: 0; }
    h2 { font-size: 17px; margin: 24px 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
    h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 14px 0 6px; }
    .top { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; justify-content: space-between;
      padding: 8px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
    .brand { display: flex; align-items: baseline; gap: 8px; }
    .version { color: var(--muted); font-family: var(--mono); font-size: 12px; }
    .token { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
    .token input { width: 260px; }
    .layout { display: grid; grid-template-columns: 280px minmax(0, 1fr); }
    .nav { position: sticky; top: 45px; align-self: start; max-height: calc(100vh - 45px); overflow: auto; padding: 10px 8px 24px 16px;
      border-right: 1px solid var(--line); font-size: 12px; }
    .navgroup { margin-bottom: 10px; }
    .navgroup a { display: block; padding: 1px 4px; border-radius: 3px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
      color: var(--fg); font-family: var(--mono); font-size: 11.5px; }
    .navgroup a:hover { background: var(--panel); text-decoration: none; }
    .navgroup .navtag { font-family: inherit; font-size: 12px; font-weight: 600; color: var(--muted); }
    .navgroup .method { min-width: 34px; font-size: 9.5px; padding: 0 3px; margin-right: 4px; }
    main { padding: 8px 20px 40px; min-width: 0; }
    .info > .desc { margin: 6px 0; max-width: 80ch; }
    .desc, .note { white-space: pre-line; }
    .note { color: var(--muted); font-size: 12px; }
    .desc code, .note code { background: var(--panel); border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; }
    .status { padding: 10px 12px; border-radius: 6px; background: var(--panel); }
    .status.error { color: var(--err); border: 1px solid var(--err); }
    .status button { margin: 0 0 0 8px; }
    .nav:empty { border: 0; }
    .op { border: 1px solid var(--line); border-left: 4px solid var(--other); border-radius: 6px; margin: 6px 0; background: var(--bg); }
    .op.get { border-left-color: var(--get); } .op.post { border-left-color: var(--post); } .op.put { border-left-color: var(--put); }
    .op.patch { border-left-color: var(--patch); } .op.delete { border-left-color: var(--delete); }
    .op > summary { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 6px 10px; cursor: pointer; list-style: none; }
    .op > summary::-webkit-details-marker { display: none; }
    .op > summary::before { content: "▸"; color: var(--muted); width: 10px; }
    .op[open] > summary::before { content: "▾"; }
    .op[open] > summary { border-bottom: 1px solid var(--line); background: var(--panel); }
    .method { display: inline-block; min-width: 56px; text-align: center; border-radius: 3px; padding: 1px 6px; color: #fff; background: var(--other);
      font: 700 11px/1.6 var(--mono); }
    .method.get { background: var(--get); } .method.post { background: var(--post); } .method.put { background: var(--put); }
    .method.patch { background: var(--patch); } .method.delete { background: var(--delete); }
    @media (prefers-color-scheme: dark) { .method { color: #111; } }
    .path { font-weight: 600; font-size: 13px; }
    .summary { color: var(--muted); }
    .opbody { padding: 4px 14px 14px; }
    .opid { margin: 4px 0; color: var(--muted); font-size: 12px; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
    th { font-size: 11px; color: var(--muted); font-weight: 600; }
    td:first-child { white-space: nowrap; }
    .req { color: var(--err); font-weight: 700; margin-left: 1px; }
    .type { font-family: var(--mono); font-size: 12px; color: var(--accent); }
    .facts { font-size: 11.5px; color: var(--muted); margin-left: 6px; }
    .ref { font-family: var(--mono); font-size: 11px; border: 1px solid var(--line); border-radius: 8px; padding: 0 6px; margin-left: 6px;
      color: var(--patch); }
    .cycle { font-size: 11px; color: var(--warn); margin-left: 6px; }
    .bad { color: var(--err); font-size: 12px; margin-left: 6px; }
    .media { margin: 4px 0 8px; }
    .mtype { display: inline-block; font-family: var(--mono); font-size: 11px; color: var(--muted); background: var(--panel);
      border: 1px solid var(--line); border-radius: 3px; padding: 0 5px; }
    .tree { list-style: none; margin: 2px 0 0; padding-left: 18px; border-left: 1px dotted var(--line); }
    .tree.root { padding-left: 0; border-left: 0; }
    .tree li { margin: 1px 0; }
    .tree summary { cursor: pointer; }
    .tree .leaf { padding-left: 14px; }
    .node { display: inline; }
    .node .prop { font-family: var(--mono); font-size: 12.5px; font-weight: 600; margin-right: 6px; }
    .node .note { display: inline; margin-left: 8px; white-space: normal; }
    .response { padding: 4px 0; border-bottom: 1px solid var(--line); }
    .response:last-of-type { border-bottom: 0; }
    .rhead { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px; }
    .code { font: 700 12px/1.6 var(--mono); padding: 0 6px; border-radius: 3px; color: #fff; background: var(--other); }
    .code.c2, .code.c3 { background: var(--ok); } .code.c4 { background: var(--warn); } .code.c5 { background: var(--err); }
    @media (prefers-color-scheme: dark) { .code { color: #111; } }
    .headers { margin: 4px 0; padding-left: 18px; font-size: 12px; }
    .headers .note { display: inline; margin-left: 6px; }
    .try { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
    .fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }
    .try label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; }
    .try label small { color: var(--muted); }
    .try .body { margin-top: 8px; }
    input, textarea { color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 4px 6px; }
    textarea { width: 100%; resize: vertical; }
    input:focus, textarea:focus, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 0; }
    button { margin-top: 8px; font: 600 13px system-ui, sans-serif; color: #fff; background: var(--accent); border: 0; border-radius: 4px;
      padding: 5px 16px; cursor: pointer; }
    @media (prefers-color-scheme: dark) { button { color: #111; } }
    .result:not(:empty) { margin-top: 10px; }
    pre { margin: 6px 0 0; padding: 8px; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; overflow: auto; max-height: 420px; }
    pre.hdrs { color: var(--muted); font-size: 11.5px; }
    @media (max-width: 760px) { .layout { grid-template-columns: 1fr; } .nav { display: none; } }
    """#
}
