// Warm sandboxes whose language runtime is already started ("primed"): after a session's first
// execution its next ones run on a runtime that was waiting for them, with the request's
// env_vars applied at release; variables an interpreter reads while starting get a runtime
// started for them instead. Nothing of one execution reaches the next one's sandbox, whatever
// session that serves, and no primed runtime outlives the server.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer, type Language } from '../helpers/http.js';
import { pollFor, primedRuntimes } from '../helpers/processes.js';

const READ_ENV: Record<Language, string> = {
  python: 'import os\ndef handler(event):\n    return [os.environ.get("GREETING"), os.environ.get("WITH_EQUALS")]\n',
  javascript: 'exports.handler = async () => [process.env.GREETING, process.env.WITH_EQUALS];\n',
  shell: 'printf "%s|%s" "$GREETING" "$WITH_EQUALS"',
};

describe('primed runtimes', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(async () => {
    await t.stop();
  });

  for (const language of ['python', 'javascript', 'shell'] as const) {
    it(`${language}: the session's next executions start primed, with the request's env_vars`, async () => {
      const session = sessionId(`primed-${language}`);
      const env_vars = { GREETING: 'grüß dich\nzweite Zeile', WITH_EQUALS: 'a=b=c' };
      const first = await t.run({ session_id: session, language, code: READ_ENV[language], env_vars });
      assertSuccess(first);
      assert.equal(first.phases.start, 'cold', "a session's first execution has no warm sandbox yet");
      for (let i = 0; i < 3; i++) {
        const r = await t.run({ session_id: session, language, code: READ_ENV[language], env_vars });
        assertSuccess(r);
        assert.equal(r.phases.start, 'primed', describeResult(r));
        if (language === 'shell') assert.equal(r.stdout, `${env_vars.GREETING}|${env_vars.WITH_EQUALS}`);
        else assert.deepEqual(r.return_value, [env_vars.GREETING, env_vars.WITH_EQUALS]);
      }
    });
  }

  it('an execution runs at the normal scheduling policy (warm sandboxes get ready at SCHED_BATCH)', async () => {
    const session = sessionId('policy');
    for (let i = 0; i < 3; i++) {
      const r = await t.run({ session_id: session, language: 'shell', code: 'chrt -p $$; chrt -p 1' });
      assertSuccess(r);
      assert.equal(r.stdout.match(/SCHED_OTHER/g)?.length, 2, `${r.phases.start}: ${r.stdout}`);
    }
  });

  it('a variable the interpreter reads at start-up gets a runtime started with it', async () => {
    const session = sessionId('startup-env');
    const code = 'import sys\ndef handler(event):\n    return "/opt/extra-path" in sys.path\n';
    assertSuccess(await t.run({ session_id: session, language: 'python', code }));
    const r = await t.run({ session_id: session, language: 'python', code, env_vars: { PYTHONPATH: '/opt/extra-path' } });
    assertSuccess(r);
    assert.equal(r.return_value, true, 'PYTHONPATH must shape sys.path as at any interpreter start');
    assert.equal(r.phases.start, 'warm');
    const node = await t.run({
      session_id: session,
      language: 'javascript',
      code: 'exports.handler = () => process.execArgv.length >= 0 && process.env.NODE_OPTIONS;',
      env_vars: { NODE_OPTIONS: '--no-warnings' },
    });
    assertSuccess(node);
    assert.equal(node.return_value, '--no-warnings');
    assert.notEqual(node.phases.start, 'primed');
  });

  it('a session that changes language still runs every execution right', async () => {
    const session = sessionId('switch');
    const steps: [Language, string, unknown][] = [
      ['python', 'def handler(event):\n    return "py"\n', 'py'],
      ['shell', 'echo sh', null],
      ['javascript', 'exports.handler = () => "js";', 'js'],
      ['python', 'def handler(event):\n    return "py2"\n', 'py2'],
      ['python', 'def handler(event):\n    return "py3"\n', 'py3'],
    ];
    for (const [language, code, expected] of steps) {
      const r = await t.run({ session_id: session, language, code });
      assertSuccess(r);
      if (language === 'shell') assert.equal(r.stdout, 'sh\n');
      else assert.equal(r.return_value, expected);
    }
  });

  it('a sandbox never sees the input files of an earlier execution (input directories are reused)', async () => {
    const secret = `secret-${Date.now()}`;
    for (let i = 0; i < 4; i++) {
      assertSuccess(await t.run({ session_id: sessionId('writer'), language: 'python', code: `SECRET = "${secret}"\ndef handler(event):\n    return 1\n`, event: { secret } }));
    }
    for (let i = 0; i < 4; i++) {
      const r = await t.run({ session_id: sessionId('reader'), language: 'shell', code: 'ls -A /run/execution; cat /run/execution/* 2>/dev/null' });
      assertSuccess(r);
      assert.ok(!r.stdout.includes(secret), `an earlier execution's input is visible:\n${r.stdout}`);
      assert.deepEqual(r.stdout.split('\n').slice(0, 2), ['event.json', 'main.sh']);
    }
  });

  it('a primed runtime that died before its execution does not fail that execution', async () => {
    const session = sessionId('died');
    const code = 'def handler(event):\n    return 7\n';
    assertSuccess(await t.run({ session_id: session, language: 'python', code }));
    const waiting = await pollFor(() => (primedRuntimes().length > 0 ? primedRuntimes() : undefined), 5_000);
    assert.ok(waiting, 'no primed runtime is waiting after an execution');
    for (const pid of waiting) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // dead and reaped (a kill in the very instant of the release is that execution's own death)
    assert.ok(await pollFor(() => (waiting.every((pid) => !existsSync(`/proc/${pid}`)) ? true : undefined), 5_000), 'killed runtimes still there');
    const r = await t.run({ session_id: session, language: 'python', code });
    assertSuccess(r);
    assert.equal(r.return_value, 7);
  });
});

describe("primed runtimes and the server's end", () => {
  it('no primed runtime outlives the server', async () => {
    // the other servers of this file are gone, and so are their runtimes
    assert.ok(await pollFor(() => (primedRuntimes().length === 0 ? true : undefined), 5_000), 'primed runtimes of an earlier server are still there');
    const server = await TestServer.start();
    const session = sessionId('outlive');
    for (let i = 0; i < 2; i++) assertSuccess(await server.run({ session_id: session, language: 'python', code: 'def handler(event):\n    return 1\n' }));
    const waiting = await pollFor(() => (primedRuntimes().length > 0 ? primedRuntimes() : undefined), 5_000);
    assert.ok(waiting, 'the session has primed runtimes waiting');
    await server.stop();
    const gone = await pollFor(() => (primedRuntimes().length === 0 ? true : undefined), 5_000);
    assert.ok(gone, `primed runtimes left behind: ${primedRuntimes().join(', ')}`);
  });
});
