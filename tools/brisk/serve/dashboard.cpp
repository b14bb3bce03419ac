// GET /ui: a one-page dashboard over the HTTP API (no data of its own, no
// build step, no external assets). The page is public; everything it shows
// comes from /metrics, /readyz and the v1 API with the token typed into it
// (kept in the tab's sessionStorage only).
#include "brisk/serve/dashboard.hpp"

namespace brisk::serve {

std::string_view dashboard_html() noexcept {
  return R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>brisk serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .5em}h2{font-size:1.05em;margin:1.4em 0 .4em}
.cards{display:flex;gap:.8em;flex-wrap:wrap}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}
.card b{display:block;font-size:1.5em}.bad{color:#b00020}.ok{color:#0a7d32}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right}
th{background:#f0f0f0}#dlq td{text-align:left}td:first-child,th:first-child{text-align:left}
input{font:inherit;padding:.2em .4em}button{font:inherit;margin-left:.3em}pre{background:#fff;border:1px solid #ddd;padding:.6em;white-space:pre-wrap}
</style></head><body>
<h1>brisk serve <span id="ready"></span></h1>
<div>Token <input id="token" type="password" size="34" placeholder="bearer token (if the service has tokens)">
<button id="save">use</button> <span id="err" class="bad"></span></div>
<h2>Engine</h2><div class="cards" id="cards"></div>
<h2>Task types</h2><table id="types"><tr><th>type</th><th>accepted</th><th>succeeded</th><th>retried</th><th>dead-lettered</th><th>cancelled</th></tr></table>
<h2>Task</h2><div><input id="taskid" size="24" placeholder="task id"><button id="look">status</button><button id="cancel">cancel</button></div><pre id="task">-</pre>
<h2>Dead letters <button id="purge">purge all</button></h2><table id="dlq"><tr><th>id</th><th>type</th><th>attempts</th><th>last error</th><th></th></tr></table>
<script>
const $ = id => document.getElementById(id);
$('token').value = sessionStorage.getItem('brisk-token') || '';
$('save').onclick = () => { sessionStorage.setItem('brisk-token', $('token').value); refresh(); };
function api(path, opts = {}) {
  const t = $('token').value; opts.headers = opts.headers || {};
  if (t) opts.headers['Authorization'] = 'Bearer ' + t;
  return fetch(path, opts);
}
function cell(row, text) { const c = row.insertCell(); c.textContent = text; return c; }
function parse(text) {
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const r = line.match(/^([a-z_]+)(\{([^}]*)\})? (\S+)$/); if (!r) continue;
    const label = r[3] ? (r[3].match(/="([^"]*)"/) || [])[1] : '';
    (m[r[1]] = m[r[1]] || {})[label || ''] = Number(r[4]);
  }
  return m;
}
async function refresh() {
  $('err').textContent = '';
  const ready = await fetch('/readyz').then(r => r.ok).catch(() => false);
  $('ready').textContent = ready ? 'ready' : 'not ready'; $('ready').className = ready ? 'ok' : 'bad';
  const mr = await api('/metrics');
  if (!mr.ok) { $('err').textContent = '/metrics: HTTP ' + mr.status; return; }
  const m = parse(await mr.text());
  const one = n => (m[n] && m[n]['']) || 0;
  const cards = [['in flight', 'brisk_named_tasks_in_flight'], ['queue depth', 'brisk_queue_depth'],
                 ['timers pending', 'brisk_timers_pending'], ['dead letters', 'brisk_dead_letters'],
                 ['accepted (202)', 'brisk_serve_tasks_accepted_total'], ['log failed', 'brisk_wal_failed']];
  $('cards').innerHTML = '';
  for (const [label, name] of cards) {
    const d = document.createElement('div'); d.className = 'card';
    const b = document.createElement('b'); b.textContent = one(name);
    if (name === 'brisk_wal_failed' && one(name)) b.className = 'bad';
    d.append(b, label); $('cards').append(d);
  }
  const t = $('types'); while (t.rows.length > 1) t.deleteRow(1);
  for (const type of Object.keys(m['brisk_tasks_accepted_total'] || {}).sort()) {
    const row = t.insertRow(); cell(row, type);
    for (const n of ['accepted', 'succeeded', 'retried', 'dead_lettered', 'cancelled'])
      cell(row, ((m['brisk_tasks_' + n + '_total'] || {})[type]) || 0);
  }
  const dl = $('dlq'); while (dl.rows.length > 1) dl.deleteRow(1);
  const r = await api('/v1/dead-letters?limit=50');
  if (!r.ok) { cell(dl.insertRow(), 'dead letters: HTTP ' + r.status + ' (the admin scope is needed)'); return; }
  for (const d of (await r.json()).dead_letters) {
    const row = dl.insertRow(); cell(row, d.id); cell(row, d.type); cell(row, d.attempts);
    cell(row, d.failures.length ? d.failures[d.failures.length - 1].error : '');
    const b = document.createElement('button'); b.textContent = 'replay';
    b.onclick = async () => { const x = await api('/v1/dead-letters/' + d.id + '/replay', {method: 'POST'});
                              $('err').textContent = x.ok ? '' : 'replay: HTTP ' + x.status; refresh(); };
    cell(row, '').append(b);
  }
}
async function task(method) {
  const id = $('taskid').value.trim(); if (!id) return;
  const r = await api('/v1/tasks/' + encodeURIComponent(id), {method});
  $('task').textContent = 'HTTP ' + r.status + '\n' + JSON.stringify(await r.json(), null, 2);
}
$('look').onclick = () => task('GET');
$('cancel').onclick = () => task('DELETE');
$('purge').onclick = async () => { if (confirm('Purge every dead letter?')) { await api('/v1/dead-letters', {method: 'DELETE'}); refresh(); } };
refresh(); setInterval(refresh, 5000);
</script></body></html>
)html";
}

}  // namespace brisk::serve
