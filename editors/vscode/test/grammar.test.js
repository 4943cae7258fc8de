// The TextMate grammar on every rule file of policies/, in both keyword spellings (the files
// as written, with English keywords, and converted by `huiqi fmt --keywords zh`), checked
// against an independent reading of the text: a small lexer of comments, strings, words,
// numbers and clause references, and the keyword table of src/syntax/keywords.rs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { tokenize, scopesAt } = require('./tokenize.js');
const gen = require('../scripts/gen-grammar.js');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const POLICIES = path.join(ROOT, 'policies');

// ------------------------------------------------------------------ the keyword table
const TABLE = gen.keywordTable();
const SPELLINGS = gen.grammarSpellings();
const THRESHOLDS = new Set(gen.thresholdWords());
const SINGLE = new Set();
const MULTI = [];
for (const r of TABLE) {
  for (const w of [r.en, r.zh, ...(SPELLINGS[r.rule] || [])]) {
    if (w.includes(' ')) MULTI.push(w.split(' '));
    else SINGLE.add(w);
  }
}
MULTI.sort((a, b) => b.length - a.length);

// ------------------------------------------------------------------ the independent lexer
const isWordStart = (c) => /[\p{L}_]/u.test(c);
const isWord = (c) => /[\p{L}\p{N}_]/u.test(c);

/** Tokens of a whole text: { kind, start, end, text } (offsets in UTF-16 units, as JS strings). */
function lex(text) {
  const out = [];
  let i = 0;
  const push = (kind, s, e) => out.push({ kind, start: s, end: e, text: text.slice(s, e) });
  while (i < text.length) {
    const c = text[i];
    const s = i;
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      push('comment', s, i);
    } else if (text.startsWith('/*', i)) {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? text.length : e + 2;
      push('comment', s, i);
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, text.length);
      push('string', s, i);
    } else if (/\d/.test(c)) {
      const rest = text.slice(i);
      const m = rest.match(/^\d{4}-\d{2}-\d{2}/) || rest.match(/^\d{4}-\d{2}(?![\d-])/) || rest.match(/^\d+(\.\d+)?(万元|亿元|万|亿|元|%|％)?/);
      const kind = /^\d{4}-\d{2}-\d{2}$/.test(m[0]) ? 'date' : /^\d{4}-\d{2}$/.test(m[0]) ? 'month' : 'number';
      i += m[0].length;
      push(kind, s, i);
    } else if (isWordStart(c)) {
      while (i < text.length && isWord(text[i])) i++;
      let w = text.slice(s, i);
      // a threshold word written against its number: `达到1亿`
      const t = [...THRESHOLDS].find((x) => w.startsWith(x) && /^\d/.test(w.slice(x.length)));
      if (t) {
        i = s + t.length;
        push('word', s, i);
        continue;
      }
      // a clause reference: `E23.5`, `GZ19.16b`
      const ref = text.slice(i).match(/^\.[A-Za-z0-9*]+/);
      if (ref && /^\p{L}[\p{L}\p{N}]*$/u.test(w) && text[s - 1] !== '.' && !isWord(text[i + ref[0].length] || ' ')) {
        i += ref[0].length;
        push('ref', s, i);
        continue;
      }
      push('word', s, i);
    } else {
      i++;
    }
  }
  // which words are keywords: a multi-word keyword (`in force`, words on one line), else one word
  const words = out.filter((t) => t.kind === 'word');
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    if (THRESHOLDS.has(w.text)) {
      w.role = 'threshold';
      continue;
    }
    const multi = MULTI.find((parts) =>
      parts.every((p, j) => {
        const x = words[k + j];
        if (!x || x.text !== p) return false;
        return j === 0 || /^[ \t\u3000]+$/.test(text.slice(words[k + j - 1].end, x.start));
      }));
    if (multi) {
      const last = words[k + multi.length - 1];
      w.role = 'keyword';
      w.end = last.end;
      w.text = text.slice(w.start, w.end);
      words.splice(k + 1, multi.length - 1);
      out.splice(out.indexOf(w) + 1, multi.length - 1);
    } else if (SINGLE.has(w.text)) {
      w.role = 'keyword';
    }
  }
  return out;
}

/** Line and column of every offset of a text. */
function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** The scopes of every character of [start, end) (a token may span lines: comments). */
function scopesOver(lines, starts, start, end) {
  const out = [];
  for (let o = start; o < end; o++) {
    let l = starts.length - 1;
    while (starts[l] > o) l--;
    const col = o - starts[l];
    if (col >= lines[l].text.length) continue; // the newline
    out.push(scopesAt(lines[l], col));
  }
  return out;
}
const has = (scopes, prefix) => scopes.some((s) => s.startsWith(prefix));

// ------------------------------------------------------------------ the corpus
function huiqiBinary() {
  const candidates = [process.env.HUIQI, path.join(ROOT, 'target/release/huiqi'), path.join(ROOT, 'target/debug/huiqi')];
  const found = candidates.filter((p) => p && fs.existsSync(p));
  if (found.length === 0) {
    throw new Error('the huiqi binary is needed to convert policies/ to Chinese keywords: set HUIQI or run `cargo build`');
  }
  return found.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}

const FIXTURES = path.join(__dirname, 'fixtures');

function corpus() {
  // every rule file of policies/, and the fixture with the keywords policies/ does not use
  const sources = [
    ...fs.readdirSync(POLICIES).filter((f) => f.endsWith('.policy')).sort().map((f) => path.join(POLICIES, f)),
    path.join(FIXTURES, 'keywords.policy'),
  ];
  const files = sources.map((p) => path.basename(p));
  const out = sources.map((p) => ({ name: path.basename(p), lang: 'en', text: fs.readFileSync(p, 'utf8') }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huiqi-grammar-'));
  for (const p of sources) fs.copyFileSync(p, path.join(dir, path.basename(p)));
  execFileSync(huiqiBinary(), ['fmt', '--keywords', 'zh', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const f of files) out.push({ name: `${f} (zh)`, lang: 'zh', text: fs.readFileSync(path.join(dir, f), 'utf8') });
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

// ------------------------------------------------------------------ the tests
test('the committed grammar is what scripts/gen-grammar.js makes of the tables', () => {
  assert.equal(fs.readFileSync(gen.OUT, 'utf8'), gen.build());
  const rows = fs.readFileSync(path.join(ROOT, 'src/syntax/keywords.rs'), 'utf8').split('pub const KEYWORDS')[1].split('];')[0].match(/\(Rule::k_/g);
  assert.equal(TABLE.length, rows.length, 'every row of KEYWORDS is read');
  assert.ok(THRESHOLDS.has('达到') && THRESHOLDS.has('不超过') && THRESHOLDS.has('低于') && THRESHOLDS.has('超过'));
});

test('every policy file, in both keyword spellings, tokenizes as the text reads', async () => {
  const files = corpus();
  assert.ok(files.length >= 2 * 20, `the corpus: ${files.length} files`);
  const seen = { en: new Set(), zh: new Set() };
  let zhInStringsOrComments = 0;
  let refs = 0;
  let dates = 0;
  let keys = 0;
  for (const f of files) {
    const lines = await tokenize(f.text);
    const starts = lineStarts(f.text);
    lines.forEach((l, n) => assert.ok(!l.stoppedEarly, `${f.name}:${n + 1} stopped early`));
    const where = (t) => {
      let l = starts.length - 1;
      while (starts[l] > t.start) l--;
      return `${f.name}:${l + 1}:${t.start - starts[l] + 1} \`${t.text.slice(0, 40)}\``;
    };
    const toks = lex(f.text);
    toks.forEach((t, k) => {
      const sc = scopesOver(lines, starts, t.start, t.end);
      if (t.kind === 'comment' || t.kind === 'string') {
        const scope = t.kind === 'comment' ? 'comment.' : 'string.quoted.double.huiqi';
        assert.ok(sc.every((s) => has(s, scope)), `${where(t)}: a ${t.kind}`);
        assert.ok(sc.every((s) => !has(s, 'keyword.')), `${where(t)}: no keyword inside a ${t.kind}`);
        for (const w of t.text.match(/[\p{L}_][\p{L}\p{N}_]*/gu) || []) if (!/^[\x00-\x7f]+$/.test(w) && SINGLE.has(w)) zhInStringsOrComments++;
      } else if (t.kind === 'ref') {
        refs++;
        assert.ok(sc.every((s) => has(s, 'entity.name.function.clause-reference.huiqi')), `${where(t)}: a clause reference`);
      } else if (t.kind === 'date' || t.kind === 'month') {
        dates++;
        assert.ok(sc.every((s) => has(s, `constant.numeric.${t.kind}.huiqi`)), `${where(t)}: a ${t.kind}`);
      } else if (t.kind === 'number' && toks[k - 1] && ['clause', '条款'].includes(toks[k - 1].text)) {
        assert.ok(sc.every((s) => has(s, 'entity.name.function.clause.huiqi')), `${where(t)}: a clause number`);
      } else if (t.kind === 'number') {
        assert.ok(sc.every((s) => has(s, 'constant.numeric.')), `${where(t)}: a number`);
      } else if (t.kind === 'word') {
        if (t.role === 'keyword') {
          assert.ok(sc.every((s) => has(s, 'keyword.')), `${where(t)}: a keyword`);
          seen[/^[\x00-\x7f]+$/.test(t.text) ? 'en' : 'zh'].add(t.text.replace(/[ \t\u3000]+/g, ' '));
        } else if (t.role === 'threshold') {
          assert.ok(sc.every((s) => has(s, 'keyword.operator.comparison.threshold.huiqi')), `${where(t)}: a threshold word`);
        } else {
          assert.ok(sc.every((s) => !has(s, 'keyword.')), `${where(t)}: a name, not a keyword`);
        }
        // the document key after `policy` / `文件`
        const prev = toks[k - 1];
        if (prev && prev.role === 'keyword' && (prev.text === 'policy' || prev.text === '文件')) {
          keys++;
          assert.ok(sc.every((s) => has(s, 'entity.name.namespace.document.huiqi')), `${where(t)}: a document key`);
        }
      }
    });
  }
  // every keyword of the table was met as a keyword, in both spellings
  const missing = [];
  for (const r of TABLE) {
    if (!seen.en.has(r.en)) missing.push(r.en);
    if (!seen.zh.has(r.zh)) missing.push(r.zh);
  }
  assert.deepEqual(missing, [], 'keywords of keywords.rs never met as keywords in the corpus');
  assert.ok(zhInStringsOrComments > 100, `Chinese keywords inside strings and comments: ${zhInStringsOrComments}`);
  assert.ok(refs > 500 && dates > 50 && keys >= 2 * 10, `clause references ${refs}, dates ${dates}, document keys ${keys}`);
});

test('the example clause of the README, word by word', async () => {
  const text = [
    'policy E23 "吉林省…" { // 条款 in a comment',
    '  clause 5 "鼓励企业壮大规模" {',
    '    quote "对年产值首次超过 1 亿元的企业给予一次性奖励。条件 数额"',
    '    amount tiers first time 营业收入 pay highest {',
    '      达到 1亿 => 30万',
    '      不超过 5亿 => 50万',
    '    }',
    '    when 年产值 低于 20% and not granted(GZ19.16b) // 原文',
    '    valid 2023-03-02 to 2024-12-31',
    '  }',
    '}',
    '测试 "年度 条件" { 考核年度 2024 预期 E23.5 给予 30万 }',
  ].join('\n');
  const lines = await tokenize(text);
  const at = (line, needle, skip = 0) => scopesAt(lines[line], lines[line].text.indexOf(needle) + skip);
  assert.ok(has(at(0, 'policy'), 'keyword.other.huiqi'));
  assert.ok(has(at(0, 'E23'), 'entity.name.namespace.document.huiqi'));
  assert.ok(has(at(0, '条款'), 'comment.line.double-slash.huiqi') && !has(at(0, '条款'), 'keyword.'));
  assert.ok(has(at(1, '5 '), 'entity.name.function.clause.huiqi'));
  assert.ok(!has(at(2, '条件'), 'keyword.') && has(at(2, '条件'), 'string.quoted.double.huiqi'));
  assert.ok(!has(at(2, '超过'), 'keyword.'), 'a threshold word inside a quote is text');
  assert.ok(has(at(3, 'first time', 6), 'keyword.other.huiqi'));
  assert.ok(!has(at(3, '营业收入'), 'keyword.'));
  assert.ok(has(at(4, '达到'), 'keyword.operator.comparison.threshold.huiqi'));
  assert.ok(has(at(4, '1亿'), 'constant.numeric.money.huiqi') && has(at(4, '1亿', 1), 'keyword.other.unit.huiqi'));
  assert.ok(has(at(5, '不超过'), 'keyword.operator.comparison.threshold.huiqi'));
  assert.ok(!has(at(7, '年产值'), 'keyword.'), '`年` is a keyword, `年产值` a name');
  assert.ok(has(at(7, '20%'), 'constant.numeric.rate.huiqi'));
  assert.ok(has(at(7, 'and'), 'keyword.operator.logical.huiqi') && has(at(7, 'not'), 'keyword.operator.logical.huiqi'));
  assert.ok(has(at(7, 'granted'), 'keyword.'));
  assert.ok(has(at(7, 'GZ19.16b', 5), 'entity.name.function.clause-reference.huiqi'));
  assert.ok(has(at(8, '2023-03-02', 9), 'constant.numeric.date.huiqi'));
  assert.ok(has(at(11, '测试'), 'keyword.') && has(at(11, '考核年度'), 'keyword.') && has(at(11, '给予'), 'keyword.'));
  assert.ok(!has(at(11, '年度'), 'keyword.'), 'keywords in the test name are text');
  assert.ok(has(at(11, 'E23.5'), 'entity.name.function.clause-reference.huiqi'));
});
