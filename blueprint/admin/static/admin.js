// The admin dashboard: it reads the service's routes from the admin
// blueprint, its timings and last invocations from the profiler, its
// reactors, workflows and dead letters from the /_cws endpoints of the
// CloudEvents doors, always with the token the developer gave, and hides
// a section whose source the service does not serve (404).
(() => {
  'use strict';

  // base is the page's path; root the prefix of the service's own paths
  // the client uses (an API Gateway stage: /dev), found once the routes
  // say where the page is mounted.
  const base = location.pathname.replace(/\/+$/, '');
  let root = '';
  // at is the URL of a path: the page's own (base/...) as it is, a
  // service path (/_cws/..., a route) under root.
  const at = (path) => (path === base || path.startsWith(base + '/') ? path : root + path);
  const TOKEN_KEY = 'cws-admin-token';
  const AUTO_MS = 5000;
  const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
  const $ = (sel, root = document) => root.querySelector(sel);

  let token = sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || '';
  const state = {
    desc: null, profiler: {}, counts: {}, shown: {}, absent: {}, rendered: {}, diagrams: {}, timer: 0, busy: false,
  };

  // el builds an element: attributes (on* are listeners), then children
  // (strings become text: nothing is ever parsed as HTML).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  class AuthError extends Error {}

  // api fetches a path with the token; a 401 or 403 asks for the token.
  async function api(path, opts = {}) {
    const headers = new Headers(opts.headers || {});
    if (token) headers.set('Authorization', token);
    const res = await fetch(at(path), { ...opts, headers });
    if (res.status === 401 || res.status === 403) {
      const detail = await problemDetail(res);
      askToken(res.status === 403
        ? 'The service refused this token (' + detail + ').'
        : 'The service needs a token (' + detail + ').');
      throw new AuthError(detail);
    }
    return res;
  }

  async function problemDetail(res) {
    const text = await res.text();
    try {
      const p = JSON.parse(text);
      return p.detail || p.title || text;
    } catch {
      return text || res.statusText;
    }
  }

  async function json(path, opts) {
    const res = await api(path, opts);
    if (!res.ok) {
      const err = new Error(await problemDetail(res));
      err.status = res.status;
      throw err;
    }
    return res.json();
  }

  // Time.
  function ago(iso) {
    const t = Date.parse(iso);
    if (!t) return '';
    return Date.now() - t < 2000 ? 'just now' : span(Date.now() - t) + ' ago';
  }
  function until(iso) {
    const t = Date.parse(iso);
    if (!t) return '';
    const d = t - Date.now();
    return d < 0 ? 'due' : 'in ' + span(d);
  }
  function span(ms) {
    const s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function when(iso, rel) {
    if (!iso) return el('span', { class: 'muted' }, '—');
    const d = new Date(iso);
    return el('span', { title: d.toISOString() }, rel(iso), el('br'),
      el('span', { class: 'muted mono' }, d.toLocaleString()));
  }
  function ms(v) { return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString(); }
  // took is a duration between two times of millisecond precision.
  function took(d) { return d < 1 ? '< 1 ms' : d < 10000 ? Math.round(d) + ' ms' : span(d); }

  function statusBadge(status) {
    return el('span', { class: 'badge s-' + String(status)[0], 'data-status': status }, status);
  }
  function method(m) { return el('span', { class: 'method m-' + m }, m); }

  // The token.
  function askToken(message) {
    stopAuto();
    $('#app').hidden = true;
    $('#nav').hidden = true;
    $('#actions').hidden = true;
    $('#signin').hidden = false;
    const err = $('#signin-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('#token').focus();
  }

  $('#signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('#token').value.trim();
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
    ($('#remember').checked ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
    $('#token').value = '';
    start();
  });

  $('#forget').addEventListener('click', () => {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
    askToken('');
  });

  // Routes and try it.
  function renderRoutes(desc) {
    document.title = desc.service + ' — cws admin';
    $('#service').textContent = desc.service;
    const stage = $('#stage');
    stage.textContent = 'stage ' + desc.stage;
    stage.hidden = false;
    const doc = $('#doc');
    doc.textContent = desc.doc || '';
    doc.hidden = !desc.doc;
    const active = desc.routes.filter((r) => r.active).length;
    $('#routes-hint').textContent = active + ' routes in this stage' +
      (active < desc.routes.length ? ', ' + (desc.routes.length - active) + ' in others' : '');
    state.counts.routes = active;
    const body = $('#routes-body');
    body.replaceChildren();
    for (const r of desc.routes) {
      const key = r.method + ' ' + r.path;
      const entry = (r.blueprint ? r.blueprint + '.' : '') + r.entry;
      const tr = el('tr', { 'data-route': key, class: r.active ? '' : 'inactive' },
        el('td', {}, method(r.method)),
        el('td', { class: 'path' }, el('code', {}, r.path), r.doc ? el('p', { class: 'doc', title: r.doc }, r.doc) : ''),
        el('td', {}, el('code', {}, entry)),
        el('td', {}, (r.keywords || []).map((k, i) => [i ? ', ' : '', el('code', {}, k)])),
        el('td', {}, r.auth ? el('span', { class: 'badge' }, 'token') : el('span', { class: 'muted' }, 'none')),
        el('td', {}, (r.stages || []).join(', ') || el('span', { class: 'muted' }, 'all')),
        el('td', { class: 'nowrap' }, r.active
          ? el('button', { type: 'button', class: 'small try-open', onclick: () => toggleTry(tr, r) }, 'Try it')
          : ''));
      body.append(tr);
    }
  }

  function toggleTry(tr, r) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('try')) {
      next.remove();
      return;
    }
    tr.after(el('tr', { class: 'try' }, el('td', { colspan: 7 }, tryForm(r))));
    const first = tr.nextElementSibling.querySelector('input, textarea');
    if (first) first.focus();
  }

  function tryForm(r) {
    const key = r.method + ' ' + r.path;
    const fields = el('div', { class: 'fields' });
    for (const p of r.params || []) {
      fields.append(el('label', { for: 'p-' + p }, '{' + p + '}'),
        el('input', { name: 'param:' + p, required: true, placeholder: 'path parameter ' + p }));
    }
    const keywords = (r.keywords || []).filter((k) => k !== '**');
    const anyKeyword = (r.keywords || []).includes('**');
    const inBody = BODY_METHODS.has(r.method);
    if (inBody && (keywords.length || anyKeyword)) {
      const skeleton = {};
      for (const k of keywords) skeleton[k] = '';
      fields.append(el('label', { class: 'wide' }, 'Body (JSON): the keyword parameters'),
        el('textarea', { name: 'body', class: 'wide', spellcheck: 'false' }, JSON.stringify(skeleton, null, 2)));
    } else {
      for (const k of keywords) {
        fields.append(el('label', {}, k), el('input', { name: 'query:' + k, placeholder: 'keyword ' + k }));
      }
      if (anyKeyword) {
        fields.append(el('label', {}, 'query'), el('input', { name: 'rawquery', placeholder: 'a=1&b=2' }));
      }
    }
    if (!fields.children.length) {
      fields.append(el('span', { class: 'muted wide' }, 'This entry takes no parameters.'));
    }
    const answer = el('div', { class: 'answer' }, el('div', { class: 'none' }, 'The answer shows here.'));
    const form = el('form', { class: 'tryform', 'data-route': key },
      fields, answer,
      el('div', { class: 'send' },
        el('button', { type: 'submit', class: 'primary' }, 'Send ', r.method),
        el('code', { class: 'muted target' }, r.path)));
    const target = () => {
      let path = r.path;
      for (const p of r.params || []) {
        path = path.replace('{' + p + '}', encodeURIComponent(form.elements['param:' + p].value));
      }
      const q = new URLSearchParams();
      for (const k of keywords) {
        const input = form.elements['query:' + k];
        if (input && input.value !== '') q.append(k, input.value);
      }
      let query = q.toString();
      const raw = form.elements.rawquery;
      if (raw && raw.value) query = query ? query + '&' + raw.value : raw.value;
      return path + (query ? '?' + query : '');
    };
    form.addEventListener('input', () => { $('.target', form).textContent = target(); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const opts = { method: r.method, headers: {} };
      if (token) opts.headers.Authorization = token;
      const bodyField = form.elements.body;
      if (bodyField) {
        opts.body = bodyField.value;
        opts.headers['Content-Type'] = 'application/json';
      }
      const t0 = performance.now();
      answer.replaceChildren(el('div', { class: 'none' }, 'Sending…'));
      try {
        const res = await fetch(at(target()), opts);
        const took = performance.now() - t0;
        const ct = res.headers.get('Content-Type') || '';
        const meta = el('div', { class: 'meta' }, statusBadge(res.status), el('span', {}, res.statusText),
          el('code', { class: 'muted', 'data-content-type': ct }, ct || 'no content type'),
          el('span', { class: 'muted' }, ms(took) + ' ms'));
        answer.replaceChildren(meta, await answerBody(res, ct));
      } catch (err) {
        answer.replaceChildren(el('div', { class: 'none bad' }, 'The request failed: ' + err.message));
      }
      setTimeout(refresh, 300);
    });
    return form;
  }

  async function answerBody(res, ct) {
    if (res.status === 204 || res.status === 304 || res.headers.get('Content-Length') === '0') {
      return el('div', { class: 'none' }, 'No body.');
    }
    if (ct.startsWith('image/')) {
      const blob = await res.blob();
      return el('div', { class: 'none' }, el('img', { src: URL.createObjectURL(blob), alt: 'the answer', style: 'max-width:100%' }));
    }
    if (!/json|text|xml|yaml|javascript|csv/.test(ct) && ct !== '') {
      const blob = await res.blob();
      return el('div', { class: 'none' }, blob.size + ' bytes of ' + ct);
    }
    const text = await res.text();
    let shown = text;
    if (/json/.test(ct)) {
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it came */ }
    }
    return el('pre', { class: 'answer-body' }, shown || '(empty)');
  }

  // The sections that refresh. Each reads its source: a 404 hides it (the
  // service does not serve it), another error shows its detail.
  function show(id, on) {
    state.shown[id] = on;
    $('#' + id).hidden = !on;
    const link = $('#nav a[data-section="' + id + '"]');
    if (link) link.hidden = !on;
  }

  // changed reports whether v differs from what was last rendered in id.
  function changed(id, v) {
    const s = JSON.stringify(v);
    if (state.rendered[id] === s) return false;
    state.rendered[id] = s;
    return true;
  }

  async function section(id, load) {
    // A source that answered 404 is not asked again until the page
    // starts over.
    if (state.absent[id]) return;
    const problem = $('#' + id + ' [data-problem]');
    try {
      await load();
      problem.hidden = true;
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err.status === 404) {
        state.absent[id] = true;
        show(id, false);
        return;
      }
      show(id, true);
      problem.textContent = (err.status ? err.status + ': ' : '') + err.message;
      problem.hidden = false;
    }
  }

  function own(inv) { return /^(admin|profiler)\./.test(inv.entry); }

  async function loadInvocations() {
    const p = state.profiler;
    if (!p.invocations || !p.timings) {
      show('invocations', false);
      return;
    }
    const [recent, timings] = await Promise.all([json(p.invocations), json(p.timings)]);
    show('invocations', true);
    const hide = $('#hide-own').checked;
    const keep = (list) => (list || []).filter((i) => !hide || !own(i));
    const view = { http: keep(recent.http).slice(0, 12), events: keep(recent.events).slice(0, 12), timings: keep(timings.entries) };
    state.counts.calls = view.timings.reduce((n, t) => n + t.count, 0);
    state.counts.errors = view.timings.reduce((n, t) => n + t.errors, 0);
    if (!changed('invocations', view)) return;
    $('#since').textContent = new Date(timings.since).toLocaleString();
    $('#inv-http').replaceChildren(invocationTable(view.http, 'No HTTP request yet.'));
    $('#inv-events').replaceChildren(invocationTable(view.events, 'No event has called an entry yet.'));
    $('#timings').replaceChildren(view.timings.length ? el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Method'), el('th', {}, 'Path'), el('th', {}, 'Entry'),
        el('th', { class: 'num' }, 'Calls'), el('th', { class: 'num' }, '4xx'), el('th', { class: 'num' }, '5xx'),
        el('th', { class: 'num' }, 'Mean ms'), el('th', { class: 'num' }, 'p50'), el('th', { class: 'num' }, 'p95'),
        el('th', { class: 'num' }, 'p99'), el('th', { class: 'num' }, 'Max'))),
      el('tbody', {}, view.timings.map((t) => el('tr', {},
        el('td', {}, method(t.method)), el('td', {}, el('code', {}, t.path)), el('td', {}, el('code', {}, t.entry)),
        el('td', { class: 'num' }, t.count),
        el('td', { class: 'num' + (t.client_errors ? ' warn' : '') }, t.client_errors),
        el('td', { class: 'num' + (t.errors ? ' bad' : '') }, t.errors),
        el('td', { class: 'num' }, ms(t.mean_ms)), el('td', { class: 'num' }, ms(t.p50_ms)),
        el('td', { class: 'num' }, ms(t.p95_ms)), el('td', { class: 'num' }, ms(t.p99_ms)),
        el('td', { class: 'num' }, ms(t.max_ms)))))) : el('p', { class: 'empty' }, 'No entry called yet.'));
  }

  function invocationTable(list, none) {
    if (!list.length) return el('p', { class: 'empty' }, none);
    return el('table', { class: 'invocations' },
      el('thead', {}, el('tr', {}, el('th', {}, 'When'), el('th', {}, 'Call'), el('th', {}, 'Status'), el('th', { class: 'num' }, 'ms'))),
      el('tbody', {}, list.map((i) => el('tr', { 'data-target': i.method + ' ' + i.target, 'data-status': i.status },
        el('td', { class: 'nowrap muted', title: i.at }, ago(i.at)),
        el('td', {}, method(i.method), ' ', el('code', {}, i.target)),
        el('td', {}, statusBadge(i.status)),
        el('td', { class: 'num' }, ms(i.duration_ms))))));
  }

  async function loadReactors() {
    const rules = await json('/_cws/reactors');
    show('reactors', true);
    state.counts.reactors = new Set(rules.map((r) => r.reactor)).size;
    // The relative times change with the clock: render each time.
    changed('reactors', rules);
    $('#reactors-body').replaceChildren(rules.length ? el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Reactor'), el('th', {}, 'Subscription'), el('th', {}, 'Rule'),
        el('th', {}, 'On'), el('th', {}, 'Next fire'))),
      el('tbody', {}, rules.map((r) => el('tr', { 'data-rule': r.name },
        el('td', {}, el('strong', {}, r.reactor)), el('td', {}, r.subscription), el('td', {}, el('code', {}, r.name)),
        el('td', {}, r.schedule ? el('code', {}, r.schedule) : el('code', { class: 'muted' }, r.pattern)),
        el('td', { class: 'nowrap' }, r.schedule ? when(r.next, until) : el('span', { class: 'muted' }, 'on matching events')))))) :
      el('p', { class: 'empty' }, 'This service has no reactors.'));
  }

  async function loadWorkflows() {
    const [workflows, executions] = await Promise.all([json('/_cws/workflows'), json('/_cws/executions')]);
    show('workflows', true);
    state.counts.workflows = workflows.length;
    const list = workflows.map((w) => ({ name: w.name, comment: w.comment, states: w.states, rules: w.rules.map((r) => r.name) }));
    const root = $('#workflows-body');
    if (changed('workflows', list)) {
      root.replaceChildren(...(workflows.length ? workflows.map((w) => el('div', { class: 'workflow', 'data-workflow': w.name },
        el('div', { class: 'head' }, el('h3', {}, w.name), el('code', { class: 'muted' }, w.path),
          el('span', { class: 'badge' }, w.states + ' states'),
          w.rules.map((r) => el('span', { class: 'badge', title: r.pattern || r.schedule }, 'on ' + (r.schedule || r.subscription)))),
        w.comment ? el('p', { class: 'doc', style: 'padding: 4px 16px 0; margin: 0' }, w.comment) : '',
        el('div', { class: 'grid' },
          el('div', { class: 'diagram', 'data-diagram': w.name }, el('span', { class: 'muted' }, 'Drawing…')),
          el('div', { class: 'executions' })))) : [el('p', { class: 'empty' }, 'This service has no workflows.')]));
      for (const w of workflows) diagram(w.name);
    }
    for (const w of workflows) {
      const mine = executions.filter((e) => e.stateMachineArn.endsWith(':' + w.name)).slice(0, 10);
      const box = $('[data-workflow="' + CSS.escape(w.name) + '"] .executions', root);
      if (!box || !changed('executions:' + w.name, mine.map((e) => [e.name, e.status, e.stopDate]))) continue;
      box.replaceChildren(mine.length ? el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, 'Execution'), el('th', {}, 'Status'), el('th', {}, 'Started'), el('th', { class: 'num' }, 'Took'))),
        el('tbody', {}, mine.map((e) => el('tr', { 'data-execution': e.name },
          el('td', {}, el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); view('Execution ' + e.name, '/_cws/executions/' + encodeURIComponent(e.name), e.name + '.json'); } }, e.name),
            e.error ? el('div', { class: 'reason' }, e.error + (e.cause ? ': ' + e.cause : '')) : ''),
          el('td', {}, el('span', { class: 'badge s-' + e.status }, e.status)),
          el('td', { class: 'nowrap muted', title: e.startDate }, ago(e.startDate)),
          el('td', { class: 'num' }, e.stopDate ? took(Date.parse(e.stopDate) - Date.parse(e.startDate)) : '…'))))) :
        el('p', { class: 'empty' }, 'No execution yet: an event its triggers match starts one.'));
    }
  }

  // diagram shows a workflow's SVG drawing, read with the token.
  async function diagram(name) {
    const box = $('[data-diagram="' + CSS.escape(name) + '"]');
    try {
      if (!state.diagrams[name]) {
        const res = await api('/_cws/workflows/' + encodeURIComponent(name) + '/diagram.svg');
        if (!res.ok) throw new Error(await problemDetail(res));
        state.diagrams[name] = URL.createObjectURL(await res.blob());
      }
      box.replaceChildren(el('a', { href: state.diagrams[name], target: '_blank', title: 'full size' },
        el('img', { src: state.diagrams[name], alt: 'the states of workflow ' + name })));
    } catch (err) {
      if (!(err instanceof AuthError)) box.replaceChildren(el('span', { class: 'bad' }, 'No diagram: ' + err.message));
    }
  }

  async function loadDeadLetters() {
    const body = $('#deadletters-body');
    const res = await api('/_cws/deadletters');
    if (res.status === 404) {
      const err = new Error('no dead letters here');
      err.status = 404;
      throw err;
    }
    show('deadletters', true);
    if (!res.ok) {
      // 501: the dead letters are elsewhere (an SQS queue's DLQ).
      const detail = await problemDetail(res);
      state.counts.dead = undefined;
      $('#redrive-all').disabled = true;
      if (changed('deadletters', 'error:' + detail)) body.replaceChildren(el('p', { class: 'empty' }, detail));
      return;
    }
    const dead = await res.json();
    state.counts.dead = dead.length;
    $('#redrive-all').disabled = dead.length === 0;
    if (!changed('deadletters', dead)) return;
    body.replaceChildren(dead.length ? el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Dead-lettered'), el('th', {}, 'Event'), el('th', {}, 'Reason'),
        el('th', { class: 'num' }, 'Redrives'), el('th', {}, ''))),
      el('tbody', {}, dead.map((d) => el('tr', { 'data-deadletter': d.id, 'data-event-id': d.event_id || '', 'data-redrives': d.redrives },
        el('td', { class: 'nowrap muted', title: d.dead_lettered_at }, ago(d.dead_lettered_at)),
        el('td', {}, d.event_type ? [el('code', {}, d.event_type), d.subject ? [' ', el('code', {}, d.subject)] : '',
          el('div', { class: 'muted' }, 'id ', el('code', {}, d.event_id), ' from ', el('code', {}, d.event_source))] :
          el('span', { class: 'bad' }, 'not a CloudEvent: ' + d.decode_error),
        el('details', { class: 'event' }, el('summary', {}, 'event'),
          el('pre', {}, d.event ? JSON.stringify(d.event, null, 2) : d.body))),
        el('td', { class: 'reason' }, d.reason),
        el('td', { class: 'num' }, d.redrives),
        el('td', {}, el('button', { type: 'button', class: 'small redrive', onclick: (ev) => redrive({ id: d.id }, ev.target) }, 'Redrive')))))) :
      el('p', { class: 'empty' }, 'No dead letters.'));
  }

  async function redrive(what, button) {
    if (button) button.disabled = true;
    try {
      await json('/_cws/deadletters/redrive', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(what),
      });
    } catch (err) {
      if (!(err instanceof AuthError)) alert('Redrive failed: ' + err.message);
    }
    await refresh();
    setTimeout(refresh, 500);
  }
  $('#redrive-all').addEventListener('click', (ev) => redrive({ all: true }, ev.target));

  function renderCards() {
    const c = state.counts;
    const card = (id, n, label, alert) => state.shown[id] === false || n === undefined ? null :
      el('a', { class: 'card' + (alert ? ' alert' : ''), href: '#' + id, 'data-card': id },
        el('div', { class: 'n' }, n), el('div', { class: 'l' }, label));
    $('#cards').replaceChildren(...[
      card('routes', c.routes, 'routes'),
      card('invocations', c.calls, 'calls timed'),
      card('invocations', c.errors, 'server errors', c.errors > 0),
      card('reactors', c.reactors, 'reactors'),
      card('workflows', c.workflows, 'workflows'),
      card('deadletters', c.dead, 'dead letters', c.dead > 0),
    ].filter(Boolean));
  }

  // Links: documents shown in a viewer, profiles.
  async function view(title, path, filename) {
    const dialog = $('#viewer');
    $('#viewer-title').textContent = title;
    const pre = $('#viewer-body');
    pre.textContent = 'Loading…';
    const save = $('#viewer-download');
    save.onclick = null;
    save.disabled = true;
    if (!dialog.open) dialog.showModal();
    try {
      const res = await api(path);
      const ct = res.headers.get('Content-Type') || '';
      let text = await res.text();
      if (!res.ok) {
        try { text = JSON.parse(text).detail || text; } catch { /* as it came */ }
        pre.textContent = res.status + ': ' + text;
        return;
      }
      if (/json/.test(ct)) {
        try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* as it came */ }
      }
      pre.textContent = text;
      save.onclick = () => download(new Blob([text], { type: ct || 'text/plain' }), filename);
      save.disabled = false;
    } catch (err) {
      if (!(err instanceof AuthError)) pre.textContent = 'The request failed: ' + err.message;
      else dialog.close();
    }
  }
  $('#viewer-close').addEventListener('click', () => $('#viewer').close());

  function download(blob, filename) {
    const a = el('a', { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
  }

  async function fetchDownload(path, filename, button) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = 'Recording…';
    try {
      const res = await api(path);
      if (!res.ok) throw new Error(await problemDetail(res));
      download(await res.blob(), filename);
    } catch (err) {
      if (!(err instanceof AuthError)) alert(err.message);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  function renderLinks() {
    const box = $('#links-body');
    for (const b of box.querySelectorAll('button[data-view]')) {
      const name = b.getAttribute('data-view');
      b.onclick = () => view(b.textContent, base + '/' + name, name.includes('.') ? name : name + '.json');
    }
    box.querySelectorAll('.profiles').forEach((n) => n.remove());
    const p = state.profiler;
    if (!p.index || !p.profile) return;
    const named = (name) => p.profile.replace('{name}', name);
    box.append(
      el('button', { type: 'button', class: 'profiles', onclick: () => view('Profiles', p.index, 'profiles.txt') }, 'Profiles'),
      ...['goroutine', 'heap', 'allocs'].map((n) => el('button', {
        type: 'button', class: 'profiles', onclick: () => view('Profile ' + n, named(n) + '?debug=1', n + '.txt'),
      }, n)),
      el('button', { type: 'button', class: 'profiles', onclick: (ev) => fetchDownload(named('profile') + '?seconds=10', 'cpu.pprof', ev.target) }, 'CPU profile, 10 s (download)'),
      el('pre', { class: 'profiles' }, 'curl -H "Authorization: $TOKEN" -o cpu.pprof ' + location.origin + at(named('profile')) +
        '?seconds=30\ngo tool pprof -http=: cpu.pprof'));
  }

  // Refreshing.
  async function refresh() {
    if (state.busy || !state.desc) return;
    state.busy = true;
    try {
      await Promise.all([
        section('invocations', loadInvocations),
        section('reactors', loadReactors),
        section('workflows', loadWorkflows),
        section('deadletters', loadDeadLetters),
      ]);
      renderCards();
      state.refreshes = (state.refreshes || 0) + 1;
      document.body.setAttribute('data-refreshes', state.refreshes);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
    } finally {
      state.busy = false;
    }
  }

  function stopAuto() {
    clearInterval(state.timer);
    state.timer = 0;
  }
  function startAuto() {
    stopAuto();
    if ($('#auto').checked) state.timer = setInterval(() => { if (!document.hidden) refresh(); }, AUTO_MS);
  }
  $('#auto').addEventListener('change', startAuto);
  $('#refresh').addEventListener('click', refresh);
  $('#hide-own').addEventListener('change', () => { delete state.rendered.invocations; refresh(); });

  async function start() {
    let desc;
    try {
      desc = await json(base + '/routes');
    } catch (err) {
      if (!(err instanceof AuthError)) askToken('The routes did not load: ' + err.message);
      return;
    }
    const page = desc.routes.find((r) => r.blueprint === 'admin' && r.entry === 'Get' && r.method === 'GET');
    if (page && page.path !== '/' && base.endsWith(page.path)) root = base.slice(0, base.length - page.path.length);
    state.desc = desc;
    state.rendered = {};
    state.absent = {};
    state.profiler = {};
    for (const r of desc.routes) {
      if (r.blueprint !== 'profiler' || !r.active) continue;
      if (r.method === 'GET' && r.entry === 'GetInvocations') state.profiler.invocations = r.path;
      if (r.method === 'GET' && r.entry === 'GetTimings') state.profiler.timings = r.path;
      if (r.method === 'GET' && r.entry === 'Get') state.profiler.index = r.path;
      if (r.method === 'GET' && r.entry === 'Get_') state.profiler.profile = r.path.replace(/\{[^}]+\}$/, '{name}');
    }
    $('#signin').hidden = true;
    $('#app').hidden = false;
    $('#nav').hidden = false;
    $('#actions').hidden = false;
    renderRoutes(desc);
    renderLinks();
    await refresh();
    document.body.setAttribute('data-ready', '');
    startAuto();
  }

  // The admin's entries are guarded: without a token, ask for it first.
  if (token) start();
  else askToken('');
})();
