// The calculator page: loads the rule files (calc/rules.json), compiles them with huiqi
// compiled to WebAssembly (../pkg/huiqi_wasm.js), builds a form from the facts vocabulary and
// shows the `huiqi eval --format json` document the module answers.
//
// Exactness: no amount ever becomes a JavaScript number. Inputs are kept as the text typed;
// facts JSON is written as text (pasted JSON is passed on verbatim, and numbers read from it
// keep their source text); results are shown from the document's decimal strings.
import init, { compile, vocabulary, evaluate, last_panic, version } from '../pkg/huiqi_wasm.js';

const $ = (id) => document.getElementById(id);
const STATUS = {
  granted: ['可获', 'granted'],
  discretionary: ['酌定', 'discretionary'],
  ineligible: ['不符合', 'ineligible'],
  undetermined: ['待定（缺少事实）', 'undetermined (facts missing)'],
  not_in_force: ['未施行', 'not in force'],
  exhausted: ['已享受', 'exhausted'],
  error: ['出错', 'error'],
};

let handle = null;
let vocab = null;
let example = null;

// One call into the module: its Answer as {ok, json}, a trap turned into a message.
function call(f, ...args) {
  let answer;
  try {
    answer = f(...args);
  } catch (e) {
    const why = last_panic() || String(e);
    return { ok: false, json: JSON.stringify({ diagnostics: [{ code: 'panic', file: '', message: `huiqi stopped: ${why}`, help: 'this is a bug in huiqi; please report it with the facts you entered' }] }) };
  }
  const out = { ok: answer.ok, json: answer.json };
  answer.free();
  return out;
}

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

function showDiagnostics(diags) {
  const list = $('diagnostic-list');
  list.replaceChildren();
  for (const d of diags) {
    const li = document.createElement('li');
    const where = d.line ? `${d.file}:${d.line}:${d.column}` : d.path ? `${d.file}: ${d.path}` : d.file;
    const w = document.createElement('span');
    w.className = 'where';
    w.textContent = `${where ? where + ': ' : ''}${d.severity || 'error'}[${d.code}]`;
    li.append(w, ' ', d.message);
    if (d.help) {
      const h = document.createElement('div');
      h.textContent = `help: ${d.help}`;
      li.append(h);
    }
    list.append(li);
  }
  $('diagnostics').hidden = diags.length === 0;
}

// ---- facts JSON without floats -------------------------------------------------------------

// A number as its source text.
class Raw {
  constructor(text) { this.text = text; }
}

// JSON.parse keeping every number's text (the reviver's `context.source`).
function parseExact(text) {
  return JSON.parse(text, function (key, value, context) {
    if (typeof value === 'number') {
      return new Raw(context && typeof context.source === 'string' ? context.source : String(value));
    }
    return value;
  });
}

// The inverse of parseExact: numbers written back as their text.
function writeExact(v, indent = '') {
  const inner = indent + '  ';
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => inner + writeExact(x, inner)).join(',\n') + '\n' + indent + ']';
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    return '{\n' + keys.map((k) => inner + JSON.stringify(k) + ': ' + writeExact(v[k], inner)).join(',\n') + '\n' + indent + '}';
  }
  return JSON.stringify(v);
}

const asText = (v) => (v instanceof Raw ? v.text : typeof v === 'string' ? v : v === undefined || v === null ? '' : writeExact(v));

// ---- the form ------------------------------------------------------------------------------

function label(f) {
  return f.label && f.label !== f.name ? `${f.label}` : f.name;
}

function hintOf(f) {
  const of = f.kind === 'series' ? f.of : f.kind;
  switch (of) {
    case 'money': return '元，如 5.6亿、8000万 · yuan';
    case 'rate': return '如 0.15 或 15% · a fraction or a percentage';
    case 'integer': return '整数 · a whole number';
    case 'number': return '数 · a number';
    case 'year': return '年份，如 2024 · a year';
    case 'date': return 'YYYY-MM-DD';
    default: return '';
  }
}

function fieldId(name) {
  return 'fact-' + Array.from(name).map((c) => c.codePointAt(0).toString(16)).join('-');
}

// Builds one fact's input; returns [element, read() → JSON text or null, fill(value)].
function factInput(f) {
  const box = document.createElement('div');
  box.className = 'fact';
  box.dataset.fact = f.name;
  const id = fieldId(f.name);
  const lab = document.createElement('label');
  lab.htmlFor = id;
  lab.textContent = label(f) + (f.unit === '元' ? '（元）' : '');
  if (f.label && f.label !== f.name) {
    const n = document.createElement('span');
    n.className = 'name';
    n.textContent = ` ${f.name}`;
    lab.append(n);
  }
  box.append(lab);
  const text = (ph) => {
    const i = document.createElement('input');
    i.id = id;
    i.type = 'text';
    i.autocomplete = 'off';
    if (ph) i.placeholder = ph;
    return i;
  };
  switch (f.kind) {
    case 'boolean': {
      const s = document.createElement('select');
      s.id = id;
      for (const [v, t] of [['', '未填 · unknown'], ['true', '是 · yes'], ['false', '否 · no']]) s.add(new Option(t, v));
      box.append(s);
      return [box, () => (s.value === '' ? null : s.value), (v) => { s.value = v === true ? 'true' : v === false ? 'false' : ''; }];
    }
    case 'enum': {
      const s = document.createElement('select');
      s.id = id;
      s.add(new Option('未填 · unknown', ''));
      const e = vocab.enums.find((x) => x.name === f.of);
      for (const v of e ? e.values : []) s.add(new Option(v.label && v.label !== v.value ? `${v.value}（${v.label}）` : v.value, v.value));
      box.append(s);
      return [box, () => (s.value === '' ? null : JSON.stringify(s.value)), (v) => { s.value = typeof v === 'string' ? v : ''; }];
    }
    case 'date': {
      const i = text(f.never ? 'YYYY-MM-DD 或 never' : 'YYYY-MM-DD');
      i.pattern = f.never ? '\\d{4}-\\d{2}-\\d{2}|never' : '\\d{4}-\\d{2}-\\d{2}';
      box.append(i);
      return [box, () => (i.value.trim() === '' ? null : JSON.stringify(i.value.trim())), (v) => { i.value = asText(v); }];
    }
    case 'series': {
      const rows = document.createElement('div');
      box.append(rows);
      const add = (key = '', value = '') => {
        const r = document.createElement('div');
        r.className = 'series-row';
        const k = document.createElement('input');
        k.placeholder = f.monthly ? '2024-03' : '年份 year';
        k.setAttribute('aria-label', `${f.name}: ${f.monthly ? '月份 month' : '年份 year'}`);
        k.value = key;
        const v = document.createElement('input');
        v.placeholder = hintOf(f);
        v.setAttribute('aria-label', `${f.name}: 数值 value`);
        v.value = value;
        if (rows.children.length === 0) k.id = id;
        r.append(k, v);
        rows.append(r);
      };
      add();
      add();
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'add';
      more.textContent = f.monthly ? '+ 月份 month' : '+ 年份 year';
      more.addEventListener('click', () => add());
      box.append(more);
      const read = () => {
        const parts = [];
        for (const r of rows.children) {
          const [k, v] = r.querySelectorAll('input');
          if (k.value.trim() !== '' && v.value.trim() !== '') parts.push(JSON.stringify(k.value.trim()) + ': ' + JSON.stringify(v.value.trim()));
        }
        return parts.length ? '{' + parts.join(', ') + '}' : null;
      };
      const fill = (v) => {
        rows.replaceChildren();
        if (v && typeof v === 'object' && !(v instanceof Raw)) for (const [k, x] of Object.entries(v)) add(k, asText(x));
        while (rows.children.length < 2) add();
      };
      return [box, read, fill];
    }
    case 'record':
    case 'list': {
      const t = document.createElement('textarea');
      t.id = id;
      t.spellcheck = false;
      const rec = vocab.records.find((r) => r.name === f.of);
      const one = rec ? '{' + rec.fields.map((x) => `${JSON.stringify(x.name)}: …`).join(', ') + '}' : '{…}';
      t.placeholder = f.kind === 'list' ? `[${one}, …]` : one;
      box.append(t);
      const read = () => (t.value.trim() === '' ? null : t.value.trim());
      return [box, read, (v) => { t.value = v === undefined ? '' : writeExact(v); }];
    }
    default: {
      // money, rate, number, integer, year, text: the text as typed
      const i = text(hintOf(f));
      if (f.kind !== 'text') i.inputMode = 'decimal';
      box.append(i);
      return [box, () => (i.value.trim() === '' ? null : JSON.stringify(i.value.trim())), (v) => { i.value = asText(v); }];
    }
  }
}

const inputs = new Map();
// `$name`, `$id` … of facts filled in from JSON, passed on as they were (JSON text)
let meta = [];

function buildForm() {
  const fields = $('fields');
  fields.replaceChildren();
  inputs.clear();
  for (const f of vocab.facts) {
    const [el, read, fill] = factInput(f);
    inputs.set(f.name, { read, fill });
    fields.append(el);
  }
}

// The form as facts JSON text; a record or list textarea that is not JSON is named.
function formFacts() {
  const parts = meta.map(([k, v]) => '  ' + JSON.stringify(k) + ': ' + v);
  for (const [name, { read }] of inputs) {
    const v = read();
    if (v === null) continue;
    try {
      JSON.parse(v);
    } catch (e) {
      throw new Error(`\`${name}\`: ${e.message}`);
    }
    parts.push('  ' + JSON.stringify(name) + ': ' + v);
  }
  return '{\n' + parts.join(',\n') + '\n}';
}

function fillForm(text) {
  const facts = parseExact(text);
  for (const [name, { fill }] of inputs) fill(facts[name]);
  meta = Object.entries(facts)
    .filter(([k]) => k.startsWith('$') && k !== '$period' && k !== '$as_of')
    .map(([k, v]) => [k, writeExact(v)]);
  for (const k of ['$period', '$as_of']) {
    const v = facts[k];
    if (v !== undefined) (k === '$period' ? $('period') : $('as-of')).value = asText(v);
  }
}

function selectTab(json) {
  $('tab-form').setAttribute('aria-selected', String(!json));
  $('tab-json').setAttribute('aria-selected', String(json));
  $('panel-form').hidden = json;
  $('panel-json').hidden = !json;
}

// ---- results -------------------------------------------------------------------------------

function statusText(s, lang) {
  const t = STATUS[s] || [s, s];
  return lang === 'en' ? t[1] : t[0];
}

function showReport(text, lang) {
  const doc = JSON.parse(text); // amounts are strings in the document: nothing is rounded
  $('report-json').textContent = text;
  $('summary').textContent = `${doc.enterprise ? doc.enterprise + ' · ' : ''}考核年度 period ${doc.period} · 评估日期 as of ${doc.as_of}`;
  $('total').textContent = doc.total === null ? '—' : doc.total;
  const body = $('result-table').tBodies[0];
  body.replaceChildren();
  for (const r of doc.results) {
    const tr = document.createElement('tr');
    tr.dataset.clause = `${r.policy}.${r.clause}`;
    tr.dataset.status = r.status;
    const cell = (t, cls) => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      td.textContent = t;
      tr.append(td);
      return td;
    };
    cell(r.number ? `${r.policy} ${r.number}` : r.policy, 'doc');
    cell(r.clause, 'clause');
    cell(r.title, 'title');
    cell(statusText(r.status, lang), `status status-${r.status}`);
    cell(r.amount === null ? '' : r.amount, 'amount');
    const ex = cell('', 'explanation');
    const steps = r.explanation.length ? r.explanation : r.reasons;
    if (steps.length || r.missing.length) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      s.textContent = lang === 'en' ? `${steps.length} step(s)` : `${steps.length} 步`;
      const ol = document.createElement('ol');
      for (const st of steps) {
        const li = document.createElement('li');
        li.textContent = st.text;
        ol.append(li);
      }
      d.append(s, ol);
      if (r.missing.length) {
        const p = document.createElement('p');
        p.textContent = (lang === 'en' ? 'missing: ' : '缺少：') + r.missing.join('、');
        d.append(p);
      }
      ex.append(d);
    }
    body.append(tr);
  }
  const errs = $('errors');
  errs.replaceChildren();
  for (const e of doc.errors) {
    const li = document.createElement('li');
    li.textContent = `${e.policy}.${e.clause}: [${e.code}] ${e.message || ''}`;
    errs.append(li);
  }
  $('results').hidden = false;
}

function run(event) {
  if (event) event.preventDefault();
  const lang = $('lang').value;
  let facts;
  if (!$('panel-json').hidden) {
    facts = $('facts-json').value;
  } else {
    try {
      facts = formFacts();
    } catch (e) {
      showDiagnostics([{ code: 'E0401', file: 'facts', message: e.message, help: 'write the record or list as JSON' }]);
      return;
    }
  }
  const options = {};
  const period = $('period').value.trim();
  if (period !== '') {
    if (!/^\d{4}$/.test(period)) {
      showDiagnostics([{ code: 'E0403', file: 'period', message: `the period \`${period}\` is not a year`, help: 'write the year the facts describe, e.g. 2024, or leave it empty' }]);
      return;
    }
    options.period = Number(period); // a year, never an amount
  }
  if ($('as-of').value) options.as_of = $('as-of').value;
  options.lang = lang;
  const a = call(evaluate, handle, facts, JSON.stringify(options));
  if (!a.ok) {
    showDiagnostics(JSON.parse(a.json).diagnostics);
    setStatus('事实有误，未计算 · the facts have problems; nothing was evaluated', true);
    $('results').hidden = true;
    return;
  }
  showDiagnostics([]);
  setStatus('已计算 · evaluated');
  showReport(a.json, lang);
}

async function main() {
  try {
    await init();
  } catch (e) {
    setStatus(`无法加载 WebAssembly · cannot load the WebAssembly module: ${e}`, true);
    return;
  }
  $('version').textContent = version();
  let bundle;
  try {
    const resp = await fetch('calc/rules.json');
    bundle = await resp.json();
  } catch (e) {
    setStatus(`无法读取规则 · cannot read calc/rules.json: ${e}`, true);
    return;
  }
  const c = call(compile, JSON.stringify(bundle.files));
  const compiled = JSON.parse(c.json);
  if (!c.ok) {
    showDiagnostics(compiled.diagnostics);
    setStatus('规则有误 · the rule files have errors', true);
    return;
  }
  handle = compiled.handle;
  const v = call(vocabulary, handle);
  vocab = JSON.parse(v.json).vocabulary;
  buildForm();
  example = bundle.example;
  if (example) {
    $('example').hidden = false;
    $('example').addEventListener('click', () => {
      $('facts-json').value = example;
      fillForm(example);
    });
  }
  $('tab-form').addEventListener('click', () => selectTab(false));
  $('tab-json').addEventListener('click', () => {
    try {
      $('facts-json').value = formFacts();
    } catch {
      // keep what is there
    }
    selectTab(true);
  });
  $('to-form').addEventListener('click', () => {
    try {
      fillForm($('facts-json').value);
      selectTab(false);
      showDiagnostics([]);
    } catch (e) {
      showDiagnostics([{ code: 'E0401', file: 'facts', message: `the facts are not JSON: ${e.message}`, help: 'correct the JSON, or evaluate it as it is to see every problem' }]);
    }
  });
  $('calc').addEventListener('submit', run);
  $('calc').hidden = false;
  setStatus(`已载入 ${bundle.files.length} 个规则文件，${vocab.facts.length} 项事实 · ${bundle.files.length} rule files, ${vocab.facts.length} facts loaded`);
  document.body.dataset.ready = 'true';
}

main();
