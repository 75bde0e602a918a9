'use strict';
// sandbox-executor's JavaScript bootstrap: loads the user's code as a CommonJS module, finds the
// handler (module.exports, module.exports.handler, exports.handler, a global or top-level
// `handler`), awaits it and sends the return value on fd 3, never on stdout: stdout stays exactly
// what the code printed. (Node cannot dup a descriptor, and reopening /proc/self/fd/3 is refused
// for a pipe the executor created, so fd 3 stays where it is.)
// Channel format: "return\n" + JSON, or "error\n" + a one-line message.
// Usage: node bootstrap.cjs [--primed] CODE_FILE EVENT_FILE CONTEXT_FILE
// --primed: started before the execution was known (a warm sandbox's runtime); wait on fd 4 for
// the execution's environment, NUL-terminated NAME=value entries until EOF, before the input.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const channel = 3;
const realExit = process.exit.bind(process);
let finished = false;

function send(kind, payload) {
  fs.writeSync(channel, `${kind}\n${payload}`);
}

function fail(message, error) {
  if (finished) return;
  finished = true;
  if (error !== undefined) process.stderr.write(`${error?.stack ? error.stack : String(error)}\n`);
  process.stderr.write(`sandbox-executor: ${message}\n`);
  send('error', message);
  realExit(1);
}

class UserExit extends Error {}
process.exit = (code) => {
  throw new UserExit(`process.exit(${code === undefined ? '' : code}) was called in user code: return a value from handler(event) instead`);
};
const onUncaught = (error) => fail(error instanceof UserExit ? error.message : `uncaught ${describe(error)}`, error instanceof UserExit ? undefined : error);
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUncaught);

function describe(error) {
  return error?.name ? `${error.name}: ${error.message}` : String(error);
}

/** JSON with NaN/Infinity as null (JSON.stringify does that) and BigInt as exact integers. */
function serialize(value) {
  const marker = `\u0000bigint${Math.random().toString(36).slice(2)}\u0000`;
  const json = JSON.stringify(value === undefined ? null : value, (_key, v) => (typeof v === 'bigint' ? `${marker}${v}${marker}` : v));
  if (json === undefined) throw new TypeError(`a value of type ${typeof value} cannot be represented in JSON`);
  const escaped = JSON.stringify(marker).slice(1, -1);
  return json.split(`"${escaped}`).join('').split(`${escaped}"`).join('');
}

function awaitRelease(releaseFd = 4) {
  const chunks = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    const got = fs.readSync(releaseFd, buffer, 0, buffer.length, null);
    if (got === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, got)));
  }
  fs.closeSync(releaseFd);
  for (const entry of Buffer.concat(chunks).toString('utf8').split('\0')) {
    const separator = entry.indexOf('=');
    if (separator > 0) process.env[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--primed') {
    args.shift();
    awaitRelease();
  }
  const [codeFile, eventFile, contextFile] = args;
  const event = JSON.parse(fs.readFileSync(eventFile, 'utf8'));
  const context = JSON.parse(fs.readFileSync(contextFile, 'utf8'));
  const source = fs.readFileSync(codeFile, 'utf8');
  process.argv = [process.argv[0], codeFile];

  const userModule = new Module(codeFile, null);
  userModule.filename = codeFile;
  userModule.paths = Module._nodeModulePaths(process.cwd());
  // A top-level `function handler` or `const handler` lives in module scope, not on exports:
  // one appended line (after the code, so line numbers stay right) hands it over.
  const probe = '\n;module.__sandboxTopLevelHandler = (typeof handler === "function") ? handler : undefined;';
  try {
    userModule._compile(source + probe, path.resolve(codeFile));
  } catch (error) {
    if (error instanceof UserExit) return fail(error.message);
    return fail(error instanceof SyntaxError ? `syntax error in user code: ${error.message}` : describe(error), error);
  }
  const exported = userModule.exports;
  const handler =
    (typeof exported === 'function' && exported) ||
    (exported && typeof exported.handler === 'function' && exported.handler) ||
    (typeof globalThis.handler === 'function' && globalThis.handler) ||
    userModule.__sandboxTopLevelHandler;
  if (typeof handler !== 'function') {
    return fail('no handler found: define function handler(event), or set module.exports.handler / exports.handler / module.exports');
  }
  let result;
  try {
    result = await handler(event, context);
  } catch (error) {
    if (error instanceof UserExit) return fail(error.message);
    return fail(describe(error), error);
  }
  let payload;
  try {
    payload = serialize(result);
  } catch (error) {
    return fail(`the handler's return value is not JSON-serializable: ${error.message}`);
  }
  finished = true;
  send('return', payload);
  // The handler is done: timers or sockets it left open do not keep the execution alive.
  realExit(0);
}

main().catch((error) => fail(describe(error), error));
