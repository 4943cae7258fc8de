// The huiqi extension: starts the language server `huiqi lsp [FOLDER]` over stdio with
// Microsoft's vscode-languageclient. Plain JavaScript, no build step.
//
// The server does the work (diagnostics, hover, definition, references, symbols, completion,
// formatting, semantic tokens, code lenses and the code action that runs a clause's tests).
// It advertises the command `huiqi.tests` (executeCommandProvider), which the client
// registers in VS Code: the code lens and the code action carry it with a clause id
// (`E23.5`), and the server answers with the result and a message. `huiqi.runClauseTests`
// (command palette) asks for a clause id, the one under the cursor by default.
'use strict';
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const lc = require('vscode-languageclient/node');

const CLAUSE_REF = /[\p{L}][\p{L}\p{N}]*\.[A-Za-z0-9*]+/u;

let client;

/** Where the program named by `huiqi.path` is: the path itself, or found on PATH; undefined if nowhere. */
function findProgram(program, env = process.env) {
  if (!program) return undefined;
  const exts = process.platform === 'win32' ? (env.PATHEXT || '.EXE;.CMD;.BAT').split(';').concat(['']) : [''];
  const isFile = (p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/') || program.includes('\\')) {
    return exts.map((e) => program + e).find(isFile);
  }
  for (const dir of (env.PATH || '').split(path.delimiter).filter(Boolean)) {
    const found = exts.map((e) => path.join(dir, program + e)).find(isFile);
    if (found) return found;
  }
  return undefined;
}

/**
 * The server's start: `huiqi.path lsp [huiqi.policies]`, in the workspace folder. A relative
 * `huiqi.policies` (and a relative `huiqi.path` with a slash) is read from the workspace folder.
 */
function serverOptions(config, workspaceFolder) {
  const root = workspaceFolder || undefined;
  let command = config.get('path') || 'huiqi';
  if (root && (command.includes('/') || command.includes('\\')) && !path.isAbsolute(command)) {
    command = path.join(root, command);
  }
  const args = ['lsp'];
  const policies = (config.get('policies') || '').trim();
  if (policies) args.push(root && !path.isAbsolute(policies) ? path.join(root, policies) : policies);
  const run = { command, args, transport: lc.TransportKind.stdio, options: root ? { cwd: root } : {} };
  return { run, debug: run };
}

/** The message shown when the program is not found, saying how to fix it. */
function notFoundMessage(command) {
  return (
    `huiqi: the program \`${command}\` was not found, so the language server cannot start. ` +
    'Install it (`cargo install --path .` in the huiqi repository, or put target/release/huiqi on PATH), ' +
    'or set the setting `huiqi.path` to its full path.'
  );
}

function workspaceFolder() {
  const f = vscode.workspace.workspaceFolders;
  return f && f.length > 0 ? f[0].uri.fsPath : undefined;
}

async function start(context) {
  const config = vscode.workspace.getConfiguration('huiqi');
  const options = serverOptions(config, workspaceFolder());
  if (!findProgram(options.run.command)) {
    const choice = await vscode.window.showErrorMessage(notFoundMessage(options.run.command), 'Open Settings');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'huiqi.path');
    }
    return undefined;
  }
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'huiqi' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.policy') },
  };
  const c = new lc.LanguageClient('huiqi', 'huiqi', options, clientOptions);
  try {
    await c.start();
  } catch (e) {
    vscode.window.showErrorMessage(`huiqi: the language server (\`${options.run.command} lsp\`) did not start: ${e && e.message ? e.message : e}`);
    return undefined;
  }
  context.subscriptions.push(c);
  return c;
}

/** The clause id at the cursor of the active editor (`E23.5`), if it is on one. */
function clauseAtCursor() {
  const ed = vscode.window.activeTextEditor;
  if (!ed) return undefined;
  const range = ed.document.getWordRangeAtPosition(ed.selection.active, new RegExp(CLAUSE_REF.source, 'u'));
  return range ? ed.document.getText(range) : undefined;
}

async function runClauseTests() {
  const id = await vscode.window.showInputBox({
    prompt: 'The clause whose tests to run',
    placeHolder: 'E23.5',
    value: clauseAtCursor() || '',
    validateInput: (v) => (CLAUSE_REF.test(v.trim()) ? undefined : 'a clause id such as E23.5'),
  });
  if (id) await vscode.commands.executeCommand('huiqi.tests', id.trim());
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('huiqi.runClauseTests', runClauseTests),
    vscode.commands.registerCommand('huiqi.restartServer', async () => {
      if (client) await client.stop().catch(() => {});
      client = await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('huiqi')) vscode.commands.executeCommand('huiqi.restartServer');
    }),
  );
  client = await start(context);
  return client;
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions, findProgram, notFoundMessage };
