// Request bodies, with the size limit. Read from Node's own request when the server has one: the
// WHATWG Request and web stream Hono's generic body limit builds around it cost ~0.3 ms of the
// event loop per request, on every execution.
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';

/** Code is at most 1 Mi characters (up to 4 MiB of UTF-8), plus the event and env_vars. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Answered 413 by the app's error handler (app.ts). */
export class BodyTooLargeError extends Error {
  constructor() {
    super(`request bodies are limited to ${MAX_BODY_BYTES} bytes`);
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
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        incoming.pause(); // the rest is never read: the app answers with Connection: close
        done(() => reject(new BodyTooLargeError()));
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
