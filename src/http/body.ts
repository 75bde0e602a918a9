// Request bodies, with the size limit. Read from Node's own request when the server has one: the
// WHATWG Request and web stream Hono's generic body limit builds around it cost ~0.3 ms of the
// event loop per request, on every execution.
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';

/** Code is at most 1 Mi characters (up to 4 MiB of UTF-8), plus the event and env_vars. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Bytes of request bodies being read, over all connections, past which a body is refused: one
 * client holding many connections, each with a body sent almost to the end, used to make the
 * server buffer 16 MiB for each (60 connections: RSS 70 MB -> 974 MB, never given back; 235 MB
 * with this bound). Eight bodies of the largest size at once.
 */
export const BODY_BUFFERS_BYTES = 128 * 1024 * 1024;
/** A body this small is read whatever is buffered: the usual /execute goes on under such a load. */
const SMALL_BODY_BYTES = 64 * 1024;
let bufferedBytes = 0;

/** A body not read to its end: the app's error handler (app.ts) answers it, routes rethrow it. */
export class BodyRefusedError extends Error {}

/** Answered 413. */
export class BodyTooLargeError extends BodyRefusedError {
  constructor() {
    super(`request bodies are limited to ${MAX_BODY_BYTES} bytes`);
  }
}

/** Answered 503. */
export class BodyBuffersFullError extends BodyRefusedError {
  constructor() {
    super(`the executor is reading ${BODY_BUFFERS_BYTES / 1024 / 1024} MiB of request bodies at once, its bound: retry later (bodies up to ${SMALL_BODY_BYTES / 1024} KiB are still read)`);
  }
}

function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** A declared Content-Length over the limit is refused before anything is read. */
export function bodySizeLimit(): MiddlewareHandler {
  return async (c, next) => {
    const declared = incomingOf(c)?.headers['content-length'] ?? c.req.header('content-length');
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw new BodyTooLargeError();
    await next();
  };
}

/** The body as text; BodyTooLargeError as soon as it exceeds the limit (chunked bodies too). */
export async function readBodyText(c: Context): Promise<string> {
  const incoming = incomingOf(c);
  if (!incoming) {
    const text = await c.req.text(); // not served by Node's http (app.request in-process)
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new BodyTooLargeError();
    return text;
  }
  return (await readLimited(incoming, MAX_BODY_BYTES)).toString('utf8');
}

function readLimited(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (settle: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      bufferedBytes -= size;
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      bufferedBytes += chunk.length;
      const refused = size > maxBytes ? new BodyTooLargeError() : size > SMALL_BODY_BYTES && bufferedBytes > BODY_BUFFERS_BYTES ? new BodyBuffersFullError() : undefined;
      if (refused) {
        incoming.pause(); // the rest is never read: the app answers with Connection: close
        done(() => reject(refused));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => done(() => resolve(Buffer.concat(chunks, size)));
    const onError = (error: Error) => done(() => reject(error));
    const onClose = () => done(() => reject(new Error('the client closed the connection before the body was complete')));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
