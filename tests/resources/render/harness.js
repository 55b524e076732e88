// The harness of tests/webapps/test_models_render.py: opens one model of bpmn/ in the Modeler's own libraries
// (bpmn-js, dmn-js, form-js, which the page loads after this file, so that what they log is seen) and reports what
// they said. The test calls the functions on `window.harness` and reads the plain objects they resolve to.
'use strict';

// Everything the browser complains about while the model opens: console errors, uncaught errors, failed loads.
const problems = [];
const consoleError = console.error.bind(console);
console.error = (...args) => {
  problems.push('console.error: ' + args.map(String).join(' '));
  consoleError(...args);
};
window.addEventListener('error', (event) => {
  const source = event.target && (event.target.src || event.target.href);
  problems.push(source ? `failed to load ${source}` : `uncaught error: ${event.message}`);
}, true);
window.addEventListener('unhandledrejection', (event) => {
  problems.push(`unhandled rejection: ${event.reason && event.reason.message || event.reason}`);
});

async function fetchModel(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  return response.text();
}

// A library warning as one line: its message and, when it names one, the element it is about.
function describeWarning(warning) {
  const message = warning && warning.message || String(warning);
  const element = warning && warning.element;
  const id = element && (element.id || element.$type);
  return id && !message.includes(id) ? `${message} (at ${id})` : message;
}

// Runs an import; a rejected import becomes {error, warnings}, as the Modeler shows it instead of the diagram.
async function imported(run) {
  try {
    const { warnings } = await run();
    return { error: null, warnings: (warnings || []).map(describeWarning) };
  } catch (error) {
    return { error: String(error && error.message || error), warnings: (error.warnings || []).map(describeWarning) };
  }
}

function finish(result) {
  return { ...result, problems: problems.slice() };
}

// -- What the screenshots show: the diagram fitted beside the palette, and the size that shows it all at 1:1 ------

const MARGIN = 20;
let activeCanvas = null;  // the diagram on the page, if it is one (the BPMN diagram, a DRD), else null

// Where the diagram may be drawn: right of the palette and below the DRD's name box, which float over the canvas.
function freeArea() {
  const palette = document.querySelector('#canvas .djs-palette');
  const names = document.querySelector('#canvas .dmn-definitions');
  return {
    left: (palette ? palette.getBoundingClientRect().right : 0) + MARGIN,
    top: (names ? names.getBoundingClientRect().bottom : 0) + MARGIN,
  };
}

// As canvas.zoom('fit-viewport'), but clear of what floats over the canvas.
function fit() {
  if (!activeCanvas) {
    return;
  }
  activeCanvas.resized();
  const { inner, outer } = activeCanvas.viewbox();
  const { left, top } = freeArea();
  const scale = Math.min(1, (outer.width - left - MARGIN) / inner.width, (outer.height - top - MARGIN) / inner.height);
  activeCanvas.viewbox({
    x: inner.x - left / scale,
    y: inner.y - top / scale,
    width: outer.width / scale,
    height: outer.height / scale,
  });
}

// The page size that shows the whole model at 1:1: the diagram beside the palette, or the page's content.
function size() {
  if (activeCanvas) {
    const { inner } = activeCanvas.viewbox();
    const { left, top } = freeArea();
    return { width: Math.ceil(left + inner.width + MARGIN), height: Math.ceil(top + inner.height + MARGIN) };
  }
  let bottom = 0;  // of the decision table, or of the form's last field
  for (const element of document.querySelectorAll('#canvas .tjs-table, #canvas .fjs-form [data-id]')) {
    bottom = Math.max(bottom, element.getBoundingClientRect().bottom);
  }
  return { width: window.innerWidth, height: Math.ceil(bottom + MARGIN) };
}

// -- BPMN: bpmn-js Modeler with the camunda moddle, as Camunda Modeler opens a Camunda 7 diagram -------------------

function flowElementsOf(container) {
  const found = [];
  for (const element of container.flowElements || []) {
    found.push(element);
    if (element.flowElements) {
      found.push(...flowElementsOf(element));
    }
  }
  return found;
}

async function openBpmn(modelUrl, camundaUrl) {
  const camunda = await (await fetch(camundaUrl)).json();
  const modeler = new BpmnJS({ container: '#canvas', moddleExtensions: { camunda } });
  window.modeler = modeler;
  const result = await imported(async () => modeler.importXML(await fetchModel(modelUrl)));
  if (result.error) {
    return finish(result);
  }
  activeCanvas = modeler.get('canvas');
  fit();
  const registry = modeler.get('elementRegistry');
  const processes = modeler.getDefinitions().rootElements.filter((root) => root.$instanceOf('bpmn:Process'));
  const expected = [];
  for (const process of processes) {
    for (const element of flowElementsOf(process)) {
      if (element.$instanceOf('bpmn:FlowNode') || element.$instanceOf('bpmn:SequenceFlow')) {
        expected.push(element.id);
      }
    }
    for (const laneSet of process.laneSets || []) {
      expected.push(...(laneSet.lanes || []).map((lane) => lane.id));
    }
  }
  // The Modeler draws every event 36x36 and every gateway 50x50; a shape of another size is drawn stretched.
  const sizes = [['bpmn:Event', 36], ['bpmn:Gateway', 50]];
  const misSized = registry.filter((element) => element.type !== 'label' && !element.waypoints && sizes.some(
    ([type, side]) => element.businessObject.$instanceOf(type) && (element.width !== side || element.height !== side),
  ));
  const rendered = (id) => {
    const element = registry.get(id);
    return Boolean(element && registry.getGraphics(element));
  };
  return finish({
    ...result,
    processes: processes.map((process) => process.id),
    shapes: registry.filter((element) => !element.waypoints && element.type !== 'label' && element.parent).length,
    expected: expected.length,
    missing: expected.filter((id) => !rendered(id)),
    misSized: misSized.map((element) => `${element.id} (${element.width}x${element.height})`),
  });
}

// -- DMN: dmn-js Modeler; the DRD first, then each decision's table ------------------------------------------------

async function openDmn(modelUrl, camundaUrl) {
  const camunda = await (await fetch(camundaUrl)).json();
  const modeler = new DmnJS({ container: '#canvas', moddleExtensions: { camunda } });
  window.modeler = modeler;
  const result = await imported(async () => modeler.importXML(await fetchModel(modelUrl)));
  if (result.error) {
    return finish(result);
  }
  const active = modeler.getActiveView();
  activeCanvas = active && active.type === 'drd' ? modeler.getActiveViewer().get('canvas') : null;
  fit();
  const decisions = modeler.getDefinitions().drgElement.filter((element) => element.$instanceOf('dmn:Decision'));
  const registry = activeCanvas && modeler.getActiveViewer().get('elementRegistry');
  return finish({
    ...result,
    view: active && active.type,
    notInDrd: registry ? decisions.filter((decision) => !registry.get(decision.id)).map((decision) => decision.id) : [],
    decisions: decisions.map((decision) => ({
      id: decision.id,
      rules: decision.decisionLogic && decision.decisionLogic.rule ? decision.decisionLogic.rule.length : null,
    })),
  });
}

// Opens one decision's view (its table) and counts the rules drawn.
async function openDecision(id) {
  const view = window.modeler.getViews().find((candidate) => candidate.id === id && candidate.type !== 'drd');
  if (!view) {
    return finish({ error: `no view opens decision ${id}`, warnings: [] });
  }
  const result = await imported(async () => window.modeler.open(view));
  activeCanvas = null;  // a table, not a diagram
  return finish({
    ...result,
    type: view.type,
    rows: document.querySelectorAll('#canvas .tjs-table tbody tr').length,
  });
}

// -- Forms: form-js's editor, the Modeler's form tab ----------------------------------------------------------------

async function openForm(modelUrl) {
  const editor = new FormEditor.FormEditor({ container: document.querySelector('#canvas') });
  window.editor = editor;
  let schema;
  try {
    schema = JSON.parse(await fetchModel(modelUrl));
  } catch (error) {
    return finish({ error: `not a form schema: ${error.message}`, warnings: [] });
  }
  const result = await imported(() => editor.importSchema(schema));
  if (result.error) {
    return finish(result);
  }
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 100)));
  // Every field the editor imported (it gives an id to a field that has none), the form itself aside.
  const ids = editor.get('formFieldRegistry').getAll().filter((field) => field.type !== 'default').map((field) => field.id);
  const drawn = (id) => document.querySelector(`#canvas [data-id="${CSS.escape(id)}"]`);
  return finish({ ...result, fields: ids.length, missing: ids.filter((id) => !drawn(id)) });
}

window.harness = { openBpmn, openDmn, openDecision, openForm, fit, size };
