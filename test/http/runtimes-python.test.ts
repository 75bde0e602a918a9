// Python user code (CONTRACT.md section 5): the module's top level runs, then handler(event), or
// handler(event, context) when it takes two parameters, async handlers awaited; the return value
// comes back on the private channel exactly (falsy values kept, NaN/Infinity as null, big
// integers with every digit); each way of failing gives `failed` and a clear stderr line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, executionId, sessionId, TestServer, type Result } from '../helpers/http.js';

let t: TestServer;
const py = (code: string, fields: Record<string, unknown> = {}) => t.run({ code, language: 'python', ...fields });

function assertFailed(r: Result, message: RegExp): void {
  assert.equal(r.status, 'failed', describeResult(r));
  assert.notEqual(r.exit_code, 0, describeResult(r));
  assert.match(r.stderr, message, describeResult(r));
  assert.equal(r.return_value, null, describeResult(r));
}

describe('python runtime', () => {
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  describe('handler conventions', () => {
    it('runs the module top level first, then handler(event) with the event', async () => {
      const r = await py('print("top level")\nCOUNT = 41\ndef handler(event):\n    print("in handler")\n    return {"got": event, "count": COUNT + 1}\n', {
        event: { name: 'ada', nested: { list: [1, 2.5, 'x', null, true] } },
      });
      assertSuccess(r);
      assert.equal(r.stdout, 'top level\nin handler\n');
      assert.deepEqual(r.return_value, { got: { name: 'ada', nested: { list: [1, 2.5, 'x', null, true] } }, count: 42 });
    });

    it('passes a context to a two-parameter handler (attribute and item access)', async () => {
      const r = await py('def handler(event, context):\n    return [context.execution_id, context["session_id"], context.get("language"), context.get("nope", "dflt")]\n');
      assertSuccess(r);
      assert.deepEqual(r.return_value, [r.execution_id, r.session_id, 'python', 'dflt']);
    });

    it('calls a one-parameter handler with the event only (also a lambda)', async () => {
      const r = await py('handler = lambda event: event["a"] + 1\n', { event: { a: 1 } });
      assertSuccess(r);
      assert.equal(r.return_value, 2);
    });

    it('awaits an async handler', async () => {
      const r = await py('import asyncio\nasync def handler(event, context):\n    await asyncio.sleep(0.05)\n    return {"async": True, "id": context.execution_id}\n');
      assertSuccess(r);
      assert.deepEqual(r.return_value, { async: true, id: r.execution_id });
    });

    it('gets an event larger than the 128 KiB argv limit intact', async () => {
      const blob = 'ü'.repeat(300_000);
      const r = await py('def handler(event):\n    return [len(event["blob"]), event["blob"] == "ü" * 300000]\n', { event: { blob } });
      assertSuccess(r);
      assert.deepEqual(r.return_value, [300_000, true]);
    });

    it('sees the dependency directory first on PYTHONPATH and sys.path', async () => {
      const r = await py('import os, sys\ndef handler(event):\n    return [os.environ["PYTHONPATH"].split(":")[0], "/opt/sandbox-venv" in sys.path]\n');
      assertSuccess(r);
      assert.deepEqual(r.return_value, ['/opt/sandbox-venv', true]);
    });

    it("has the interpreter's site directories on sys.path, in site's order, without site's start-up; the bootstrap compiled", async () => {
      // what a plain `python3` on the host has beyond its standard library (site's dist-packages)
      const host: string[] = JSON.parse(execFileSync('/usr/bin/python3', ['-I', '-c', 'import json, sys; print(json.dumps(sys.path))'], { cwd: '/', env: {}, encoding: 'utf8' }));
      const r = await py('import sys\ndef handler(event):\n    return [sys.path, "site" in sys.modules, sys.argv, callable(help), callable(quit), sys.orig_argv]\n');
      assertSuccess(r);
      const [sandboxPath, siteImported, argv, hasHelp, hasQuit, started] = r.return_value as [string[], boolean, string[], boolean, boolean, string[]];
      const expected = host.filter((entry) => entry !== '' && entry !== '/');
      assert.ok(
        expected.some((entry) => entry.includes('-packages')),
        `the host interpreter has site directories: ${JSON.stringify(host)}`,
      );
      assert.deepEqual(
        sandboxPath.filter((entry) => expected.includes(entry)),
        expected,
        JSON.stringify(sandboxPath),
      );
      assert.equal(siteImported, false, 'site (its .pth files, sitecustomize) did not run');
      assert.deepEqual(argv, ['/run/execution/main.py'], 'the bootstrap options are not in sys.argv');
      assert.deepEqual([hasHelp, hasQuit], [true, true]);
      assert.ok(started.includes('/opt/sandbox-runtime/bootstrap.pyc'), `the bootstrap ran compiled: ${JSON.stringify(started)}`);
    });

    it('imports modules from its workspace', async () => {
      const session = `sess_pyimport_${Date.now()}`;
      const write = await t.run({ session_id: session, language: 'shell', code: 'printf "VALUE = 7\\n" > helper_mod.py' });
      assertSuccess(write);
      const r = await t.run({ session_id: session, language: 'python', code: 'import helper_mod\ndef handler(event):\n    return helper_mod.VALUE\n' });
      assertSuccess(r);
      assert.equal(r.return_value, 7);
    });
  });

  describe('return values', () => {
    it('keeps every falsy return: 0, False, "", [], {}, None', async () => {
      const cases: [string, unknown][] = [
        ['0', 0],
        ['False', false],
        ['""', ''],
        ['[]', []],
        ['{}', {}],
        ['None', null],
        ['0.0', 0],
      ];
      await Promise.all(
        cases.map(async ([literal, expected]) => {
          const r = await py(`def handler(event):\n    return ${literal}\n`);
          assertSuccess(r);
          assert.deepEqual(r.return_value, expected, `return ${literal}`);
          assert.match(r.raw, /"return_value":/);
        }),
      );
    });

    it('turns NaN and +-Infinity into null, at any depth', async () => {
      const r = await py('def handler(event):\n    n = float("nan")\n    return {"a": n, "b": [float("inf"), -float("inf"), 1.5], "c": {"d": (n, 2)}}\n');
      assertSuccess(r);
      assert.deepEqual(r.return_value, { a: null, b: [null, null, 1.5], c: { d: [null, 2] } });
    });

    it('gets integers beyond 2^53 in the event exactly, as python reads them (a 64-bit id sent by a python control plane)', async () => {
      const code = 'def handler(event):\n    return [event["id"] + 1, str(event["big"][0]), event["f"], event["s"]]\n';
      const body = `{"execution_id": "${executionId('bigint')}", "session_id": "${sessionId('bigint')}", "language": "python", "code": ${JSON.stringify(code)},
        "event": {"id": 9007199254740993, "big": [ -123456789012345678901234567890 ], "f": 0.1, "s": "\\/12345678901234567890"}}`;
      const reply = await t.request('POST', '/execute?wait=true', { body, headers: { 'content-type': 'application/json' } });
      assert.equal(reply.status, 200, reply.text);
      assert.match(reply.text, /"return_value":\s*\[\s*9007199254740994\s*,\s*"-123456789012345678901234567890"\s*,\s*0\.1\s*,\s*"\/12345678901234567890"\s*\]/, reply.text.slice(0, 2000));
    });

    it('keeps integers beyond 2^53 exact (2**64, -(2**70), inside structures)', async () => {
      const r = await py('def handler(event):\n    return {"big": 2**64, "neg": -(2**70), "list": [2**53 + 1]}\n');
      assertSuccess(r);
      assert.match(r.raw, /"big":\s*18446744073709551616\b/, r.raw.slice(0, 500));
      assert.match(r.raw, /"neg":\s*-1180591620717411303424\b/);
      assert.match(r.raw, /"list":\s*\[\s*9007199254740993\s*\]/);
      // the same digits on GET
      const state = await t.state(r.execution_id);
      assert.match(state.text, /"big":\s*18446744073709551616\b/);
      assert.match(t.callbackTextOf(r.execution_id), /"big":\s*18446744073709551616\b/);
    });

    it('returns non-ASCII text unchanged', async () => {
      const r = await py('def handler(event):\n    return "héllo wörld 😀 中文 \\u0000 \\n"\n');
      assertSuccess(r);
      assert.equal(r.return_value, 'héllo wörld 😀 中文 \u0000 \n');
    });

    it('returns a lone surrogate (echoing an event that holds one, or its own) as JSON means it, and reports one in an error', async () => {
      const echoed = await py('def handler(event):\n    return [event, "\\ud800x", {"k\\udfff": 1}]\n', { event: { k: 'a\ud800b' } });
      assertSuccess(echoed);
      assert.deepEqual(echoed.return_value, [{ k: 'a\ud800b' }, '\ud800x', { 'k\udfff': 1 }]);
      const raised = await py('def handler(event):\n    raise ValueError("bad \\ud800 value")\n');
      assertFailed(raised, /ValueError: bad \\ud800 value/);
    });

    it('cannot be forged by printing channel-like text on stdout or stderr', async () => {
      const r = await py('import sys\nprint("return\\n666")\ndef handler(event):\n    print("return")\n    print(666)\n    sys.stderr.write("return\\n667\\n")\n    return "real"\n');
      assertSuccess(r);
      assert.equal(r.return_value, 'real');
      assert.equal(r.stdout, 'return\n666\nreturn\n666\n');
      assert.equal(r.stderr, 'return\n667\n');
    });
  });

  describe('failures', () => {
    it('a non-JSON-serializable return value', async () => {
      const r = await py('def handler(event):\n    return {"s": {1, 2}}\n');
      assertFailed(r, /sandbox-executor: the handler's return value is not JSON-serializable/);
      const r2 = await py('def handler(event):\n    return object()\n');
      assertFailed(r2, /sandbox-executor: the handler's return value is not JSON-serializable/);
    });

    it('no handler defined (and a handler that is not callable)', async () => {
      const r = await py('x = 1\nprint("ran the module")\n');
      assertFailed(r, /sandbox-executor: no handler found/);
      assert.equal(r.stdout, 'ran the module\n');
      assertFailed(await py('handler = 5\n'), /sandbox-executor: no handler found/);
    });

    it('a syntax error, with its line', async () => {
      const r = await py('x = 1\n\ndef handler(event)\n    return 1\n');
      assertFailed(r, /sandbox-executor: syntax error in user code: .*line 3/);
    });

    it('an exception in the handler: traceback of the user code on stderr', async () => {
      const r = await py('def helper():\n    raise ValueError("boom 42")\n\ndef handler(event):\n    print("before")\n    helper()\n');
      assertFailed(r, /Traceback \(most recent call last\)/);
      assert.match(r.stderr, /line 2, in helper/);
      assert.match(r.stderr, /ValueError: boom 42/);
      assert.match(r.stderr, /sandbox-executor: ValueError: boom 42/);
      assert.doesNotMatch(r.stderr, /bootstrap\.py/, 'the bootstrap frame is not shown');
      assert.equal(r.stdout, 'before\n');
    });

    it('an exception at module level', async () => {
      const r = await py('import json\nraise RuntimeError("at import")\ndef handler(event):\n    return 1\n');
      assertFailed(r, /RuntimeError: at import/);
    });

    it('sys.exit() in the handler or at top level, whatever the code', async () => {
      for (const [code, shown] of [
        ['import sys\ndef handler(event):\n    sys.exit(0)\n', 'sys.exit(0)'],
        ['import sys\ndef handler(event):\n    sys.exit()\n', 'sys.exit(None)'],
        ['import sys\nsys.exit(3)\ndef handler(event):\n    return 1\n', 'sys.exit(3)'],
        ['def handler(event):\n    exit(0)\n', 'sys.exit(0)'],
      ] as const) {
        const r = await py(code);
        assertFailed(r, new RegExp(`sandbox-executor: ${shown.replace(/[()]/g, '\\$&')} was called in user code`));
      }
    });

    it('os._exit(0) before returning: failed, not a silent success', async () => {
      const r = await py('import os\ndef handler(event):\n    print("bye")\n    os._exit(0)\n');
      assert.equal(r.status, 'failed', describeResult(r));
      assert.notEqual(r.exit_code, 0);
      assert.match(r.stderr, /exited before the handler returned/);
      assert.equal(r.stdout, 'bye\n');
    });

    it('runs the code as __main__: import __main__ sees its globals, pickle finds its classes and the context', async () => {
      const r = await py(
        'import __main__, pickle\nclass Point:\n    pass\nLIMIT = 3\ndef handler(event, context):\n    copy = pickle.loads(pickle.dumps(context))\n    return [__main__.LIMIT, type(pickle.loads(pickle.dumps(Point()))).__name__, __main__.__file__, copy.session_id == context.session_id, copy["session_id"] == context.get("session_id")]\n',
      );
      assertSuccess(r);
      assert.deepEqual(r.return_value, [3, 'Point', '/run/execution/main.py', true, true]);
    });

    it("what code leaves to the interpreter's exit still happens, primed or cold: a file never closed, atexit, __del__ in a cycle, a thread", async (test) => {
      // python's exit finalizes the user's module (a file it never closed is flushed), and the
      // bootstrap's own objects frozen out of the cyclic collector leave the user's collected
      const code = [
        'import atexit, threading, time',
        'unclosed = open("unclosed-global.txt", "w")',
        'unclosed.write("kept too")',
        'class Holder:',
        '    def __del__(self):',
        '        print("del ran", flush=True)',
        'held = Holder()',
        'held.self = held  # a cycle: only the collector frees it',
        'held.file = open("unclosed.txt", "w")',
        'held.file.write("kept")',
        'atexit.register(lambda: print("atexit ran", flush=True))',
        'def later():',
        '    time.sleep(0.2)',
        '    with open("thread.txt", "w") as f:',
        '        f.write("thread ran")',
        'threading.Thread(target=later).start()',
        'def handler(event):',
        '    return 1',
        '',
      ].join('\n');
      // a server of its own: this file's other sessions hold the shared warm budget (WARM_SESSIONS)
      const own = await TestServer.start();
      test.after(() => own.stop());
      const run = (code: string, session_id: string) => own.run({ code, language: 'python', session_id });
      const session = `finalization-${Date.now()}`;
      const starts = new Set<string>();
      // the session's first sandbox may be cold: go on until one was primed
      for (let round = 0; round < 6 && !(round >= 2 && starts.has('primed')); round++) {
        const r = await run(code, session);
        assertSuccess(r);
        starts.add(r.phases.start);
        assert.match(r.stdout, /atexit ran\n/, describeResult(r));
        assert.match(r.stdout, /del ran\n/, describeResult(r));
        const files = await run('def handler(event):\n    return [open(name).read() for name in ["unclosed.txt", "unclosed-global.txt", "thread.txt"]]\n', session);
        assert.deepEqual(files.return_value, ['kept', 'kept too', 'thread ran'], describeResult(files));
        await run('import os\ndef handler(event):\n    for name in ["unclosed.txt", "unclosed-global.txt", "thread.txt"]:\n        os.remove(name)\n', session);
      }
      assert.ok(starts.has('primed'), `no execution was primed: ${[...starts]}`);
    });

    it('killed by a signal: failed with 128+signal as exit code', async () => {
      const r = await py('import os, signal\ndef handler(event):\n    os.kill(os.getpid(), signal.SIGKILL)\n');
      assert.equal(r.status, 'failed', describeResult(r));
      assert.equal(r.exit_code, 137);
      assert.match(r.stderr, /SIGKILL/);
    });
  });
});
