// What user code sees of the machine (CONTRACT.md section 5): cwd and HOME are /workspace, the
// session's files persist across its executions and no other session sees them; /tmp persists per
// session and is private; the environment holds only what we set plus the request's env_vars,
// never the server's own variables; the network is off.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';

// Server-side secrets, set before the server starts: none may reach user code.
const SECRET = `secret-${randomUUID()}`;
const SERVER_VARIABLES: Record<string, string> = {
  SECRET_TOKEN: SECRET,
  INTERNAL_API_TOKEN: `${SECRET}-internal`,
  AWS_SECRET_ACCESS_KEY: `${SECRET}-aws`,
  CONTROL_PLANE_URL_SHADOW: `http://cp.invalid/${SECRET}`,
};

/** Every variable the executor itself sets for a runtime; anything else must come from env_vars. */
const OURS = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LC_ALL',
  'PWD',
  'SHLVL',
  '_',
  'OLDPWD',
  'EVENT_JSON',
  'EVENT_FILE',
  'PYTHONPATH',
  'PYTHONUNBUFFERED',
  'PYTHONDONTWRITEBYTECODE',
  'PYTHONIOENCODING',
  'NODE_PATH',
]);

describe('workspace and environment', () => {
  let t: TestServer;
  const saved: Record<string, string | undefined> = {};
  before(async () => {
    for (const [k, v] of Object.entries(SERVER_VARIABLES)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    t = await TestServer.start();
  });
  after(async () => {
    await t.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('cwd and HOME are /workspace', async () => {
    const r = await t.run({ code: 'import os\ndef handler(event):\n    return [os.getcwd(), os.environ["HOME"], os.path.expanduser("~")]\n', language: 'python' });
    assertSuccess(r);
    assert.deepEqual(r.return_value, ['/workspace', '/workspace', '/workspace']);
    const sh = await t.run({ code: 'pwd; echo $HOME; cd ~ && pwd', language: 'shell' });
    assert.equal(sh.stdout, '/workspace\n/workspace\n/workspace\n');
  });

  it("keeps a session's files across its executions, in every language", async () => {
    const session = sessionId('persist');
    assertSuccess(await t.run({ session_id: session, language: 'shell', code: 'mkdir -p sub && echo from-shell > sub/a.txt' }));
    const py = await t.run({
      session_id: session,
      language: 'python',
      code: 'def handler(event):\n    data = open("sub/a.txt").read()\n    open("/workspace/b.txt", "w").write("from-python")\n    return data\n',
    });
    assertSuccess(py);
    assert.equal(py.return_value, 'from-shell\n');
    const js = await t.run({ session_id: session, language: 'javascript', code: 'const fs = require("fs"); module.exports = () => fs.readFileSync("b.txt", "utf8");' });
    assertSuccess(js);
    assert.equal(js.return_value, 'from-python');
    // and they are really on the host, in the session's directory
    assert.equal(readFileSync(path.join(t.workspaceOf(session), 'sub/a.txt'), 'utf8'), 'from-shell\n');
  });

  it("keeps sessions apart: session B sees none of session A's files, by any path", async () => {
    const a = sessionId('A');
    const b = sessionId('B');
    assertSuccess(await t.run({ session_id: a, language: 'shell', code: `echo private-to-a > a-secret.txt` }));
    const hostPath = path.join(t.workspaceOf(a), 'a-secret.txt');
    assert.ok(existsSync(hostPath));
    const r = await t.run({
      session_id: b,
      language: 'python',
      code: `import os, glob
def handler(event):
    found = []
    found += os.listdir("/workspace")
    for pattern in ["/workspace/../*/a-secret.txt", "/*/a-secret.txt", "/*/*/a-secret.txt", "/*/*/*/a-secret.txt"]:
        found += glob.glob(pattern)
    for candidate in [${JSON.stringify(hostPath)}, "../${a}/a-secret.txt", "/workspace/../${a}/a-secret.txt"]:
        if os.path.exists(candidate):
            found.append(candidate)
    return found
`,
    });
    assertSuccess(r);
    assert.deepEqual(r.return_value, [], `session B found: ${JSON.stringify(r.return_value)}`);
  });

  it("/tmp persists across a session's executions, is private to the session and is not the host's /tmp", async () => {
    const a = sessionId('tmpA');
    const b = sessionId('tmpB');
    const hostFile = path.join(os.tmpdir(), `host-only-${randomUUID()}`);
    writeFileSync(hostFile, 'host');
    try {
      assertSuccess(await t.run({ session_id: a, language: 'shell', code: 'echo kept > /tmp/state.txt' }));
      const again = await t.run({ session_id: a, language: 'shell', code: 'cat /tmp/state.txt' });
      assertSuccess(again);
      assert.equal(again.stdout, 'kept\n');
      const other = await t.run({
        session_id: b,
        language: 'shell',
        code: `ls -A /tmp; test -e /tmp/state.txt && echo SEES-A; test -e /tmp/${path.basename(hostFile)} && echo SEES-HOST; echo end`,
      });
      assertSuccess(other);
      assert.equal(other.stdout, 'end\n', describeResult(other));
    } finally {
      rmSync(hostFile, { force: true });
    }
  });

  it("the environment is clean: no server variable, only ours and the request's env_vars", async () => {
    const envVars = { MY_SETTING: 'on', WITH_SPACES: 'a b  c', EMPTY: '', UNICODE: 'ü€😀' };
    const runs = await Promise.all([
      t.run({ language: 'shell', code: 'env -0', env_vars: envVars }),
      t.run({ language: 'python', code: 'import os\ndef handler(event):\n    return dict(os.environ)\n', env_vars: envVars }),
      t.run({ language: 'javascript', code: 'module.exports = () => process.env;', env_vars: envVars }),
    ]);
    for (const r of runs) {
      assertSuccess(r);
      const env: Record<string, string> =
        r.language === 'shell'
          ? Object.fromEntries(
              r.stdout
                .split('\0')
                .filter(Boolean)
                .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
            )
          : (r.return_value as Record<string, string>);
      for (const [k, v] of Object.entries(envVars)) assert.equal(env[k], v, `${r.language}: ${k}`);
      const foreign = Object.keys(env).filter((k) => !OURS.has(k) && !(k in envVars));
      assert.deepEqual(foreign, [], `${r.language} sees variables nobody asked for`);
      assert.ok(!JSON.stringify(env).includes(SECRET), `${r.language} sees a server secret`);
      for (const k of Object.keys(SERVER_VARIABLES)) assert.ok(!(k in env), `${r.language} sees ${k}`);
    }
  });

  it('no process in the sandbox carries a server secret in its environment', async () => {
    const r = await t.run({
      language: 'shell',
      code: `for f in /proc/[0-9]*/environ; do cat "$f" 2>/dev/null; done | tr '\\0' '\\n' | grep -c -F ${JSON.stringify(SECRET)} || true`,
    });
    assertSuccess(r);
    assert.equal(r.stdout.trim(), '0');
  });

  it("has no network: the server's own loopback port and outside addresses are unreachable", async () => {
    // a listener on the host's loopback: a sandbox sharing the host network would reach it
    const listener = net.createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const r = await t.run({
        language: 'python',
        code: `import socket
def handler(event):
    out = {}
    for name, addr in [("host_loopback", ("127.0.0.1", ${port})), ("outside", ("1.1.1.1", 53))]:
        try:
            s = socket.create_connection(addr, timeout=2)
            out[name] = "connected " + s.recv(10).decode()
        except OSError as e:
            out[name] = type(e).__name__
    try:
        socket.getaddrinfo("example.com", 80)
        out["dns"] = "resolved"
    except OSError as e:
        out["dns"] = type(e).__name__
    return out
`,
      });
      assertSuccess(r);
      const out = r.return_value as Record<string, string>;
      assert.ok(!out.host_loopback?.startsWith('connected'), JSON.stringify(out));
      assert.ok(!out.outside?.startsWith('connected'), JSON.stringify(out));
      assert.notEqual(out.dns, 'resolved');
      assert.equal(r.sandbox?.namespaces.network, true);
    } finally {
      listener.close();
    }
  });
});
