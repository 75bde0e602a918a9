// Node's HTTP server looks for requests that take too long to arrive (headersTimeout,
// requestTimeout) on an interval timer that runs from listen to close, with connections or
// without. On this kind of machine each wake-up of an idle process costs about 0.6 ms of CPU
// (docs/benchmarks.md, "An idle server that does not wake"), so this runs Node's own check only
// while at least one connection is open. It reaches two internals of node:http (the timer's
// symbol and its callback); where a Node version lacks either, Node's own timer stays as it is.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

const TIMER_SYMBOL = 'http.server.connectionsCheckingInterval';

interface NodeTimer {
  _onTimeout?: unknown;
  _repeat?: unknown;
}

/**
 * Call once the server listens (Node makes its timer then). True when the check now runs only
 * while a connection is open; false when this Node's internals differ and nothing was changed.
 */
export function checkExpiredRequestsOnlyWhileConnected(server: Server): boolean {
  const slot = Object.getOwnPropertySymbols(server).find((symbol) => symbol.description === TIMER_SYMBOL);
  if (!slot) return false;
  const holder = server as unknown as Record<symbol, NodeTimer | undefined>;
  const check = holder[slot]?._onTimeout;
  const everyMs = holder[slot]?._repeat;
  if (typeof check !== 'function' || typeof everyMs !== 'number' || everyMs <= 0) return false;

  // server.close() clears whatever timer is in the slot, so the slot always holds the live one
  const stop = () => {
    clearInterval(holder[slot] as NodeJS.Timeout | undefined);
    holder[slot] = undefined;
  };
  stop();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    // called on the server: Node 20 binds it, a later one might not
    if (open++ === 0 && server.listening) holder[slot] = setInterval(() => (check as () => void).call(server), everyMs).unref() as NodeTimer;
    socket.once('close', () => {
      if (--open === 0) stop();
    });
  });
  return true;
}
