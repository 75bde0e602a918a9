// HTTP/1.1 over plain loopback sockets, for clients fetch cannot play: one that sends a request
// and then never reads the answer, one that sends half a request and stops. Plus what the tests
// read about the server process from /proc: its resident memory and its open descriptors.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { procStatus } from './processes.js';

/** A connected socket on 127.0.0.1:port (rejects when the connection fails). */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A connection that sent `bytes` and then nothing; `closed` resolves with what the server answered when it closed it. */
export async function sentThenSilent(port: number, bytes: string): Promise<{ socket: net.Socket; closed: Promise<string> }> {
  const socket = await connect(port);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
  socket.on('error', () => {});
  socket.write(bytes);
  return { socket, closed };
}

/** A connection that sent part of a request head and then nothing (sentThenSilent). */
export const halfSentHead = (port: number) => sentThenSilent(port, 'POST /execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl');

/** The bytes of a complete `POST path` with a JSON body. */
export function postRequest(path: string, json: unknown): string {
  const payload = JSON.stringify(json);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;
}

/**
 * Sends a complete `POST path` and never reads a byte of the answer: the socket is paused, so once
 * the kernel's buffers are full the server cannot write to it any more.
 */
export async function postAndNeverRead(port: number, path: string, json: unknown): Promise<net.Socket> {
  const socket = await connect(port);
  socket.pause();
  socket.on('error', () => {}); // closed by the server or by the test: either is expected
  socket.write(postRequest(path, json));
  return socket;
}

/**
 * Reads (resuming a paused socket) one response with a chunked body: the status line and the
 * decoded body, once the last chunk has arrived.
 */
export function readChunkedResponse(socket: net.Socket): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let tail = '';
    /** the response when it is complete, else undefined */
    const parse = (received: Buffer) => {
      const headEnd = received.indexOf('\r\n\r\n');
      const body: Buffer[] = [];
      for (let at = headEnd + 4; headEnd >= 0; ) {
        const lineEnd = received.indexOf('\r\n', at);
        const size = parseInt(received.subarray(at, lineEnd).toString('latin1'), 16);
        if (lineEnd < 0 || received.length < lineEnd + 2 + size + 2) return undefined;
        if (size === 0) return { statusLine: received.subarray(0, received.indexOf('\r\n')).toString('latin1'), body: Buffer.concat(body).toString('utf8') };
        body.push(received.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      return undefined;
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      tail = (tail + chunk.subarray(-5).toString('latin1')).slice(-5);
      if (tail !== '0\r\n\r\n') return; // the last chunk's marker; only then is a parse worth it
      const response = parse(Buffer.concat(chunks));
      if (!response) return;
      socket.off('data', onData);
      socket.pause();
      resolve(response);
    };
    socket.on('data', onData);
    socket.once('end', () => reject(new Error(`the connection ended before the last chunk (${chunks.reduce((n, c) => n + c.length, 0)} bytes received)`)));
    socket.once('error', reject);
    socket.resume();
  });
}

/** Resident memory of a process in bytes (VmRSS of /proc/PID/status). */
export function residentBytes(pid: number): number {
  const vmRss = procStatus(pid)?.VmRSS;
  if (!vmRss) throw new Error(`no VmRSS for pid ${pid}: has it exited?`);
  return Number(vmRss.replace(/\s*kB$/, '')) * 1024;
}

/** How many descriptors a process has open now (entries of /proc/PID/fd). */
export function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
