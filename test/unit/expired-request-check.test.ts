// Node's request-timeout check runs only while a connection is open (src/http/expired-request-check.ts),
// on real node:http servers on loopback: the slot Node keeps its timer in is empty while idle, holds
// a running timer while a connection is open, and the function leaves a server alone where it
// cannot find what it needs (before listen, or a Node whose internals differ).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { checkExpiredRequestsOnlyWhileConnected } from '../../src/http/expired-request-check.js';

const SLOT = 'http.server.connectionsCheckingInterval';

/** What Node holds in its timer slot now: undefined, or a timer that is (or is not) still due to fire. */
function timerIn(server: Server): { active: boolean } | undefined {
  const slot = Object.getOwnPropertySymbols(server).find((s) => s.description === SLOT);
  const timer = slot ? (server as unknown as Record<symbol, NodeJS.Timeout | undefined>)[slot] : undefined;
  // a cleared interval has no repeat left to run (Node sets _idleTimeout to -1)
  return timer ? { active: (timer as unknown as { _idleTimeout: number })._idleTimeout > 0 } : undefined;
}

async function listening(): Promise<Server> {
  const server = createServer({ connectionsCheckingInterval: 1000 }, (_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function connected(server: Server): Promise<Socket> {
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(socket, 'connect');
  await new Promise((resolve) => setImmediate(resolve)); // the server's 'connection' has run
  return socket;
}

async function closed(socket: Socket): Promise<void> {
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the server sees the close
}

describe('the expired-request check', () => {
  it('is stopped while idle, runs while a connection is open, and stops again when it closes', async () => {
    const server = await listening();
    try {
      assert.equal(timerIn(server)?.active, true, "Node's own timer runs from listen");
      assert.equal(checkExpiredRequestsOnlyWhileConnected(server), true);
      assert.equal(timerIn(server), undefined, 'no timer while no connection is open');
      const first = await connected(server);
      const second = await connected(server);
      assert.equal(timerIn(server)?.active, true, 'a timer while connections are open');
      await closed(first);
      assert.equal(timerIn(server)?.active, true, 'still one connection open');
      await closed(second);
      assert.equal(timerIn(server), undefined, 'none once the last one closed');
      const again = await connected(server);
      assert.equal(timerIn(server)?.active, true, 'started again by the next connection');
      await closed(again);
    } finally {
      server.close();
    }
  });

  it('leaves nothing running when the server closes with a connection open', async () => {
    const server = await listening();
    checkExpiredRequestsOnlyWhileConnected(server);
    const socket = await connected(server);
    server.close();
    assert.notEqual(timerIn(server)?.active, true, 'close() clears the timer in the slot');
    await closed(socket);
    assert.equal(timerIn(server), undefined);
  });

  it('changes nothing before listen (Node makes its timer then) or where the timer has no callback', async () => {
    const unheard = createServer();
    assert.equal(checkExpiredRequestsOnlyWhileConnected(unheard), false);

    const server = await listening();
    try {
      const slot = Object.getOwnPropertySymbols(server).find((s) => s.description === SLOT)!;
      const holder = server as unknown as Record<symbol, unknown>;
      const nodeTimer = holder[slot] as NodeJS.Timeout;
      holder[slot] = { _repeat: 1000 }; // as a Node whose timer keeps its callback elsewhere
      assert.equal(checkExpiredRequestsOnlyWhileConnected(server), false);
      holder[slot] = nodeTimer;
      const socket = await connected(server);
      assert.equal(timerIn(server)?.active, true, "Node's timer is left as it was");
      await closed(socket);
    } finally {
      server.close();
    }
  });
});
