// A smoke test of the extension's wiring only: extension.js loaded with a stub of the
// `vscode` module (VS Code itself cannot run here), checking the command line it gives the
// language client, the client's options, and the message when the program is missing. It
// does not show that the extension works inside VS Code.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');

// ---------------------------------------------------------------- a stub of `vscode`
const calls = { errors: [], commands: {}, executed: [] };
let settings = {};
const anyClass = class {
  constructor(...a) {
    this.args = a;
  }
};
const vscodeStub = new Proxy(
  {
    workspace: {
      workspaceFolders: [{ uri: { fsPath: '/work/rules' } }],
      getConfiguration: (section) => {
        assert.equal(section, 'huiqi');
        return { get: (k) => settings[k] };
      },
      createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
      onDidChangeConfiguration: () => ({ dispose() {} }),
    },
    window: {
      showErrorMessage: async (m) => {
        calls.errors.push(m);
        return undefined;
      },
    },
    commands: {
      registerCommand: (id, f) => {
        calls.commands[id] = f;
        return { dispose() {} };
      },
      executeCommand: async (...a) => calls.executed.push(a),
    },
  },
  // whatever else vscode-languageclient reads of `vscode` at load time: a class
  { get: (t, k) => (k in t ? t[k] : anyClass) },
);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscodeStub };

const lc = require('vscode-languageclient/node');
const ext = require('../extension.js');

// a fake `huiqi` program on a PATH of its own, and a LanguageClient that records its arguments
const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'huiqi-ext-'));
fs.writeFileSync(path.join(bin, 'huiqi'), '#!/bin/sh\n', { mode: 0o755 });
const made = [];
lc.LanguageClient = class {
  constructor(id, name, serverOptions, clientOptions) {
    made.push({ id, name, serverOptions, clientOptions });
  }
  async start() {}
  async stop() {}
  dispose() {}
};

test('the server is started as `huiqi lsp [huiqi.policies]` in the workspace folder', () => {
  settings = { path: 'huiqi', policies: '' };
  let o = ext.serverOptions({ get: (k) => settings[k] }, '/work/rules');
  assert.deepEqual(o.run, { command: 'huiqi', args: ['lsp'], transport: lc.TransportKind.stdio, options: { cwd: '/work/rules' } });
  settings = { path: '/opt/huiqi/bin/huiqi', policies: 'policies' };
  o = ext.serverOptions({ get: (k) => settings[k] }, '/work/rules');
  assert.equal(o.run.command, '/opt/huiqi/bin/huiqi');
  assert.deepEqual(o.run.args, ['lsp', path.join('/work/rules', 'policies')]);
  settings = { path: 'target/release/huiqi', policies: '/abs/rules' };
  o = ext.serverOptions({ get: (k) => settings[k] }, '/work/rules');
  assert.equal(o.run.command, path.join('/work/rules', 'target/release/huiqi'));
  assert.deepEqual(o.run.args, ['lsp', '/abs/rules']);
  assert.deepEqual(o.debug, o.run);
});

test('activate: a client for huiqi files, the commands registered', async () => {
  const oldPath = process.env.PATH;
  process.env.PATH = bin;
  try {
    settings = { path: 'huiqi', policies: 'policies' };
    const subs = [];
    const c = await ext.activate({ subscriptions: subs });
    assert.ok(c, 'a client');
    const m = made.at(-1);
    assert.equal(m.id, 'huiqi');
    assert.deepEqual(m.serverOptions.run.args, ['lsp', path.join('/work/rules', 'policies')]);
    assert.deepEqual(m.clientOptions.documentSelector, [{ scheme: 'file', language: 'huiqi' }]);
    assert.equal(m.clientOptions.synchronize.fileEvents.glob, '**/*.policy');
    assert.ok(calls.commands['huiqi.runClauseTests'] && calls.commands['huiqi.restartServer']);
    assert.ok(!calls.commands['huiqi.tests'], 'huiqi.tests is the server\'s (registered by the client from executeCommandProvider)');
    assert.deepEqual(calls.errors, []);
  } finally {
    process.env.PATH = oldPath;
  }
});

test('a missing program: no client, and a message saying how to fix it', async () => {
  settings = { path: '/nowhere/huiqi', policies: '' };
  const before = made.length;
  const c = await ext.activate({ subscriptions: [] });
  assert.equal(c, undefined);
  assert.equal(made.length, before, 'no client made');
  const m = calls.errors.at(-1);
  assert.match(m, /`\/nowhere\/huiqi` was not found/);
  assert.match(m, /huiqi\.path/);
  assert.match(m, /cargo install/);
});

test('package.json: the language, grammar, settings and commands', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'huiqi');
  assert.ok(pkg.engines.vscode && pkg.publisher);
  assert.deepEqual(pkg.contributes.languages[0].extensions, ['.policy']);
  assert.equal(pkg.contributes.grammars[0].scopeName, 'source.huiqi');
  assert.ok(fs.existsSync(path.join(__dirname, '..', pkg.contributes.grammars[0].path)));
  assert.ok(fs.existsSync(path.join(__dirname, '..', pkg.contributes.languages[0].configuration)));
  const props = pkg.contributes.configuration.properties;
  assert.equal(props['huiqi.path'].default, 'huiqi');
  assert.equal(props['huiqi.policies'].type, 'string');
  assert.ok(pkg.activationEvents.includes('onLanguage:huiqi'));
  for (const c of pkg.contributes.commands) assert.ok(calls.commands[c.command], `${c.command} is registered`);
});
