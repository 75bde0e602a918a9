// A session's sandboxes share one network namespace (loopback only), which no other session's
// sandbox reaches: executions of one session can already meet in its workspace, and one network
// namespace per session instead of per execution saves its creation and teardown each time.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';
import { pollFor } from '../helpers/processes.js';

const LISTEN = `
import socket
def handler(event):
    server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', event['port'])); server.listen(); server.settimeout(event['wait'])
    open('/workspace/listening', 'w').close()
    try:
        peer, _ = server.accept()
        return peer.recv(64).decode()
    except socket.timeout:
        return 'nobody came'
`;

const CONNECT = `
import socket, time
def handler(event):
    deadline = time.time() + event['within']
    while True:
        s = socket.socket(); s.settimeout(1)
        try:
            s.connect(('127.0.0.1', event['port'])); s.sendall(event['say'].encode()); return 'connected'
        except OSError as e:
            if time.time() > deadline: return 'refused %d' % e.errno
            time.sleep(0.05)
`;

describe("a session's network", () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(async () => {
    await t.stop();
  });

  it('is shared by the sessions own executions and reached by no other session', async () => {
    const port = 41000 + (process.pid % 20000);
    const mine = sessionId('net-mine');
    const other = sessionId('net-other');
    // warm sandboxes (with the session's network) are made after each session's first executions
    for (const session of [mine, mine, other, other]) assertSuccess(await t.run({ session_id: session, language: 'python', code: 'def handler(event):\n    return 1\n' }));

    const listening = t.run({ session_id: mine, language: 'python', code: LISTEN, event: { port, wait: 6 } });
    const ready = await pollFor(() => (existsSync(path.join(t.workspaceOf(mine), 'listening')) ? true : undefined), 15_000);
    assert.ok(ready, 'the listening execution never got to listen');

    const fromOther = await t.run({ session_id: other, language: 'python', code: CONNECT, event: { port, within: 1, say: 'from other' } });
    assertSuccess(fromOther);
    assert.equal(fromOther.return_value, 'refused 111', describeResult(fromOther));
    assert.notEqual(fromOther.phases.start, 'cold', describeResult(fromOther));

    const fromMine = await t.run({ session_id: mine, language: 'python', code: CONNECT, event: { port, within: 3, say: 'from mine' } });
    assertSuccess(fromMine);
    assert.notEqual(fromMine.phases.start, 'cold', describeResult(fromMine));
    assert.equal(fromMine.return_value, 'connected', describeResult(fromMine));
    const listened = await listening;
    assertSuccess(listened);
    assert.equal(listened.return_value, 'from mine');
  });
});
