// JavaScript user code (CONTRACT.md section 5): every handler convention the control plane's
// users rely on (module.exports as the function, module.exports.handler, exports.handler, a
// global or top-level handler), promises awaited, the return value exact (BigInt digits, falsy
// values kept, NaN/Infinity as null), and each way of failing a clear `failed`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer, type Result } from '../helpers/http.js';

let t: TestServer;
const js = (code: string, fields: Record<string, unknown> = {}) => t.run({ code, language: 'javascript', ...fields });

function assertFailed(r: Result, message: RegExp): void {
  assert.equal(r.status, 'failed', describeResult(r));
  assert.notEqual(r.exit_code, 0, describeResult(r));
  assert.match(r.stderr, message, describeResult(r));
  assert.equal(r.return_value, null, describeResult(r));
}

describe('javascript runtime', () => {
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  describe('handler conventions', () => {
    const conventions: [string, string][] = [
      ['module.exports = function', 'module.exports = function (event) { return { via: "module.exports", n: event.n }; };'],
      ['module.exports = arrow', 'module.exports = (event) => ({ via: "module.exports", n: event.n });'],
      ['module.exports.handler', 'module.exports.handler = (event) => ({ via: "module.exports.handler", n: event.n });'],
      ['exports.handler', 'exports.handler = function (event) { return { via: "exports.handler", n: event.n }; };'],
      ['global handler', 'globalThis.handler = (event) => ({ via: "global", n: event.n });'],
      ['top-level function handler', 'function handler(event) { return { via: "top-level function", n: event.n }; }'],
      ['top-level const handler', 'const handler = async (event) => ({ via: "top-level const", n: event.n });'],
      ['top-level let handler', 'let handler;\nhandler = (event) => ({ via: "top-level let", n: event.n });'],
    ];
    for (const [name, code] of conventions) {
      it(`finds ${name}`, async () => {
        const r = await js(code, { event: { n: 5 } });
        assertSuccess(r);
        assert.equal((r.return_value as { n: number }).n, 5, describeResult(r));
        assert.match(JSON.stringify(r.return_value), /"via":/);
      });
    }

    it('passes the event as an object and a context with the ids', async () => {
      const r = await js('exports.handler = (event, context) => [typeof event, Array.isArray(event), event.k, context.execution_id, context.session_id];', { event: { k: [1, { z: null }] } });
      assertSuccess(r);
      assert.deepEqual(r.return_value, ['object', false, [1, { z: null }], r.execution_id, r.session_id]);
    });

    it('passes {} when no event is given', async () => {
      const r = await js('module.exports = (event) => event;');
      assertSuccess(r);
      assert.deepEqual(r.return_value, {});
    });

    it('awaits an async handler', async () => {
      const r = await js('exports.handler = async (event) => { await new Promise((r) => setTimeout(r, 50)); return "awaited"; };');
      assertSuccess(r);
      assert.equal(r.return_value, 'awaited');
    });

    it('awaits a returned Promise from a plain function', async () => {
      const r = await js('module.exports = function () { return new Promise((resolve) => setTimeout(() => resolve({ later: 1 }), 50)); };');
      assertSuccess(r);
      assert.deepEqual(r.return_value, { later: 1 });
    });

    it('runs the module top level before the handler, and prints exactly what the code printed', async () => {
      const r = await js('console.log("top");\nprocess.stdout.write("no newline");\nexports.handler = () => { console.error("err line"); return 1; };');
      assertSuccess(r);
      assert.equal(r.stdout, 'top\nno newline');
      assert.equal(r.stderr, 'err line\n');
    });

    it('does not wait for timers the handler left running', async () => {
      const r = await js('exports.handler = () => { setInterval(() => {}, 1000); setTimeout(() => {}, 60000); return "done"; };', { timeout: 20 });
      assertSuccess(r);
      assert.equal(r.return_value, 'done');
      assert.equal(r.limit_exceeded, null);
      assert.ok(r.execution_time < 15, `waited for the timers: ${r.execution_time} s`);
    });

    it('requires node built-ins and modules from /workspace/node_modules', async () => {
      const session = sessionId('jsmod');
      const setup = await t.run({
        session_id: session,
        language: 'shell',
        code: 'mkdir -p node_modules/answer && echo "module.exports = 42;" > node_modules/answer/index.js',
      });
      assertSuccess(setup);
      const r = await t.run({
        session_id: session,
        language: 'javascript',
        code: 'const path = require("node:path"); const answer = require("answer"); exports.handler = () => [answer, path.basename("/a/b.txt")];',
      });
      assertSuccess(r);
      assert.deepEqual(r.return_value, [42, 'b.txt']);
    });
  });

  describe('return values', () => {
    it('keeps every falsy return: 0, false, "", [], null; undefined is null', async () => {
      const cases: [string, unknown][] = [
        ['0', 0],
        ['false', false],
        ['""', ''],
        ['[]', []],
        ['null', null],
        ['undefined', null],
        ['({})', {}],
      ];
      await Promise.all(
        cases.map(async ([literal, expected]) => {
          const r = await js(`module.exports = () => ${literal};`);
          assertSuccess(r);
          assert.deepEqual(r.return_value, expected, `return ${literal}`);
        }),
      );
    });

    it('turns NaN and Infinity into null', async () => {
      const r = await js('module.exports = () => ({ a: NaN, b: [Infinity, -Infinity, 2] });');
      assertSuccess(r);
      assert.deepEqual(r.return_value, { a: null, b: [null, null, 2] });
    });

    it('returns BigInt values with every digit', async () => {
      const r = await js('module.exports = async () => ({ big: 2n ** 64n, neg: -(2n ** 70n), arr: [2n ** 53n + 1n], small: 1 });');
      assertSuccess(r);
      assert.match(r.raw, /"big":\s*18446744073709551616\b/, r.raw.slice(0, 400));
      assert.match(r.raw, /"neg":\s*-1180591620717411303424\b/);
      assert.match(r.raw, /"arr":\s*\[\s*9007199254740993\s*\]/);
      assert.match((await t.state(r.execution_id)).text, /"big":\s*18446744073709551616\b/);
    });

    it('is not confused by channel-like text on stdout', async () => {
      const r = await js('console.log("return\\n666"); module.exports = () => "real";');
      assertSuccess(r);
      assert.equal(r.return_value, 'real');
      assert.equal(r.stdout, 'return\n666\n');
    });
  });

  describe('failures', () => {
    it('no handler', async () => {
      const r = await js('const x = 1; console.log("module ran");');
      assertFailed(r, /sandbox-executor: no handler found/);
      assert.equal(r.stdout, 'module ran\n');
    });

    it('a syntax error', async () => {
      assertFailed(await js('module.exports = (event) => {;\nfunction ('), /sandbox-executor: syntax error in user code/);
    });

    it('a thrown error: stack on stderr', async () => {
      const r = await js('exports.handler = () => { throw new TypeError("bad input 7"); };');
      assertFailed(r, /TypeError: bad input 7/);
      assert.match(r.stderr, /sandbox-executor: TypeError: bad input 7/);
      assert.match(r.stderr, /main\.js:1/);
    });

    it('a rejected promise', async () => {
      assertFailed(await js('module.exports = async () => { throw new Error("async boom"); };'), /sandbox-executor: Error: async boom/);
    });

    it('an error thrown at module level', async () => {
      assertFailed(await js('throw new RangeError("at load");'), /RangeError: at load/);
    });

    it('an unhandled rejection after the handler started', async () => {
      const r = await js('exports.handler = () => { Promise.reject(new Error("stray")); return new Promise((r) => setTimeout(r, 500)); };');
      assertFailed(r, /stray/);
    });

    it('process.exit() in the handler or at top level', async () => {
      assertFailed(await js('exports.handler = () => { process.exit(0); };'), /sandbox-executor: process\.exit\(0\) was called in user code/);
      assertFailed(await js('process.exit(2);\nexports.handler = () => 1;'), /sandbox-executor: process\.exit\(2\) was called in user code/);
    });

    it('a promise that never settles: failed at once, not a hang until the timeout', async () => {
      const r = await js('module.exports = () => new Promise(() => {});', { timeout: 60 });
      assertFailed(r, /exited before the handler returned a value/);
      assert.equal(r.limit_exceeded, null);
      assert.ok(r.execution_time < 30, `${r.execution_time} s`);
    });

    it('a return value that is not JSON-serializable (circular, a function)', async () => {
      assertFailed(await js('module.exports = () => { const a = {}; a.self = a; return a; };'), /sandbox-executor: the handler's return value is not JSON-serializable/);
      assertFailed(await js('module.exports = () => () => 1;'), /sandbox-executor: the handler's return value is not JSON-serializable/);
    });
  });
});
