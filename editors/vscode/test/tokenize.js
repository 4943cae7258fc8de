// The real grammar, loaded as VS Code loads it: vscode-textmate with the Oniguruma WASM
// build (vscode-oniguruma's onig.wasm from node_modules).
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const GRAMMAR = path.join(__dirname, '..', 'syntaxes', 'huiqi.tmLanguage.json');

let registry;
async function grammar() {
  if (!registry) {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
    await oniguruma.loadWASM(wasm);
    registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
        createOnigString: (s) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scope) =>
        scope === 'source.huiqi'
          ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR)
          : null,
    });
  }
  return registry.loadGrammar('source.huiqi');
}

/**
 * Tokenizes a whole text line by line (the rule stack carried, as the editor does).
 * Returns, per line, the tokens { start, end, scopes } and whether the line stopped early.
 */
async function tokenize(text) {
  const g = await grammar();
  let stack = vsctm.INITIAL;
  const lines = [];
  for (const line of text.split('\n')) {
    const r = g.tokenizeLine(line, stack, 10000);
    lines.push({
      text: line,
      stoppedEarly: r.stoppedEarly,
      tokens: r.tokens.map((t) => ({ start: t.startIndex, end: Math.min(t.endIndex, line.length), scopes: t.scopes })),
    });
    stack = r.ruleStack;
  }
  return lines;
}

/** The scopes at a column of a tokenized line. */
function scopesAt(line, col) {
  const t = line.tokens.find((t) => t.start <= col && col < t.end);
  return t ? t.scopes : [];
}

module.exports = { grammar, tokenize, scopesAt };
