// LAPOR! Pontianak: the supervisors' SLA view on Cockpit's dashboard (issue 20). The figures come from the engine's
// /lapor/sla (SlaController), which reads the LAPOR! API's GET /staff/sla (the monthly recap's computation) and adds
// who holds each open task. Only koordinator, kepala-bidang and the administrators get an answer (others 403: the
// plugin then shows nothing). Plain DOM, no library and nothing from a CDN: the engine's CSP allows 'self' only.
const MONTHS = ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober',
  'November', 'Desember'];
const STYLE = `
.lapor-sla { margin: 0 0 24px; }
.lapor-sla h2 { font-size: 20px; margin: 0 0 4px; }
.lapor-sla .period { color: #555; margin: 0 0 12px; }
.lapor-sla form { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; margin-bottom: 16px; }
.lapor-sla form label { display: flex; flex-direction: column; font-weight: normal; margin: 0; }
.lapor-sla .error { color: #a94442; margin: 0 0 12px; }
.lapor-sla .tiles { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 16px; }
.lapor-sla .tile { border: 1px solid #ccc; border-radius: 4px; padding: 10px 16px; min-width: 180px; background: #fff; }
.lapor-sla .tile strong { display: block; font-size: 28px; }
.lapor-sla .tile.late strong { color: #b52a1d; }
.lapor-sla .tile.soon strong { color: #a66300; }
.lapor-sla table { width: 100%; margin-bottom: 16px; background: #fff; }
.lapor-sla th, .lapor-sla td { padding: 4px 8px; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
.lapor-sla td.number { text-align: right; white-space: nowrap; }
.lapor-sla tr.late td.left { color: #b52a1d; font-weight: bold; }
.lapor-sla .chart { margin-bottom: 16px; max-width: 760px; }
.lapor-sla .bar-row { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
.lapor-sla .bar-label { width: 300px; flex: none; }
.lapor-sla .bar-track { flex: 1; background: #eee; height: 16px; position: relative; }
.lapor-sla .bar { height: 16px; background: #2b7a3d; }
.lapor-sla .bar.low { background: #b52a1d; }
.lapor-sla .bar-value { width: 70px; flex: none; text-align: right; }
.lapor-sla h3 { font-size: 16px; margin: 16px 0 8px; }
`;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function dateInWords(iso) {
  const [year, month, day] = iso.split('-').map(Number);
  return `${day} ${MONTHS[month - 1]} ${year}`;
}

function percent(count) {
  if (count.met_ratio === null) return '–';
  return `${(count.met_ratio * 100).toFixed(1).replace('.', ',')}%`;
}

function daysLeft(row) {
  if (row.late) return `terlambat ${-row.working_days_left} hari kerja`;
  if (row.working_days_left === 0) return 'hari ini';
  return `${row.working_days_left} hari kerja`;
}

function query(form) {
  const params = new URLSearchParams();
  for (const name of ['start', 'end', 'within']) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

function tiles(view) {
  const tile = (cls, label, value) => el('div', {class: `tile ${cls}`, 'data-tile': cls}, el('strong', {}, value), label);
  return el('div', {class: 'tiles'},
    tile('open', 'Laporan terbuka', view.open),
    tile('late', 'Terlambat sekarang', view.late),
    tile('soon', `Jatuh tempo dalam ${view.within} hari kerja`, view.due_soon));
}

function complianceCell(count) {
  const cell = el('td', {class: 'number', title: `tepat waktu ${count.met}, terlambat ${count.missed}, belum jatuh tempo ${count.pending}`},
    percent(count), el('br'), el('small', {}, `${count.met}/${count.met + count.missed}`));
  return cell;
}

function opdTable(view) {
  const head = el('tr', {},
    el('th', {}, 'OPD'), el('th', {}, 'Terbuka'), el('th', {}, 'Terlambat'), el('th', {}, 'Segera jatuh tempo'),
    el('th', {}, 'Laporan masuk (periode)'), view.stages.map(stage => el('th', {}, stage.label)));
  const row = (name, figures, live) => el('tr', {'data-opd': name},
    el('td', {}, name),
    el('td', {class: 'number'}, live ? live.open : view.open),
    el('td', {class: 'number'}, live ? live.late : view.late),
    el('td', {class: 'number'}, live ? live.due_soon : view.due_soon),
    el('td', {class: 'number'}, figures.reports),
    view.stages.map(stage => complianceCell(figures.compliance[stage.field])));
  return el('table', {class: 'table opd'},
    el('thead', {}, head),
    el('tbody', {}, view.per_opd.map(opd => row(opd.opd_name, opd.period, opd)), row('Semua OPD', view.overall, null)));
}

function chart(view) {
  const bars = view.stages.map(stage => {
    const count = view.overall.compliance[stage.field];
    const width = count.met_ratio === null ? 0 : Math.round(count.met_ratio * 100);
    return el('div', {class: 'bar-row'},
      el('span', {class: 'bar-label'}, stage.label),
      el('span', {class: 'bar-track'}, el('span', {class: width < 80 ? 'bar low' : 'bar', style: `display:block;width:${width}%`})),
      el('span', {class: 'bar-value'}, percent(count)));
  });
  return el('div', {class: 'chart', role: 'img', 'aria-label': 'Persentase tepat waktu per tahap'},
    el('h3', {}, 'Persentase tepat waktu per tahap (semua OPD)'), bars);
}

function hours(value) {
  return value === null ? '–' : `${value.toFixed(1).replace('.', ',')} jam`;
}

function medians(view) {
  const figures = view.overall;
  return el('p', {class: 'medians'}, 'Median waktu (semua OPD): laporan masuk sampai diverifikasi ',
    el('strong', {}, hours(figures.median_hours_to_verification)), ' · terverifikasi sampai Proses ',
    el('strong', {}, hours(figures.median_hours_dispatched_to_process)), ' · laporan masuk sampai Selesai ',
    el('strong', {}, hours(figures.median_hours_to_completion)), '.');
}

function atRisk(view) {
  if (!view.at_risk.length) return el('p', {class: 'none'}, 'Tidak ada laporan yang terlambat atau segera jatuh tempo.');
  const head = el('tr', {}, ['Nomor laporan', 'Judul', 'OPD', 'Dipegang oleh', 'Petugas', 'Tahap', 'Batas waktu',
    'Sisa waktu', 'Tautan'].map(label => el('th', {}, label)));
  const rows = view.at_risk.map(row => el('tr', {class: row.late ? 'late' : 'soon', 'data-tracking-id': row.tracking_id},
    el('td', {}, row.tracking_id),
    el('td', {}, row.title),
    el('td', {}, row.opd_name),
    el('td', {}, row.holder),
    el('td', {}, row.assignee || '–'),
    el('td', {}, row.deadline_label),
    el('td', {}, row.due_text),
    el('td', {class: 'left'}, daysLeft(row)),
    el('td', {},
      row.process_instance_id
        ? el('a', {href: `#/process-instance/${encodeURIComponent(row.process_instance_id)}/runtime`, class: 'instance'}, 'Instans proses')
        : '',
      row.process_instance_id ? el('br') : '',
      el('a', {href: row.staff_url, target: '_blank', rel: 'noopener noreferrer', class: 'staff-page'}, 'Halaman laporan'))));
  return el('table', {class: 'table at-risk'}, el('thead', {}, head), el('tbody', {}, rows));
}

function render(root, view, params) {
  const csv = `/lapor/sla.csv${params ? `?${params}` : ''}`;
  root.replaceChildren(
    el('p', {class: 'period'}, `Periode kepatuhan: ${dateInWords(view.start)} s.d. ${dateInWords(view.end)} (WIB). `,
      'Laporan terbuka, terlambat dan jatuh tempo dihitung saat ini, dengan hari kerja (libur nasional dan cuti bersama tidak dihitung).'),
    tiles(view),
    el('h3', {}, 'Per OPD'),
    opdTable(view),
    chart(view),
    medians(view),
    el('h3', {}, `Laporan terlambat atau jatuh tempo dalam ${view.within} hari kerja`),
    atRisk(view),
    el('p', {}, el('a', {href: csv, class: 'csv', download: ''}, 'Unduh daftar (CSV)')));
}

async function load(section, form, body) {
  const params = query(form);
  const response = await fetch(`/lapor/sla${params ? `?${params}` : ''}`, {credentials: 'same-origin', headers: {Accept: 'application/json'}});
  if (response.status === 401 || response.status === 403) {
    section.remove(); // not a supervisor: the dashboard stays as it was
    return;
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || !data) {
    const message = data && data.error ? data.error.message : 'Data SLA tidak dapat dimuat; coba lagi.';
    body.replaceChildren(el('p', {class: 'error', role: 'alert'}, message));
    section.hidden = false; // a supervisor learns the figures could not be read, not that there are none
    return;
  }
  form.elements.start.value = data.start;
  form.elements.end.value = data.end;
  form.elements.within.value = data.within;
  render(body, data, params);
  section.hidden = false;
}

export default {
  id: 'lapor-sla',
  pluginPoint: 'cockpit.dashboard',
  priority: 100,
  render: node => {
    const style = el('style', {}, STYLE);
    const form = el('form', {class: 'form-inline'},
      el('label', {}, 'Dari tanggal', el('input', {type: 'date', name: 'start', class: 'form-control'})),
      el('label', {}, 'Sampai tanggal', el('input', {type: 'date', name: 'end', class: 'form-control'})),
      el('label', {}, 'Peringatan (hari kerja)', el('input', {type: 'number', name: 'within', min: '0', max: '20', class: 'form-control'})),
      el('button', {type: 'submit', class: 'btn btn-primary'}, 'Tampilkan'));
    const body = el('div', {class: 'sla-body'});
    const section = el('section', {class: 'lapor-sla', hidden: ''}, style, el('h2', {}, 'Ketepatan waktu (SLA) pengaduan'), form, body);
    form.addEventListener('submit', event => {
      event.preventDefault();
      load(section, form, body);
    });
    node.append(section);
    load(section, form, body);
  }
};
