// A cap on the server's open connections (MAX_CONNECTIONS), so that clients can never take every
// descriptor the process has. At the cap, a new connection first makes room by closing the
// connection that has been idle longest: one waiting for its next request, or still sending the
// head of its first (what a slowloris client does until headersTimeout). Only when every
// connection is busy with a request is the newcomer answered 503 and closed.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimitOptions {
  maxConnections: number;
  /** a connection was refused because every open one is busy */
  onRefused?: () => void;
}

export function limitConnections(server: Server, options: ConnectionLimitOptions): void {
  const open = new Set<Socket>();
  /** idle connections, the one idle longest first (a Set keeps insertion order) */
  const idle = new Set<Socket>();
  const requestsInFlight = new Map<Socket, number>();

  const forget = (socket: Socket) => {
    open.delete(socket);
    idle.delete(socket);
    requestsInFlight.delete(socket);
  };

  server.on('connection', (socket: Socket) => {
    if (open.size >= options.maxConnections) {
      const longestIdle = idle.values().next().value;
      if (longestIdle) {
        forget(longestIdle);
        longestIdle.destroy();
      } else {
        options.onRefused?.();
        refuse(socket, options.maxConnections);
        return;
      }
    }
    open.add(socket);
    idle.add(socket);
    socket.once('close', () => forget(socket));
  });

  server.on('request', (request, response) => {
    const socket = request.socket;
    if (!open.has(socket)) return;
    idle.delete(socket);
    requestsInFlight.set(socket, (requestsInFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (requestsInFlight.get(socket) ?? 1) - 1;
      requestsInFlight.set(socket, left);
      // idle again from now: it goes to the back of the line
      if (left === 0 && open.has(socket)) idle.add(socket);
    });
  });
}

/** Answers 503 on the raw socket (no request has been read from it) and closes it. */
function refuse(socket: Socket, maxConnections: number): void {
  const message = `the executor has ${maxConnections} connections open, all busy with requests (MAX_CONNECTIONS): retry later`;
  const body = JSON.stringify({ detail: { error_code: 'Executor.TooManyConnections', description: message }, error_code: 'Executor.TooManyConnections', message });
  socket.on('error', () => {}); // the client may be gone already
  socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`);
  socket.destroySoon();
}
