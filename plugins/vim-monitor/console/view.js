// The VIM monitor's console view: each VIM and the status its monitor action last reported.
export function mount(ui) {
  const { esc } = ui;
  const vims = ui.watch('vim.vims', 'config', '/sextant-nfv-vim:vims/vim=*', 'vim-id;name;type;auth-url;is-default');
  const states = ui.watch('vim.states', 'operational', '/sextant-nfv-vim:vim-states/vim-state=*', 'vim-id;status;since;last-report;last-error');
  const panel = ui.panel('vims', 'VIMs', { order: 60 });
  const tone = { REACHABLE: 'ok', UNREACHABLE: 'bad', PENDING: 'warn' };
  ui.render(() => {
    const stateOf = new Map([...states.values()].map((s) => [s['vim-id'], s]));
    const list = [...vims.values()].sort((a, b) => String(a.name ?? a['vim-id']).localeCompare(String(b.name ?? b['vim-id'])));
    panel.count.textContent = `${list.length}`;
    panel.body.innerHTML = `<table><thead><tr><th>VIM</th><th>type</th><th>status</th><th>since</th><th>last report</th></tr></thead><tbody>${
      list
        .map((v) => {
          const s = stateOf.get(v['vim-id']);
          const status = s?.status ?? 'PENDING';
          return `<tr data-vim="${esc(v['vim-id'])}"><td>${esc(v.name ?? v['vim-id'])}${v['is-default'] ? ' <span class="badge">default</span>' : ''}</td><td>${esc(String(v.type ?? '').replace(/^.*:/, ''))}</td><td><span class="badge ${tone[status] ?? ''}" title="${esc(s?.['last-error'] ?? '')}">${esc(status)}</span></td><td>${esc(s?.since ?? '')}</td><td>${esc(s?.['last-report'] ?? '')}</td></tr>`;
        })
        .join('') || '<tr><td colspan="5" class="muted">no VIM</td></tr>'
    }</tbody></table>`;
  });
}
