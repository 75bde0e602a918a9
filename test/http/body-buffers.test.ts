// Request bodies being read are bounded over all connections (BODY_BUFFERS_BYTES): a client that
// opens many connections and sends each body almost to its end used to make the server hold
// 16 MiB for every one. Past the bound a body over 64 KiB is refused with a 503 that says so; a
// small /execute is still read.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BODY_BUFFERS_BYTES } from '../../src/http/body.js';
import { assertSuccess, MiB, sessionId, sleep, TestServer } from '../helpers/http.js';

describe('request bodies being read', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(async () => {
    await t.stop();
  });

  it('are bounded over all connections: past the bound a large one gets 503, a small one is still read', async () => {
    const { hostname, port } = new URL(t.url);
    const perBody = 15 * MiB;
    const count = Math.ceil(BODY_BUFFERS_BYTES / perBody) + 2;
    const answers: string[] = [];
    const sockets = await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const socket = net.connect(Number(port), hostname);
        let answer = '';
        socket.on('data', (data) => {
          answer += data.toString();
          answers[i] = answer;
        });
        socket.on('error', () => {});
        return new Promise<net.Socket>((resolve) =>
          socket.once('connect', () => {
            // declared a little longer than sent: the body never ends
            socket.write(`POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${perBody + 1}\r\n\r\n`);
            socket.write(Buffer.alloc(perBody, 0x20));
            resolve(socket);
          }),
        );
      }),
    );
    try {
      const refused = () => answers.filter((a) => a?.startsWith('HTTP/1.1 503'));
      for (let waited = 0; refused().length === 0 && waited < 30_000; waited += 100) await sleep(100);
      assert.ok(refused().length >= 1, `no body refused: ${count} bodies of 15 MiB were all buffered`);
      assert.match(refused()[0]!, /Executor\.BodyBuffersFull/);
      // the bodies still held do not stop a usual execution
      assertSuccess(await t.run({ session_id: sessionId('small'), language: 'shell', code: 'echo small' }));
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
