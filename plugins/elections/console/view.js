// The elections' console view: every designated switch, grouped by service type, live.
export function mount(ui) {
  const { esc } = ui;
  const switches = ui.watch('elections.designated-switches', 'operational', '/designated-switch:designated-switches/designated-switch=*');
  const panel = ui.panel('designations', 'Designations per service', { order: 30 });
  ui.render(() => {
    const byType = new Map();
    for (const d of switches.values()) {
      const type = d['service-type'].replace(/^.*:/, '');
      if (!byType.has(type)) byType.set(type, []);
      byType.get(type).push(d);
    }
    const all = [...switches.values()];
    panel.count.textContent = `${all.length} (${all.filter((d) => !d['dpn-id'] || d['dpn-id'] === '0').length} without an eligible switch)`;
    // A 1,000-compute world has thousands of services: show the first of each type, counted.
    const LIMIT = 200;
    panel.body.innerHTML = [...byType]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, list]) => {
        list.sort((a, b) => a['service-id'].localeCompare(b['service-id']));
        return `<h3>${esc(type)} <small class="muted">${list.length}</small></h3>
        <table><thead><tr><th>service</th><th>DPN</th><th>compute</th><th>candidates</th><th>reason</th><th>elected</th></tr></thead><tbody>${list
          .slice(0, LIMIT)
          .map((d) => {
            const none = !d['dpn-id'] || d['dpn-id'] === '0';
            return `<tr data-service="${esc(type)}/${esc(d['service-id'])}"><td>${esc(d['service-id'])}</td><td class="dpn">${none ? '<span class="badge bad">none</span>' : esc(d['dpn-id'])}</td><td class="compute">${esc(d['compute-name'] ?? '')}</td><td>${esc((d.candidates ?? []).length)}</td><td>${esc(d.reason ?? '')}</td><td>${esc(d['elected-at'] ?? '')}</td></tr>`;
          })
          .join('')}</tbody></table>${list.length > LIMIT ? `<p class="muted">and ${list.length - LIMIT} more</p>` : ''}`;
      })
      .join('') || '<p class="muted">no service needs a designated switch</p>';
  });
}
