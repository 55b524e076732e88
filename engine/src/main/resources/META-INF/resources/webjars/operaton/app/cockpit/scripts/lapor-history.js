// LAPOR! Pontianak: finished reports in Cockpit, for the koordinator and kepala bidang (issue 20). Operaton CE's
// Cockpit has no history view (an enterprise plugin), so opening a finished instance only redirected to its
// definition. These plugins (Operaton's plugin API: a module's default export, each plugin rendered into a DOM node
// with `api.engineApi`, the engine REST behind the user's own Cockpit session) add:
// - a view provider with the id "history" (cockpit.processInstance.view): Cockpit itself then sends a finished
//   instance's #/process-instance/<id> to #/process-instance/<id>/history, and an open one's breadcrumb offers it;
// - that route (cockpit.route): one report, read-only: tracking id, version, start and end in words (WIB), every user
//   task with who held it, its due date and when it was done (late or on time), incidents, the path taken;
// - a tab "Laporan selesai" on a process definition, and "Cari laporan" on the dashboard, to find a report.
// Only GET and one POST query (with the CSRF token, reading history) go to the engine; its authorizations decide
// what the login may read (lapor/roles.py). Text from the engine is set as text, never as HTML.

const ZONE = 'Asia/Pontianak';
const DAYS = {Mon: 'Senin', Tue: 'Selasa', Wed: 'Rabu', Thu: 'Kamis', Fri: 'Jumat', Sat: 'Sabtu', Sun: 'Minggu'};
const MONTHS = 'Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember'.split(' ');
const PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  weekday: 'short',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23'
});
const STATES = {
  ACTIVE: 'Berjalan',
  SUSPENDED: 'Ditangguhkan',
  COMPLETED: 'Selesai',
  EXTERNALLY_TERMINATED: 'Dibatalkan',
  INTERNALLY_TERMINATED: 'Dihentikan oleh proses'
};
const ACTIVITY_TYPES = {
  startEvent: 'Peristiwa mulai',
  messageStartEvent: 'Peristiwa mulai',
  noneEndEvent: 'Peristiwa akhir',
  errorEndEvent: 'Peristiwa akhir',
  userTask: 'Tugas petugas',
  serviceTask: 'Tugas sistem',
  sendTask: 'Tugas sistem',
  businessRuleTask: 'Keputusan (DMN)',
  receiveTask: 'Menunggu pesan',
  exclusiveGateway: 'Percabangan',
  parallelGateway: 'Percabangan paralel',
  inclusiveGateway: 'Percabangan',
  eventBasedGateway: 'Menunggu peristiwa',
  intermediateMessageCatch: 'Pesan masuk',
  intermediateTimer: 'Pengatur waktu',
  boundaryTimer: 'Pengatur waktu',
  boundaryError: 'Kesalahan',
  boundaryMessage: 'Pesan masuk',
  subProcess: 'Subproses',
  callActivity: 'Proses lain'
};
const INCIDENT_TYPES = {failedExternalTask: 'Tugas sistem gagal', failedJob: 'Job gagal'};

function moment(value) {
  // The engine writes "+0700"; Date wants "+07:00".
  return value ? new Date(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : null;
}

// "Senin, 21 Desember 2026 pukul 23.59 WIB", as the notices write it (lapor/notifications/templates.py).
export function inWords(value) {
  const when = moment(value);
  if (!when) return '—';
  const p = Object.fromEntries(PARTS.formatToParts(when).map(part => [part.type, part.value]));
  return `${DAYS[p.weekday]}, ${Number(p.day)} ${MONTHS[p.month - 1]} ${p.year} pukul ${p.hour}.${p.minute} WIB`;
}

function lasting(ms) {
  const minutes = Math.floor(ms / 60000);
  const [days, hours, rest] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  const words = [[days, 'hari'], [hours, 'jam'], [rest, 'menit']].filter(([n]) => n).map(([n, w]) => `${n} ${w}`);
  return words.slice(0, 2).join(' ') || 'kurang dari 1 menit';
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
  children.flat(Infinity).forEach(child => node.append(child instanceof Node ? child : String(child ?? '—')));
  return node;
}

function table(headers, rows, attributes = {}) {
  return el(
    'table',
    {class: 'table table-striped table-condensed lapor-history-table', ...attributes},
    el('thead', {}, el('tr', {}, headers.map(h => el('th', {}, h)))),
    el('tbody', {}, rows)
  );
}

function csrfToken(api) {
  const cookie = document.cookie.split('; ').find(c => c.startsWith('XSRF-TOKEN='));
  return cookie ? decodeURIComponent(cookie.slice('XSRF-TOKEN='.length)) : api.CSRFToken;
}

function engine(api) {
  async function call(method, path, params, body) {
    const url = new URL(api.engineApi + path, window.location.href);
    Object.entries(params || {}).forEach(([name, value]) => url.searchParams.set(name, value));
    const headers = {Accept: 'application/json'};
    if (body) Object.assign(headers, {'Content-Type': 'application/json', 'X-XSRF-TOKEN': csrfToken(api)});
    const answer = await fetch(url, {method, headers, credentials: 'same-origin', body: body && JSON.stringify(body)});
    if (!answer.ok) throw new Error(answer.status === 404 ? 'tidak ditemukan' : `ditolak mesin (${answer.status})`);
    return answer.json();
  }
  return {get: (path, params) => call('GET', path, params), query: (path, body) => call('POST', path, null, body)};
}

function historyLink(instance) {
  const href = `#/process-instance/${encodeURIComponent(instance.id)}/history`;
  return el('a', {href}, instance.businessKey || instance.id);
}

const processName = instance => instance.processDefinitionName || instance.processDefinitionKey;

function message(node, text, kind = 'info') {
  node.replaceChildren(el('div', {class: `alert alert-${kind} lapor-history-message`}, text));
}

// -- one report ------------------------------------------------------------------------------------------------
async function loadReport(rest, id) {
  const instance = await rest.get(`/history/process-instance/${encodeURIComponent(id)}`);
  const sorting = [{sortBy: 'startTime', sortOrder: 'asc'}, {sortBy: 'occurrence', sortOrder: 'asc'}];
  const [activities, tasks, incidents] = await Promise.all([
    rest.query('/history/activity-instance', {processInstanceId: id, sorting}),
    rest.get('/history/task', {processInstanceId: id, sortBy: 'startTime', sortOrder: 'asc'}),
    rest.get('/history/incident', {processInstanceId: id, sortBy: 'createTime', sortOrder: 'asc'})
  ]);
  return {instance, activities, tasks, incidents};
}

function taskState(task, now) {
  const [end, due] = [moment(task.endTime), moment(task.due)];
  if (end && task.deleteReason !== 'completed') return 'Berakhir tanpa diselesaikan';
  if (end && !due) return 'Selesai';
  if (end) return end <= due ? 'Selesai tepat waktu' : `Selesai terlambat ${lasting(end - due)}`;
  return due && due < now ? 'Terbuka, lewat tenggat' : 'Terbuka';
}

function tasksTable(tasks) {
  const now = new Date();
  const rows = tasks.map(task =>
    el(
      'tr',
      {'data-task': task.taskDefinitionKey},
      el('td', {}, task.name),
      el('td', {class: 'lapor-assignee'}, task.assignee || 'belum diambil'),
      el('td', {}, inWords(task.startTime)),
      el('td', {class: 'lapor-due'}, inWords(task.due)),
      el('td', {class: 'lapor-ended'}, task.endTime ? inWords(task.endTime) : 'belum'),
      el('td', {class: 'lapor-on-time'}, taskState(task, now))
    )
  );
  const headers = ['Tugas', 'Dipegang / diselesaikan oleh', 'Dibuat', 'Tenggat', 'Selesai', 'Ketepatan waktu'];
  return rows.length ? table(headers, rows, {id: 'lapor-history-tasks'}) : el('p', {}, 'Belum ada tugas petugas.');
}

function incidentsTable(incidents, names) {
  const state = i => (i.open ? 'Terbuka' : i.resolved ? 'Teratasi' : 'Dihapus');
  const rows = incidents.map(i =>
    el(
      'tr',
      {},
      el('td', {}, inWords(i.createTime)),
      el('td', {}, names[i.activityId] || i.activityId),
      el('td', {}, INCIDENT_TYPES[i.incidentType] || i.incidentType),
      el('td', {class: 'lapor-incident-message'}, i.incidentMessage || ''),
      el('td', {}, i.endTime ? `${state(i)}, ${inWords(i.endTime)}` : state(i))
    )
  );
  const headers = ['Waktu', 'Aktivitas', 'Jenis', 'Pesan', 'Status'];
  return rows.length ? table(headers, rows, {id: 'lapor-history-incidents'}) : el('p', {}, 'Tidak ada insiden.');
}

// Unnamed gateways only join flows (e.g. VerificationRoundMergeGateway): plumbing, not a step anyone took.
const isStep = a => a.activityName || !a.activityType.endsWith('Gateway');

function pathTable(activities) {
  const rows = activities.filter(isStep).map((a, index) =>
    el(
      'tr',
      {'data-activity': a.activityId},
      el('td', {}, index + 1),
      el('td', {}, a.activityName || a.activityId),
      el('td', {}, ACTIVITY_TYPES[a.activityType] || a.activityType),
      el('td', {}, inWords(a.startTime)),
      el('td', {}, a.endTime ? inWords(a.endTime) + (a.canceled ? ' (dihentikan)' : '') : 'masih berlangsung')
    )
  );
  return table(['No.', 'Aktivitas', 'Jenis', 'Mulai', 'Selesai'], rows, {id: 'lapor-history-path'});
}

function summary({instance, activities}) {
  const topLevel = a => a.parentActivityInstanceId === instance.id;
  const ends = activities.filter(a => a.activityType.endsWith('EndEvent') && topLevel(a));
  const last = ends.sort((a, b) => moment(a.endTime) - moment(b.endTime)).pop();
  const facts = [
    ['Nomor laporan', instance.businessKey],
    ['Proses', `${processName(instance)}, versi ${instance.processDefinitionVersion}`],
    ['Status', STATES[instance.state] || instance.state],
    ['Mulai', inWords(instance.startTime)],
    ['Berakhir', instance.endTime ? inWords(instance.endTime) : 'belum'],
    ['Berakhir di', instance.endTime && last ? last.activityName || last.activityId : '—'],
    ['Lama penanganan', lasting((moment(instance.endTime) || new Date()) - moment(instance.startTime))]
  ];
  if (instance.deleteReason) facts.push(['Alasan', instance.deleteReason]);
  const terms = facts.map(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]);
  return el('dl', {class: 'dl-horizontal', id: 'lapor-history-summary'}, terms);
}

// The BPMN diagram with every element the report passed highlighted, drawn by Cockpit's own viewer directive
// (operaton-commons-ui's camWidgetBpmnViewer, compiled here with the app's injector): no viewer of our own to ship.
// Its scope lives as long as the page: the route's unmount (below) destroys it.
let diagramScope = null;

function forgetDiagram() {
  if (diagramScope) diagramScope.$destroy();
  diagramScope = null;
}

// What the diagram marks: every element passed, but not a whole subprocess (its box would hide the steps inside).
const passedElements = activities => [
  ...new Set(activities.filter(a => a.activityType !== 'subProcess').map(a => a.activityId))
];

function diagram(id, xml, passed) {
  forgetDiagram();
  const holder = el('div', {id: 'lapor-history-diagram', class: 'lapor-history-diagram'});
  Object.assign(holder.style, {position: 'relative', height: '420px', border: '1px solid #ddd', marginBottom: '20px'});
  const injector = window.angular.element(document.documentElement).injector();
  const scope = (diagramScope = injector.get('$rootScope').$new(true));
  Object.assign(scope, {xml, control: {}, key: `lapor-history-${id}`}); // the viewer is cached by key
  scope.loaded = () => passed.forEach(element => scope.control.highlight(element));
  const viewer =
    '<div cam-widget-bpmn-viewer key="{{key}}" diagram-data="xml" control="control" on-load="loaded()"></div>';
  const [drawn] = injector.get('$compile')(viewer)(scope);
  Object.assign(drawn.style, {position: 'absolute', inset: '0'}); // the viewer fits the diagram to its own box
  holder.append(drawn);
  scope.$applyAsync();
  return holder;
}

async function renderReport(node, api) {
  const id = decodeURIComponent(window.location.hash.split('/')[2] || '');
  message(node, 'Memuat riwayat laporan...');
  let report;
  try {
    report = await loadReport(engine(api), id);
    const definition = `/process-definition/${encodeURIComponent(report.instance.processDefinitionId)}/xml`;
    report.xml = (await engine(api).get(definition)).bpmn20Xml;
  } catch (error) {
    message(node, `Riwayat instans proses ${id} tidak dapat dibaca: ${error.message}.`, 'danger');
    return;
  }
  const {instance} = report;
  const names = Object.fromEntries(report.activities.map(a => [a.activityId, a.activityName || a.activityId]));
  const definition = `#/process-definition/${encodeURIComponent(instance.processDefinitionId)}/runtime`;
  const [open, runtime] = [!instance.endTime, `#/process-instance/${encodeURIComponent(id)}/runtime`];
  const page = el(
    'section',
    {id: 'lapor-history', class: 'lapor-history'},
    el(
      'p',
      {class: 'lapor-history-crumbs'},
      el('a', {href: '#/processes'}, 'Proses'),
      ' » ',
      el('a', {href: `${definition}?detailsTab=lapor-finished-reports`}, processName(instance)),
      ' » ',
      instance.businessKey || instance.id
    ),
    el('h2', {}, `Riwayat laporan ${instance.businessKey || instance.id}`),
    el('p', {class: 'text-muted'}, 'Hanya untuk dibaca: riwayat ini tidak dapat diubah dari sini.'),
    open ? el('p', {}, el('a', {href: runtime}, 'Buka tampilan berjalan')) : '',
    summary(report),
    el('h3', {}, 'Tugas petugas'),
    tasksTable(report.tasks),
    el('h3', {}, 'Insiden'),
    incidentsTable(report.incidents, names),
    el('h3', {}, 'Jalur yang ditempuh'),
    diagram(id, report.xml, passedElements(report.activities)),
    pathTable(report.activities)
  );
  // Cockpit's content box clips what overflows it (.ctn-main); its own pages scroll inside it, and so does this one.
  Object.assign(page.style, {position: 'absolute', inset: '0', overflowY: 'auto', padding: '15px 30px 30px'});
  node.replaceChildren(page);
}

// -- finding a report ------------------------------------------------------------------------------------------
function reportsTable(instances) {
  const rows = instances.map(i =>
    el(
      'tr',
      {'data-instance': i.id},
      el('td', {}, historyLink(i)),
      el('td', {}, i.processDefinitionVersion),
      el('td', {}, inWords(i.startTime)),
      el('td', {}, i.endTime ? inWords(i.endTime) : 'belum'),
      el('td', {}, STATES[i.state] || i.state)
    )
  );
  const headers = ['Nomor laporan', 'Versi', 'Mulai', 'Berakhir', 'Status'];
  if (!rows.length) return el('p', {}, 'Tidak ada laporan yang cocok.');
  return table(headers, rows, {class: 'table table-striped table-condensed lapor-reports'});
}

// A search box and the reports it finds; `query` narrows the engine's historic process-instance query.
function reportFinder(node, api, {query, placeholder, heading}) {
  const rest = engine(api);
  const field = {type: 'search', class: 'form-control', name: 'trackingId', placeholder, 'aria-label': placeholder};
  const input = el('input', field);
  const results = el('div', {class: 'lapor-reports-results'});
  async function search() {
    const typed = input.value.trim();
    const params = {...query, sortBy: 'startTime', sortOrder: 'desc'};
    if (typed) params.processInstanceBusinessKeyLike = `%${typed}%`;
    message(results, 'Mencari...');
    try {
      const [found, {count}] = await Promise.all([
        rest.get('/history/process-instance', {...params, maxResults: 50}),
        rest.get('/history/process-instance/count', params)
      ]);
      const shown = count > found.length ? `${count} laporan, 50 terbaru ditampilkan` : `${count} laporan`;
      results.replaceChildren(el('p', {class: 'lapor-reports-count'}, shown), reportsTable(found));
    } catch (error) {
      message(results, `Laporan tidak dapat dicari: ${error.message}.`, 'danger');
    }
  }
  const form = el(
    'form',
    {class: 'form-inline lapor-reports-search'},
    input,
    ' ',
    el('button', {type: 'submit', class: 'btn btn-default'}, 'Cari')
  );
  form.addEventListener('submit', event => {
    event.preventDefault();
    search();
  });
  node.replaceChildren(el('div', {class: 'lapor-reports'}, heading ? el('h3', {}, heading) : '', form, results));
  return search;
}

async function renderFinishedTab(node, {api, processDefinitionId}) {
  try {
    const definition = await engine(api).get(`/process-definition/${encodeURIComponent(processDefinitionId)}`);
    const query = {processDefinitionKey: definition.key, finished: true};
    reportFinder(node, api, {query, placeholder: 'Cari nomor laporan'})();
  } catch (error) {
    message(node, `Laporan selesai tidak dapat dibaca: ${error.message}.`, 'danger');
  }
}

export default [
  {
    // Registering a process-instance view named "history" is what makes Cockpit send a finished instance here.
    id: 'history',
    pluginPoint: 'cockpit.processInstance.view',
    priority: 10,
    label: 'Riwayat',
    render: () => {}
  },
  {
    id: 'lapor-report-history',
    pluginPoint: 'cockpit.route',
    properties: {path: '/process-instance/:id/history'},
    render: (node, {api}) => renderReport(node, api),
    unmount: forgetDiagram
  },
  {
    id: 'lapor-finished-reports',
    pluginPoint: 'cockpit.processDefinition.runtime.tab',
    priority: 5,
    label: 'Laporan selesai',
    render: renderFinishedTab
  },
  {
    id: 'lapor-report-search',
    pluginPoint: 'cockpit.dashboard',
    priority: 15,
    label: 'Cari laporan',
    render: (node, {api}) =>
      reportFinder(node, api, {query: {}, placeholder: 'Nomor laporan, mis. PTK-2611-7KQ3MX', heading: 'Cari laporan'})
  }
];
