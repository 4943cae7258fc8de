// The policy site in a real browser: Debian's Chromium, driven by playwright-core over the
// DevTools protocol, on the site `huiqi doc` wrote (SITE, default target/site), served from a
// loopback port by a server in this file. Run by scripts/browser-tests, which builds the site.
//
// (a) the calculator, given the example enterprise's facts, shows what `huiqi eval --format
//     json` prints for them: every clause's status and amount, the total, and the document
//     itself byte for byte; the form route gives the same statuses and amounts;
// (b) every case of tests/conformance/ evaluated by the WebAssembly module in the page gives
//     the expected document;
// (c) no page requests anything outside the site;
// (d) screenshots in target/screenshots/;
// (e) the document pages (index, E23).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const site = path.resolve(process.env.SITE || path.join(root, 'target/site'));
const huiqi = path.resolve(process.env.HUIQI || path.join(root, 'target/release/huiqi'));
const shots = path.join(root, 'target/screenshots');
const exampleFile = path.join(root, 'examples/长春光学精密.json');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

let server;
let origin;
let browser;
const requests = [];

before(async () => {
  assert.ok(fs.existsSync(path.join(site, 'calculator.html')), `no calculator in ${site}: run scripts/browser-tests (it builds the site)`);
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file = path.join(site, decodeURIComponent(url.pathname));
    if (!file.startsWith(site)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(body);
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  fs.mkdirSync(shots, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
});

// A page that records every request it makes and fails on script errors.
async function open(rel) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('request', (r) => requests.push({ page: rel, url: r.url() }));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${origin}/${rel}`);
  return { page, errors, close: () => context.close() };
}

async function openCalculator() {
  const p = await open('calculator.html');
  await p.page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  return p;
}

function cli(args) {
  return execFileSync(huiqi, args, { cwd: root, encoding: 'utf-8', maxBuffer: 64 << 20 });
}

// The results table as {clause: [status, amount]} and the total.
async function shownResults(page) {
  await page.waitForSelector('#results:not([hidden])');
  const rows = await page.$$eval('#result-table tbody tr', (trs) =>
    trs.map((tr) => [tr.dataset.clause, tr.dataset.status, tr.querySelector('td.amount').textContent]));
  const total = await page.textContent('#total');
  return { rows, total };
}

function expectedRows(doc) {
  return doc.results.map((r) => [`${r.policy}.${r.clause}`, r.status, r.amount === null ? '' : r.amount]);
}

test('(a) the calculator shows what huiqi eval --format json gives for the example enterprise', async () => {
  const facts = fs.readFileSync(exampleFile, 'utf-8');
  const printed = cli(['eval', '--facts', exampleFile, '--format', 'json', '--policies', 'policies']);
  const doc = JSON.parse(printed);
  const { page, errors, close } = await openCalculator();

  // pasted JSON
  await page.click('#tab-json');
  await page.fill('#facts-json', facts);
  await page.click('#evaluate');
  const shown = await shownResults(page);
  assert.deepEqual(shown.rows, expectedRows(doc));
  assert.equal(shown.total, doc.total);
  assert.ok(doc.results.some((r) => r.status === 'granted' && r.amount !== null), 'the example is granted something');
  assert.equal(await page.textContent('#report-json'), printed.replace(/\n$/, ''), 'the document, byte for byte');
  await page.screenshot({ path: path.join(shots, 'calculator.png'), fullPage: true });

  // the same facts through the form
  await page.click('#to-form');
  await page.waitForSelector('#panel-form:not([hidden])');
  await page.click('#evaluate');
  await page.waitForFunction(() => document.getElementById('report-json').textContent !== '');
  const viaForm = await shownResults(page);
  assert.deepEqual(viaForm.rows, expectedRows(doc), 'the form route');
  assert.equal(viaForm.total, doc.total);
  await page.screenshot({ path: path.join(shots, 'calculator-form.png'), fullPage: true });

  // a wrong fact is named with its path and the fix, nothing is evaluated
  await page.click('#tab-json');
  await page.fill('#facts-json', '{"营业收入": {"2024": "abc"}}');
  await page.click('#evaluate');
  await page.waitForSelector('#diagnostics:not([hidden])');
  const diag = await page.textContent('#diagnostic-list');
  assert.match(diag, /facts: 营业收入\.2024: error\[E0403\]/);
  assert.match(diag, /help:/);
  await page.screenshot({ path: path.join(shots, 'calculator-facts-error.png'), fullPage: true });

  assert.deepEqual(errors, []);
  await close();
});

// The raw text of a top-level member of a JSON object, numbers untouched.
function rawMember(text, key) {
  const at = text.indexOf(`${JSON.stringify(key)}:`);
  if (at < 0) return undefined;
  let i = at + JSON.stringify(key).length + 1;
  while (/\s/.test(text[i])) i++;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) break;
      depth--;
      if (depth === 0) {
        i++;
        break;
      }
    } else if (c === ',' && depth === 0) break;
  }
  return text.slice(start, i).trim();
}

test('(b) every conformance case gives the expected document in the browser', async () => {
  const dir = path.join(root, 'tests/conformance');
  const cases = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const text = fs.readFileSync(path.join(dir, f), 'utf-8');
    const c = JSON.parse(text);
    const ledger = c.ledger === null ? 'null' : rawMember(text, 'ledger');
    const options = `{"period": ${c.period === null ? 'null' : c.period}, "ledger": ${ledger}}`;
    const rules = c.rules === 'policies' ? null : Object.entries(c.rules).map(([p, t]) => ({ path: p, text: t }));
    return { file: f, name: c.name, facts: rawMember(text, 'facts'), options, rules, expected: c.expected };
  });
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  const { page, errors, close } = await openCalculator();
  const answers = await page.evaluate(async (cases) => {
    const m = await import('./pkg/huiqi_wasm.js');
    await m.default();
    const bundle = await (await fetch('calc/rules.json')).json();
    const handleOf = (files) => {
      const a = m.compile(JSON.stringify(files));
      const ok = a.ok;
      const r = JSON.parse(a.json);
      a.free();
      if (!ok) throw new Error(JSON.stringify(r));
      return r.handle;
    };
    const policies = handleOf(bundle.files);
    return cases.map((c) => {
      const h = c.rules ? handleOf(c.rules) : policies;
      const a = m.evaluate(h, c.facts, c.options);
      const out = { ok: a.ok, json: a.json };
      a.free();
      if (c.rules) m.release(h);
      return out;
    });
  }, cases.map(({ facts, options, rules }) => ({ facts, options, rules })));
  let agreed = 0;
  for (const [i, c] of cases.entries()) {
    const a = answers[i];
    assert.ok(a.ok, `${c.file} (${c.name}): ${a.json}`);
    assert.deepEqual(JSON.parse(a.json), c.expected, `${c.file} (${c.name})`);
    agreed++;
  }
  assert.equal(agreed, cases.length);
  assert.deepEqual(errors, []);
  await close();
});

const docPage = path.join(site, 'doc/E23.html');

test('(e) the index lists the documents and E23 shows the quote and tiers of E23.5', async () => {
  assert.ok(fs.existsSync(docPage), `${path.relative(root, docPage)}: huiqi doc wrote no document page for E23`);
  const ir = JSON.parse(cli(['ir', '--format', 'json', 'policies']));
  const index = await open('index.html');
  const docs = await index.page.$$eval('a.doc', (as) => as.length);
  assert.equal(docs, ir.documents.length, 'one a.doc per document');
  await index.page.screenshot({ path: path.join(shots, 'index.png'), fullPage: true });
  assert.deepEqual(index.errors, []);
  await index.close();
  const e23 = await open('doc/E23.html');
  // data-clause lists every clause quoting the words, separated by spaces
  const quote = await e23.page.$eval('mark.quote[data-clause~="E23.5"]', (m) => m.textContent);
  assert.match(quote.replace(/\s/g, ''), /年产值（主营收入）首次超过/, 'the quote of E23.5 is highlighted');
  // E23.5 (吉政办发〔2023〕10号 五): 首次超过 1亿、5亿、10亿 → 30万、50万、100万
  const tiers = await e23.page.$$eval('#clause-E23\\.5 table.tiers tr', (rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent.trim())).filter((r) => r.length));
  assert.deepEqual(tiers.map((r) => r.slice(-1)[0]), ['30万', '50万', '100万'], "E23.5's card shows its tiers");
  await e23.page.screenshot({ path: path.join(shots, 'E23.png'), fullPage: true });
  assert.deepEqual(e23.errors, []);
  await e23.close();
});

// Last: every page opened above.
test('(c) no page requested anything outside the site', () => {
  assert.ok(requests.length > 0);
  const outside = requests.filter((r) => !r.url.startsWith(`${origin}/`));
  assert.deepEqual(outside, [], 'requests outside the site');
  assert.ok(requests.some((r) => r.url.endsWith('.wasm')), 'the WebAssembly module was loaded from the site');
});
