// The console application: sign-in, the schema tree, the SQL editor with
// tabs and history, results (table, chart, downloads), PromQL, ingestion
// status and scheduled queries.

import * as api from './api.js';
import { Editor } from './editor.js';
import { Grid } from './grid.js';
import { draw, fromMatrix, fromResult } from './chart.js';
import { lineColToOffset, quoteIdent } from './sql.js';

const $ = (id) => document.getElementById(id);
const PAGE_ROWS = 1000; // the Query API's largest MaxRows
const AUTO_ROWS = 100000; // rows fetched before "Load more"

const store = {
  get(k, d) { try { return JSON.parse(localStorage.getItem('tidal.' + k)) ?? d; } catch { return d; } },
  set(k, v) { try { localStorage.setItem('tidal.' + k, JSON.stringify(v)); } catch { /* private mode */ } },
};

const state = {
  meta: { keywords: [], functions: [], version: '' },
  schema: { databases: [] },
  tabs: store.get('tabs', null) || [{ id: 1, title: 'Query 1', sql: '' }],
  active: store.get('activeTab', 1),
  run: null, // the running query: {abort, queryId, cancelled}
  view: 'query',
};

// ---- theme ----------------------------------------------------------------

function applyTheme(t) {
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
applyTheme(store.get('theme', ''));
$('theme').addEventListener('click', () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === 'dark'
    : matchMedia('(prefers-color-scheme: dark)').matches;
  const t = dark ? 'light' : 'dark';
  store.set('theme', t); applyTheme(t);
  redrawCharts();
});

// ---- sign-in ----------------------------------------------------------------

function showSignIn() {
  $('signin-view').hidden = false;
  $('app').hidden = true; $('nav').hidden = true; $('signout').hidden = true; $('menu').hidden = true;
  $('who').textContent = '';
  $('key').focus();
}

async function showApp() {
  $('signin-view').hidden = true;
  $('app').hidden = false; $('nav').hidden = false; $('menu').hidden = false;
  $('signout').hidden = !api.session.authRequired;
  $('who').textContent = api.session.authRequired ? `${api.session.principal} (${api.session.role})` : 'no sign-in configured';
  if (location.pathname !== '/') {
    const next = new URLSearchParams(location.search).get('next');
    let target = '/';
    try {
      const u = new URL(next || '/', location.origin);
      if (u.origin === location.origin) target = u.pathname + u.search + u.hash; // never leave the server
    } catch { /* malformed: go home */ }
    history.replaceState(null, '', target);
  }
  await Promise.all([loadMeta(), loadSchema()]);
  route();
}

api.whenSignedOut(showSignIn);

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('signin-error').textContent = '';
  const key = $('key').value.trim();
  const creds = key ? { access_key_id: key, secret_access_key: $('secret').value } : { token: $('token').value.trim() };
  try {
    await api.signIn(creds);
    $('secret').value = ''; $('token').value = '';
    await showApp();
  } catch (err) {
    $('signin-error').textContent = err.message || 'Sign-in failed';
  }
});

$('signout').addEventListener('click', async () => {
  try { await api.signOut(); } finally { showSignIn(); }
});

// ---- navigation -----------------------------------------------------------

function route() {
  const view = (location.hash || '#query').slice(1);
  state.view = ['query', 'promql', 'ingest', 'scheduled'].includes(view) ? view : 'query';
  for (const v of ['query', 'promql', 'ingest', 'scheduled']) $(v + '-view').hidden = v !== state.view;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === state.view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  $('schema').hidden = state.view !== 'query';
  $('menu').hidden = state.view !== 'query' || $('app').hidden;
  clearInterval(state.ingestTimer);
  if (state.view === 'ingest') { lastSample = null; refreshIngest(); state.ingestTimer = setInterval(refreshIngest, 5000); }
  if (state.view === 'scheduled') refreshScheduled();
  if (state.view === 'promql') $('promql').focus();
}
window.addEventListener('hashchange', route);

$('menu').addEventListener('click', () => {
  const open = $('schema').classList.toggle('open');
  $('menu').setAttribute('aria-expanded', String(open));
});

// ---- meta and schema --------------------------------------------------------

async function loadMeta() {
  try {
    state.meta = await api.getJSON('/console/api/meta');
    editor.setKeywords(new Set(state.meta.keywords));
  } catch (err) { console.warn('meta', err.message); }
}

async function loadSchema() {
  try {
    state.schema = await api.getJSON('/console/api/schema');
  } catch (err) {
    $('schema-tree').textContent = 'Schema unavailable: ' + err.message;
    return;
  }
  renderSchema();
}
$('schema-refresh').addEventListener('click', loadSchema);
$('schema-filter').addEventListener('input', renderSchema);

function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return (n / 1024 ** i).toFixed(i ? 1 : 0) + ' ' + u[i];
}
const fmtInt = (n) => Number(n || 0).toLocaleString('en-US');

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

const expanded = new Set(store.get('expanded', []));

function toggle(key) {
  if (expanded.has(key)) expanded.delete(key); else expanded.add(key);
  store.set('expanded', [...expanded]);
  renderSchema();
  const b = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (b) b.focus();
}

function tableRef(db, t) { return quoteIdent(db) + '.' + quoteIdent(t); }

function renderSchema() {
  const filter = $('schema-filter').value.trim().toLowerCase();
  const root = el('ul');
  for (const db of state.schema.databases) {
    const tables = db.tables.filter((t) => !filter || t.name.toLowerCase().includes(filter) || db.name.toLowerCase().includes(filter));
    if (filter && !tables.length) continue;
    const open = expanded.has(db.name) || !!filter;
    const li = el('li', {},
      el('button', { class: 'node', 'data-key': db.name, 'aria-expanded': String(open), onclick: () => toggle(db.name) },
        el('span', { class: 'twisty', text: open ? '▾' : '▸' }), el('span', { class: 'name', text: db.name }),
        el('span', { class: 'type', text: `${db.tables.length} table${db.tables.length === 1 ? '' : 's'}` })));
    if (open) {
      const ul = el('ul');
      for (const t of tables) ul.append(renderTable(db.name, t));
      li.append(ul);
    }
    root.append(li);
  }
  if (!state.schema.databases.length) root.append(el('li', { class: 'muted', text: 'No databases yet: write some data.' }));
  $('schema-tree').replaceChildren(root);
}

function renderTable(db, t) {
  const key = db + '.' + t.name;
  const open = expanded.has(key);
  const li = el('li', {},
    el('button', { class: 'node', 'data-key': key, 'aria-expanded': String(open), onclick: () => toggle(key), title: 'Show the table' },
      el('span', { class: 'twisty', text: open ? '▾' : '▸' }), el('span', { class: 'name', text: t.name }),
      el('span', { class: 'type', text: fmtInt(t.memory.rows + t.magnetic.rows) + ' rows' })));
  if (!open) return li;
  const info = el('div', { class: 'tinfo' },
    el('div', {},
      el('button', { class: 'preview', onclick: () => previewTable(db, t) , 'aria-label': `Query ${key}` }, 'Query'), ' ',
      el('button', { onclick: () => editor.insert(tableRef(db, t.name)), 'aria-label': `Insert ${key}` }, 'Insert name')),
    el('dl', {},
      el('dt', { text: 'retention' }), el('dd', { text: `${t.memory_hours} h memory, ${t.magnetic_days} d magnetic` }),
      el('dt', { text: 'magnetic writes' }), el('dd', { text: t.magnetic_writes ? 'on' : 'off' }),
      el('dt', { text: 'memory' }), el('dd', { text: `${fmtInt(t.memory.series)} series, ${fmtInt(t.memory.rows)} rows, ${fmtBytes(t.memory.bytes)}` }),
      el('dt', { text: 'magnetic' }), el('dd', { text: `${fmtInt(t.magnetic.rows)} rows, ${fmtInt(t.magnetic.parts || 0)} parts, ${fmtBytes(t.magnetic.bytes)}` })));
  const ul = el('ul');
  const group = (name, items, insert) => {
    if (!items.length) return;
    ul.append(el('li', { class: 'group', text: name }));
    for (const it of items) {
      const n = typeof it === 'string' ? it : it.name;
      ul.append(el('li', {}, el('button', { class: 'node', onclick: () => editor.insert(insert(n)), title: 'Insert into the query' },
        el('span', { class: 'twisty' }), el('span', { class: 'name', text: n }), el('span', { class: 'type', text: it.type || 'VARCHAR' }))));
    }
  };
  group('measures', t.measures, (n) => `'${n.replaceAll("'", "''")}'`);
  group('dimensions', t.dimensions, quoteIdent);
  group('multi-measure attributes', t.attributes, quoteIdent);
  li.append(info, ul);
  return li;
}

function previewTable(db, t) {
  const single = t.measures.filter((m) => m.type !== 'MULTI');
  let sql = `SELECT * FROM ${tableRef(db, t.name)}\nORDER BY time DESC\nLIMIT 100`;
  if (single.length && t.measures.length === single.length) {
    const m = single[0];
    const ty = m.type.toLowerCase();
    const dims = t.dimensions.map(quoteIdent);
    const sel = [...dims, `bin(time, 1m) AS t`, `avg(measure_value::${ty === 'bigint' ? 'bigint' : 'double'}) AS ${quoteIdent(m.name)}`];
    if (ty === 'double' || ty === 'bigint') {
      sql = `SELECT ${sel.join(', ')}\nFROM ${tableRef(db, t.name)}\nWHERE measure_name = '${m.name.replaceAll("'", "''")}' AND time > ago(1h)\nGROUP BY ${[...dims, 'bin(time, 1m)'].join(', ')}\nORDER BY t`;
    }
  }
  editor.value = sql;
  saveTab();
  $('schema').classList.remove('open');
  run();
}

// ---- editor, tabs, history ----------------------------------------------------

function completions() {
  const out = [];
  for (const k of state.meta.keywords) out.push({ label: k, kind: 'keyword' });
  for (const f of state.meta.functions) out.push({ label: f, kind: 'function', insert: f + '(' });
  for (const db of state.schema.databases) {
    out.push({ label: db.name, kind: 'database', insert: quoteIdent(db.name) });
    for (const t of db.tables) {
      out.push({ label: t.name, kind: 'table ' + db.name, insert: quoteIdent(t.name) });
      out.push({ label: t.name, kind: 'table', insert: quoteIdent(t.name), scope: db.name.toLowerCase() });
      for (const d of t.dimensions) out.push({ label: d, kind: 'dimension', insert: quoteIdent(d) });
      for (const m of t.measures) out.push({ label: m.name, kind: 'measure ' + m.type.toLowerCase(), insert: `'${m.name.replaceAll("'", "''")}'` });
      for (const a of t.attributes) out.push({ label: a.name, kind: 'attribute ' + a.type.toLowerCase(), insert: quoteIdent(a.name) });
    }
  }
  for (const c of ['time', 'measure_name', 'measure_value::double', 'measure_value::bigint', 'measure_value::varchar', 'measure_value::boolean']) {
    out.push({ label: c, kind: 'column' });
  }
  return out;
}

const editor = new Editor({
  textarea: $('sql'), layer: $('highlight'), list: $('complete'), keywords: new Set(), words: completions,
  onRun: () => run(), onChange: () => saveTab(),
});

function tab() { return state.tabs.find((t) => t.id === state.active) || state.tabs[0]; }

function saveTab() {
  const t = tab();
  t.sql = editor.value;
  store.set('tabs', state.tabs.map(({ id, title, sql }) => ({ id, title, sql })));
  store.set('activeTab', state.active);
}

function renderTabs() {
  const list = $('tab-list');
  list.replaceChildren(...state.tabs.map((t) => {
    const sel = t.id === state.active;
    return el('span', { class: 'tab', role: 'presentation', 'aria-selected': String(sel) },
      el('button', { role: 'tab', 'aria-selected': String(sel), onclick: () => switchTab(t.id) }, t.title),
      state.tabs.length > 1 ? el('button', { 'aria-label': 'Close ' + t.title, onclick: () => closeTab(t.id) }, '×') : null);
  }));
}

function switchTab(id) {
  saveTab();
  state.active = id;
  editor.value = tab().sql;
  renderTabs();
  showResult(tab().result);
  saveTab();
}

function closeTab(id) {
  release(state.tabs.find((t) => t.id === id)?.result);
  state.tabs = state.tabs.filter((t) => t.id !== id);
  if (state.active === id) state.active = state.tabs[0].id;
  editor.value = tab().sql;
  renderTabs(); showResult(tab().result); saveTab();
}

$('tab-new').addEventListener('click', () => {
  saveTab();
  const id = Math.max(0, ...state.tabs.map((t) => t.id)) + 1;
  state.tabs.push({ id, title: 'Query ' + id, sql: '' });
  switchTab(id);
  $('sql').focus();
});

function remember(sql) {
  const h = store.get('history', []).filter((q) => q !== sql);
  h.unshift(sql);
  store.set('history', h.slice(0, 50));
  renderHistory();
}

function renderHistory() {
  const sel = $('history');
  sel.replaceChildren(el('option', { value: '' }, 'Recent queries…'),
    ...store.get('history', []).map((q, i) => el('option', { value: String(i), title: q }, q.replace(/\s+/g, ' ').slice(0, 80))));
}
$('history').addEventListener('change', (e) => {
  const q = store.get('history', [])[Number(e.target.value)];
  if (e.target.value !== '' && q !== undefined) { editor.value = q; saveTab(); }
  e.target.value = '';
  $('sql').focus();
});

// ---- running queries ------------------------------------------------------------

function datumText(d) {
  if (!d || d.NullValue) return null;
  if (d.ScalarValue !== undefined) return d.ScalarValue;
  if (d.ArrayValue) return '[' + d.ArrayValue.map((x) => datumText(x) ?? 'NULL').join(', ') + ']';
  if (d.RowValue) return '{' + d.RowValue.Data.map((x) => datumText(x) ?? 'NULL').join(', ') + '}';
  if (d.TimeSeriesValue) return '[' + d.TimeSeriesValue.map((p) => `{time=${p.Time}, value=${datumText(p.Value) ?? 'NULL'}}`).join(', ') + ']';
  return JSON.stringify(d);
}

function typeName(t) {
  if (!t) return '';
  if (t.ScalarType) return t.ScalarType;
  if (t.ArrayColumnInfo) return 'ARRAY';
  if (t.RowColumnInfo) return 'ROW';
  if (t.TimeSeriesMeasureValueColumnInfo) return 'TIMESERIES';
  return '';
}

function setStatus(s) { $('status').textContent = s; }

async function run() {
  if (state.run) return;
  const ta = $('sql');
  const selected = ta.value.slice(ta.selectionStart, ta.selectionEnd);
  const sql = (selected.trim() ? selected : ta.value).trim();
  const offset = selected.trim() ? ta.selectionStart : 0;
  if (!sql) return;
  remember(sql);
  $('error').textContent = '';
  const t = tab();
  release(t.result);
  const result = { sql, cols: null, rows: [], next: null, done: false, started: performance.now() };
  t.result = result;
  showResult(result);
  await fetchPages(t, result, offset);
}

async function fetchPages(t, result, offset) {
  const ctl = new AbortController();
  const r = { abort: ctl, queryId: '', cancelled: false };
  state.run = r;
  $('run').disabled = true; $('cancel').disabled = false; $('more').hidden = true;
  setStatus('Running…');
  const limit = result.rows.length + AUTO_ROWS;
  try {
    do {
      const body = { QueryString: result.sql, MaxRows: PAGE_ROWS };
      if (result.next) body.NextToken = result.next;
      const resp = await api.timestream('Query', body, ctl.signal);
      r.queryId = resp.QueryId || r.queryId;
      result.queryId = r.queryId;
      result.next = resp.NextToken || null;
      if (resp.ColumnInfo && !result.cols) {
        result.cols = resp.ColumnInfo.map((c) => {
          const type = typeName(c.Type);
          return { name: c.Name || '', type, numeric: ['DOUBLE', 'BIGINT', 'INTEGER'].includes(type) };
        });
        if (t.result === result) grid.set(result.cols, result.rows);
      }
      if (resp.Rows && resp.Rows.length) {
        const rows = resp.Rows.map((row) => row.Data.map(datumText));
        if (t.result === result) grid.append(rows); else result.rows.push(...rows);
      }
      if (t.result === result) setStatus(`Running… ${fmtInt(result.rows.length)} rows`);
    } while (result.next && !r.cancelled && result.rows.length < limit);
    if (r.cancelled) throw new DOMException('cancelled', 'AbortError');
    result.done = !result.next;
    const secs = ((performance.now() - result.started) / 1000).toFixed(2);
    setStatus(`${fmtInt(result.rows.length)} rows in ${secs} s` + (result.next ? ' (more available)' : ''));
  } catch (err) {
    if (r.cancelled || err.name === 'AbortError') {
      setStatus(`Cancelled after ${fmtInt(result.rows.length)} rows`);
      result.next = null;
    } else {
      setStatus('');
      showError(err, offset);
    }
  } finally {
    state.run = null;
    $('run').disabled = false; $('cancel').disabled = true;
    $('more').hidden = !result.next;
    if (t.result === result) updateChart(result);
  }
}

// release cancels a result's query on the server when it still has rows to
// page through, so that it does not hold its slot until it times out.
function release(result) {
  if (result && result.next && result.queryId) {
    api.timestream('CancelQuery', { QueryId: result.queryId }).catch((err) => console.warn('release', err.message));
    result.next = null;
  }
}

function showError(err, offset) {
  const msg = err.message || String(err);
  $('error').textContent = (err.type ? err.type + ': ' : '') + msg;
  const m = /line (\d+):(\d+)/.exec(msg);
  if (m) {
    const ta = $('sql');
    const base = ta.value.slice(0, offset);
    const line = Number(m[1]) + base.split('\n').length - 1;
    const col = Number(m[1]) === 1 ? Number(m[2]) + offset - base.lastIndexOf('\n') - 1 : Number(m[2]);
    editor.markError(lineColToOffset(ta.value, line, col));
  }
}

async function cancel() {
  const r = state.run;
  if (!r) return;
  r.cancelled = true;
  setStatus('Cancelling…');
  // A first Query call still waiting has no QueryId yet: aborting it stops
  // the query on the server. Later, CancelQuery stops it by id.
  if (r.queryId) {
    try { await api.timestream('CancelQuery', { QueryId: r.queryId }); } catch (err) { console.warn('cancel', err.message); }
  }
  r.abort.abort();
}

$('run').addEventListener('click', () => run());
$('cancel').addEventListener('click', cancel);
$('more').addEventListener('click', () => { const t = tab(); if (t.result && t.result.next) fetchPages(t, t.result, 0); });
document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !e.defaultPrevented && state.run) cancel(); });

// ---- results ------------------------------------------------------------

const grid = new Grid($('grid'));
let showing = 'table';

function showResult(result) {
  if (result && result.cols) grid.set(result.cols, result.rows);
  else grid.set([], []);
  if (!result) setStatus('');
  updateChart(result);
}

function updateChart(result) {
  const d = result && result.cols ? fromResult(result.cols, result.rows) : null;
  $('show-chart').disabled = !d;
  state.chartData = d;
  if (!d && showing === 'chart') select('table');
  else if (showing === 'chart') draw($('chart'), d);
}

function select(which) {
  showing = which;
  $('show-table').setAttribute('aria-selected', String(which === 'table'));
  $('show-chart').setAttribute('aria-selected', String(which === 'chart'));
  $('grid').hidden = which !== 'table';
  $('chart').hidden = which !== 'chart';
  if (which === 'chart' && state.chartData) draw($('chart'), state.chartData);
}
$('show-table').addEventListener('click', () => select('table'));
$('show-chart').addEventListener('click', () => select('chart'));

function redrawCharts() {
  if (showing === 'chart' && state.chartData) draw($('chart'), state.chartData);
  if (state.promData) draw($('promql-chart'), state.promData);
}

function downloadHref(format) {
  return '/console/api/download?' + new URLSearchParams({ format, sql: editor.value.trim() });
}
for (const f of ['csv', 'json']) {
  $('dl-' + f).addEventListener('click', (e) => {
    if (!editor.value.trim()) { e.preventDefault(); return; }
    e.currentTarget.href = downloadHref(f);
  });
}

// ---- PromQL ---------------------------------------------------------------------

$('promql-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = $('promql').value.trim();
  if (!q) return;
  $('promql-error').textContent = '';
  $('promql-status').textContent = 'Running…';
  const end = Math.floor(Date.now() / 1000);
  const range = Number($('promql-range').value);
  const step = Math.max(1, Math.round(range / 300));
  try {
    const params = new URLSearchParams({ query: q, start: String(end - range), end: String(end), step: String(step) });
    const resp = await api.getJSON('/api/v1/query_range?' + params);
    const d = fromMatrix(resp.data.result || []);
    state.promData = d;
    if (d) draw($('promql-chart'), d);
    else { $('promql-chart').replaceChildren(); }
    $('promql-status').textContent = `${(resp.data.result || []).length} series` + (d ? '' : ': nothing to draw');
  } catch (err) {
    $('promql-status').textContent = '';
    $('promql-error').textContent = err.message;
  }
});

// ---- ingestion status -------------------------------------------------------------

// parseMetrics reads the Prometheus text format into [{name, labels, value}].
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

const labelText = (l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(' ');

let lastSample = null;

function table(head, rows, numeric) {
  return el('table', { class: 'data' },
    el('thead', {}, el('tr', {}, ...head.map((h, i) => el('th', { class: numeric && numeric[i] ? 'num' : '', scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => el('td', { class: numeric && numeric[i] ? 'num' : '' }, c))))));
}

function card(title, ...body) { return el('section', { class: 'card' }, el('h3', { text: title }), ...body); }

async function refreshIngest() {
  let metrics;
  try {
    metrics = parseMetrics(await api.getText('/metrics'));
  } catch (err) {
    $('ingest').replaceChildren(card('Metrics unavailable', el('p', { class: 'error', text: err.message })));
    return;
  }
  const now = performance.now() / 1000;
  const prev = lastSample;
  if (!prev) setTimeout(() => { if (state.view === 'ingest') refreshIngest(); }, 1000); // rates need two samples
  lastSample = { at: now, byKey: new Map(metrics.map((m) => [m.name + '|' + labelText(m.labels), m.value])) };
  const rate = (m) => {
    if (!prev || now <= prev.at) return '…';
    const before = prev.byKey.get(m.name + '|' + labelText(m.labels));
    return before === undefined ? '…' : ((m.value - before) / (now - prev.at)).toFixed(1);
  };
  const find = (name) => metrics.filter((m) => m.name === name);
  const one = (name) => find(name).reduce((a, m) => a + m.value, 0);
  const isRejected = (m) => /reject|dropped|dead_letter|error|fail/.test(m.name + ' ' + Object.values(m.labels).join(' '));

  const ingest = metrics.filter((m) => /^tidal_.*(records|samples|lines|messages|requests)_total$/.test(m.name) &&
    !/^tidal_(query|scheduled|memstore_replayed|wal)/.test(m.name) && !isRejected(m));
  const rejected = metrics.filter((m) => m.name.startsWith('tidal_') && m.name.endsWith('_total') && isRejected(m) &&
    !/^tidal_(query|scheduled|wal|magnetic)/.test(m.name));
  const lag = find('tidal_pipeline_lag');
  const cards = [
    card('Ingest rates (per protocol and pipeline)', ingest.length
      ? table(['metric', 'labels', 'total', 'per s'], ingest.map((m) => [m.name.replace(/^tidal_/, ''), labelText(m.labels), fmtInt(m.value), rate(m)]), [0, 0, 1, 1])
      : el('p', { class: 'muted', text: 'Nothing ingested yet.' })),
    card('Rejected and dropped records', rejected.length
      ? table(['metric', 'reason / labels', 'total', 'per s'], rejected.map((m) => [m.name.replace(/^tidal_/, ''), labelText(m.labels), fmtInt(m.value), rate(m)]), [0, 0, 1, 1])
      : el('p', { class: 'muted', text: 'None.' })),
    card('Consumer lag', lag.length
      ? table(['pipeline', 'partition', 'lag'], lag.map((m) => [m.labels.pipeline || '', m.labels.partition || '', fmtInt(m.value)]), [0, 0, 1])
      : el('p', { class: 'muted', text: 'No stream consumers running.' })),
  ];
  let lastFlush = '';
  for (const db of state.schema.databases) for (const t of db.tables) if (t.magnetic.last_write && t.magnetic.last_write > lastFlush) lastFlush = t.magnetic.last_write;
  cards.push(card('Memory tier',
    table(['', ''], [
      ['series', fmtInt(one('tidal_memstore_series'))],
      ['chunk bytes', fmtBytes(one('tidal_memstore_chunk_bytes'))],
      ['rows flushed to magnetic', fmtInt(one('tidal_memstore_flushed_rows_total'))],
      ['last part written', lastFlush ? new Date(lastFlush).toLocaleString() : 'none yet'],
      ['WAL segments', fmtInt(one('tidal_wal_segments'))],
      ['WAL failed', one('tidal_wal_failed') ? 'YES' : 'no'],
    ], [0, 1])));
  const magnetic = metrics.filter((m) => m.name.startsWith('tidal_magnetic_'));
  cards.push(card('Magnetic tier: parts and merges', magnetic.length
    ? table(['metric', 'value'], magnetic.map((m) => [m.name.replace(/^tidal_magnetic_/, '') + (Object.keys(m.labels).length ? ' ' + labelText(m.labels) : ''), fmtInt(m.value)]), [0, 1])
    : el('p', { class: 'muted', text: 'No magnetic metrics.' })));
  if (api.canAdmin()) {
    try {
      const [parts, pipes] = await Promise.all([api.getJSON('/api/v1/admin/parts'), api.getJSON('/api/v1/admin/pipelines')]);
      const byTable = new Map();
      for (const p of parts || []) {
        const k = p.database ? `${p.database}.${p.table}` : `table ${p.table_id}`;
        const a = byTable.get(k) || { parts: 0, merged: 0, rows: 0, bytes: 0 };
        a.parts++; if (p.level > 0) a.merged++; a.rows += p.rows; a.bytes += p.bytes;
        byTable.set(k, a);
      }
      cards.push(card('Parts by table', byTable.size
        ? table(['table', 'parts', 'merged', 'rows', 'bytes'], [...byTable].map(([k, a]) => [k, fmtInt(a.parts), fmtInt(a.merged), fmtInt(a.rows), fmtBytes(a.bytes)]), [0, 1, 1, 1, 1])
        : el('p', { class: 'muted', text: 'No parts yet: rows are still in memory.' })));
      cards.push(card('Pipelines', (pipes || []).length
        ? table(['name', 'source', 'state', 'records', 'rec/s', 'lag', 'dead letters', 'last error'], pipes.map((p) => [p.name, p.source, p.state,
          fmtInt(p.records), Number(p.records_per_second || 0).toFixed(1), fmtInt(p.lag), fmtInt(p.dead_letters), p.last_error || '']), [0, 0, 0, 1, 1, 1, 1, 0])
        : el('p', { class: 'muted', text: 'No pipelines configured.' })));
    } catch (err) {
      cards.push(card('Admin API', el('p', { class: 'error', text: err.message })));
    }
  }
  $('ingest').replaceChildren(...cards);
}

// ---- scheduled queries --------------------------------------------------------------

async function refreshScheduled() {
  const box = $('scheduled');
  if (!api.canAdmin()) {
    box.replaceChildren(el('p', { class: 'muted', text: 'Listing scheduled queries needs a credential with the admin role.' }));
    return;
  }
  try {
    const qs = await api.getJSON('/api/v1/admin/scheduled');
    if (!qs.length) {
      box.replaceChildren(el('p', { class: 'muted', text: 'No scheduled queries. Create one with the Timestream API (CreateScheduledQuery).' }));
      return;
    }
    const when = (t) => (t ? new Date(t).toLocaleString() : '');
    box.replaceChildren(table(['name', 'state', 'schedule', 'target', 'last run', 'last status', 'ms', 'records', 'runs', 'failures', 'next run', 'last failure'],
      qs.map((q) => [q.name, q.state, q.schedule, q.target || '', when(q.previous_invocation), q.last_status || '', fmtInt(q.last_duration_ms),
        fmtInt(q.last_records), fmtInt(q.runs), fmtInt(q.failures), when(q.next_invocation), q.last_failure_reason || '']),
      [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0]));
    for (const tr of box.querySelectorAll('tbody tr')) if (/FAIL/.test(tr.children[5].textContent)) tr.classList.add('bad');
  } catch (err) {
    box.replaceChildren(el('p', { class: 'error', text: err.message }));
  }
}

// ---- start ------------------------------------------------------------------------

async function start() {
  renderTabs();
  editor.value = tab().sql;
  renderHistory();
  try {
    await api.loadSession();
  } catch (err) {
    $('signin-error').textContent = 'Cannot reach the server: ' + err.message;
    showSignIn();
    return;
  }
  if (api.session.authRequired && !api.session.signedIn) showSignIn();
  else await showApp();
  document.body.dataset.ready = 'true';
}
start();
