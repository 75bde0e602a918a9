// An execution can keep a descriptor of its read-only input directory (/run/execution) alive
// after it ends, by handing it to another execution of its session (a unix socket in the
// session's /tmp, SCM_RIGHTS). Whatever is written into that directory later must never be
// another session's code or event: input directories are reused only within their session.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';
import { pollFor } from '../helpers/processes.js';

// Collects directory descriptors sent to /tmp/collect.sock and reads every event.json that shows
// up in those directories until the test says it is done.
const COLLECTOR = `
import os, socket, time
def handler(event):
    server = socket.socket(socket.AF_UNIX)
    server.bind('/tmp/collect.sock'); server.listen(16); server.setblocking(False)
    open('/workspace/collecting', 'w').close()
    fds, seen = [], set()
    deadline = time.time() + event['seconds']
    while time.time() < deadline and not os.path.exists('/workspace/victims-done'):
        try:
            peer, _ = server.accept()
            peer.setblocking(True)
            _, received, _, _ = socket.recv_fds(peer, 16, 4)
            fds += received
        except BlockingIOError:
            pass
        for fd in fds:
            try:
                for name in os.listdir(fd):
                    f = os.open(name, os.O_RDONLY, dir_fd=fd)
                    text = os.read(f, 4096).decode(errors='replace'); os.close(f)
                    if 'victim-secret' in text: seen.add(text)
            except OSError:
                pass
        time.sleep(0.002)
    return {'descriptors': len(fds), 'seen': sorted(seen)}
`;

const SENDER = `
import os, socket, time
def handler(event):
    d = os.open('/run/execution', os.O_RDONLY | os.O_DIRECTORY)
    s = socket.socket(socket.AF_UNIX)
    s.connect('/tmp/collect.sock')
    socket.send_fds(s, [b'x'], [d])
    time.sleep(0.05)
    return 'sent'
`;

describe('input directories', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(async () => {
    await t.stop();
  });

  it("a descriptor kept by one session never shows another session's code or event", async () => {
    const spy = sessionId('spy');
    const collecting = t.run({ session_id: spy, language: 'python', code: COLLECTOR, event: { seconds: 90 }, timeout: 120 });
    assert.ok(await pollFor(() => (existsSync(path.join(t.workspaceOf(spy), 'collecting')) ? true : undefined), 15_000), 'the collector never listened');
    for (let i = 0; i < 6; i++) {
      const sent = await t.run({ session_id: spy, language: 'python', code: SENDER });
      assert.equal(sent.return_value, 'sent', describeResult(sent));
    }
    for (let i = 0; i < 10; i++) {
      const victim = await t.run({
        session_id: sessionId(`victim${i}`),
        language: 'python',
        code: '# victim-secret code\ndef handler(event):\n    return 1\n',
        event: { token: `victim-secret-${i}` },
      });
      assertSuccess(victim);
    }
    writeFileSync(path.join(t.workspaceOf(spy), 'victims-done'), '');
    const collected = await collecting;
    assertSuccess(collected);
    const { descriptors, seen } = collected.return_value as { descriptors: number; seen: string[] };
    assert.equal(descriptors, 6, 'the attack itself must work: every sender handed its directory over');
    assert.deepEqual(seen, [], `another session's input was read: ${seen.join(' | ')}`);
  });
});
