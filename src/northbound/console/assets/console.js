// The console shell: knows no application. It loads the views plugins contribute, opens one
// event stream (/console/events) with every subtree they watch, keeps each watch's instances
// up to date from it, and redraws the panels (at most once per frame) when a batch arrives. It
// also gives views what every panel needs: RESTCONF rpc calls, a confirmation dialog that shows
// a preview before anything is sent, and a readable rendering of any JSON.

const watches = [];
const stores = new Map(); // watch id -> Map(path -> value)
const renderers = [];
let ready = false;
let scheduled = false;

const escapeMap = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text made safe for innerHTML. */
export const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => escapeMap[c]);

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const r of renderers) {
      try {
        r();
      } catch (e) {
        console.error('console view failed to render', e);
      }
    }
    if (ready && !document.body.dataset.ready) {
      document.body.dataset.ready = 'true';
      performance.mark('sextant-console-ready');
    }
  });
}

/** Renders any JSON as nested lists (rpc outputs, previews). */
export function renderJson(value) {
  if (value === null || value === undefined) return '<span class="muted">(nothing)</span>';
  if (Array.isArray(value)) {
    if (!value.length) return '<span class="muted">(none)</span>';
    if (value.every((v) => typeof v !== 'object' || v === null)) return value.map(esc).join(', ');
    return `<ol class="json">${value.map((v) => `<li>${renderJson(v)}</li>`).join('')}</ol>`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return '<span class="muted">(empty)</span>';
    return `<ul class="json">${entries.map(([k, v]) => `<li><b>${esc(k.replace(/^[^:]*:/, ''))}</b>: ${renderJson(v)}</li>`).join('')}</ul>`;
  }
  return esc(value);
}

/** POSTs an rpc over RESTCONF: { status, output, error } (output: the module's output object). */
export async function rpc(name, input) {
  const module = name.split(':')[0];
  const res = await fetch(`/rests/operations/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/yang-data+json', Accept: 'application/yang-data+json' },
    body: JSON.stringify({ [`${module}:input`]: input }),
  });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const error = body?.errors?.error?.[0];
  return { status: res.status, output: body?.[`${module}:output`], error, ok: res.ok };
}

/** Whether an rpc answer means the server does not run that rpc (an older controller). */
export const notServed = (r) => r.status === 404 || r.status === 501 || r.error?.['error-tag'] === 'operation-not-supported';

const log = [];
function activity(text, kind = 'info') {
  log.unshift({ at: new Date().toLocaleTimeString(), text, kind });
  log.length = Math.min(log.length, 50);
  const el = document.getElementById('activity');
  if (el) el.innerHTML = log.map((l) => `<li class="${l.kind}"><time>${esc(l.at)}</time> ${esc(l.text)}</li>`).join('');
}

/**
 * The confirmation every action goes through: the dialog opens with the preview (or says it is
 * not available), and `action` runs only when the operator presses the confirm button. Cancel,
 * Escape or closing the dialog sends nothing.
 */
export function confirmAction({ title, description, preview, confirmLabel, action }) {
  const dialog = document.getElementById('confirm');
  dialog.innerHTML = `<form method="dialog">
    <h2>${esc(title)}</h2>
    <p>${esc(description ?? '')}</p>
    <section class="preview" data-state="loading"><h3>Preview</h3><div class="preview-body">loading the preview…</div></section>
    <menu><button value="cancel" class="cancel">Cancel</button>${confirmLabel ? `<button value="confirm" class="confirm danger">${esc(confirmLabel)}</button>` : ''}</menu>
  </form>`;
  const body = dialog.querySelector('.preview-body');
  const section = dialog.querySelector('.preview');
  (preview ? preview() : Promise.resolve({ unavailable: true }))
    .then((p) => {
      if (p.unavailable) {
        section.dataset.state = 'unavailable';
        body.innerHTML = `<p class="muted">preview not available${p.reason ? ` (${esc(p.reason)})` : ''}</p>`;
      } else {
        section.dataset.state = 'shown';
        body.innerHTML = p.html ?? renderJson(p.output);
      }
    })
    .catch((e) => {
      section.dataset.state = 'unavailable';
      body.innerHTML = `<p class="muted">preview not available (${esc(e.message)})</p>`;
    });
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'confirm') {
      activity(`${title}: cancelled, nothing sent`);
      return;
    }
    try {
      const r = await action();
      activity(`${title}: ${r.ok ? 'done' : `refused (${r.status})`}${r.summary ? `: ${r.summary}` : ''}`, r.ok ? 'ok' : 'error');
    } catch (e) {
      activity(`${title}: failed: ${e.message}`, 'error');
    }
  };
  dialog.returnValue = '';
  dialog.showModal();
}

/** What a view gets in mount(ui). */
const ui = {
  esc,
  renderJson,
  rpc,
  notServed,
  confirm: confirmAction,
  activity,
  /** A panel: returns its body element. `order` sorts panels (lower first). */
  panel(id, title, { wide = false, order = 50 } = {}) {
    const section = document.createElement('section');
    section.className = `panel${wide ? ' wide' : ''}`;
    section.id = `panel-${id}`;
    section.style.order = String(order);
    section.innerHTML = `<h2>${esc(title)} <small class="count"></small></h2><div class="body"><p class="muted">loading…</p></div>`;
    document.getElementById('panels').append(section);
    return { body: section.querySelector('.body'), count: section.querySelector('.count'), section };
  },
  /** Watches the instances of an api-path pattern; returns their live Map (path -> JSON value). */
  watch(id, store, path, fields) {
    if (stores.has(id)) return stores.get(id);
    const map = new Map();
    stores.set(id, map);
    watches.push({ id, store, path, ...(fields ? { fields } : {}) });
    return map;
  },
  /** Called after every batch (and once when the first state is in); keep it fast. */
  render(fn) {
    renderers.push(fn);
  },
  get ready() {
    return ready;
  },
};

function apply({ id, changes }) {
  const map = stores.get(id);
  if (!map) return;
  for (const c of changes) {
    if (c.type === 'deleted') map.delete(c.path);
    else map.set(c.path, c.value);
  }
}

function openStream() {
  const state = document.getElementById('stream-state');
  const source = new EventSource(`/console/events?watch=${encodeURIComponent(JSON.stringify(watches))}`);
  source.addEventListener('open', () => performance.mark('sextant-console-stream-open'), { once: true });
  source.addEventListener('snapshot', (e) => {
    if (!performance.getEntriesByName('sextant-console-snapshot').length) performance.mark('sextant-console-snapshot');
    const s = JSON.parse(e.data);
    stores.get(s.id)?.clear();
    apply(s);
  });
  source.addEventListener('ready', () => {
    performance.mark('sextant-console-state');
    ready = true;
    state.textContent = 'live';
    state.dataset.state = 'live';
    schedule();
  });
  source.addEventListener('change', (e) => {
    apply(JSON.parse(e.data));
    schedule();
  });
  source.onerror = () => {
    // EventSource reconnects by itself; the next snapshot replaces what is held.
    state.textContent = 'reconnecting';
    state.dataset.state = 'down';
  };
}

/** Loads every view, lets each mount its panels and watches, then opens the stream. */
export async function startConsole(views) {
  // Marks of the start-up (performance.getEntriesByType('mark')): where the first paint's time goes.
  performance.mark('sextant-console-start');
  const mounted = await Promise.allSettled(views.map((url) => import(url).then((m) => m.mount(ui))));
  mounted.forEach((m, i) => m.status === 'rejected' && console.error(`console view ${views[i]} failed`, m.reason));
  performance.mark('sextant-console-views');
  const act = ui.panel('activity', 'Activity', { order: 99 });
  act.body.innerHTML = '<ol id="activity" class="activity"></ol>';
  if (watches.length) openStream();
  else {
    ready = true;
    schedule();
  }
}
