// Stands in for the control plane in callback mode: takes POST
// /api/v1/internal/executions/{id}/result and hands each result to whoever expects that id.
// The latency of a callback-mode execution ends when its result arrives here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

const RESULT_PATH = /^\/api\/v1\/internal\/executions\/([^/]+)\/result$/;

export interface Delivery {
  body: string;
  /** performance.now() at arrival */
  at: number;
}

export class CallbackReceiver {
  private readonly waiting = new Map<string, { deliver: (delivery: Delivery) => void; timer: NodeJS.Timeout }>();
  private readonly early = new Map<string, Delivery>();
  /** deliveries of an id already delivered (the executor retried) */
  duplicates = 0;
  private readonly delivered = new Set<string>();

  private constructor(private readonly server: http.Server) {}

  static async listen(host: string, port: number): Promise<CallbackReceiver> {
    const server = http.createServer();
    const receiver = new CallbackReceiver(server);
    server.on('request', (req, res) => receiver.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Call before submitting: a fast executor may deliver before its acknowledgement is read. */
  expect(executionId: string, timeoutMs: number): Promise<Delivery> {
    const arrived = this.early.get(executionId);
    if (arrived) {
      this.early.delete(executionId);
      return Promise.resolve(arrived);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(executionId);
        reject(new Error(`no callback for ${executionId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(executionId, {
        timer,
        deliver: (delivery) => {
          clearTimeout(timer);
          resolve(delivery);
        },
      });
    });
  }

  /** Forget an id (its submission failed): a late callback then counts as unexpected. */
  forget(executionId: string): void {
    clearTimeout(this.waiting.get(executionId)?.timer);
    this.waiting.delete(executionId);
    this.early.delete(executionId);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const match = req.method === 'POST' ? RESULT_PATH.exec(req.url ?? '') : null;
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const id = decodeURIComponent(match[1]!);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const delivery = { body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      if (this.delivered.has(id)) {
        this.duplicates++;
        return;
      }
      this.delivered.add(id);
      const waiter = this.waiting.get(id);
      if (waiter) {
        this.waiting.delete(id);
        waiter.deliver(delivery);
      } else {
        this.early.set(id, delivery);
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
