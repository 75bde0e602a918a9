// A stand-in control plane on loopback for the control-plane tests: it records every call the
// executor makes (path, headers, raw body, what it answered) and answers as a test tells it:
// a scripted list of statuses per kind of call, a delay, or no answer at all while stopped.
// stop()/restart() keep the port, so the executor sees an outage and then the same CP again.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type CallKind = 'result' | 'heartbeat' | 'ready' | 'exited' | 'other';

export interface ReceivedCall {
  kind: CallKind;
  path: string;
  /** for result and heartbeat calls */
  executionId: string | undefined;
  headers: http.IncomingHttpHeaders;
  /** the body exactly as it arrived */
  raw: string;
  /** the parsed body (undefined when not JSON) */
  body: any;
  /** the status this receiver answered */
  status: number;
  /** epoch ms when the request was complete */
  at: number;
}

const DEFAULT_STATUS: Record<CallKind, number> = { result: 201, heartbeat: 200, ready: 200, exited: 200, other: 404 };

export class CallbackReceiver {
  readonly calls: ReceivedCall[] = [];
  /** statuses to answer next, per kind, before falling back to the default */
  private readonly scripts = new Map<CallKind, number[]>();
  private readonly defaults = { ...DEFAULT_STATUS };
  /** answers to result calls wait this long (a slow control plane) */
  resultDelayMs = 0;
  /** most result requests open at the same time */
  maxConcurrentResults = 0;
  private openResults = 0;
  private server: http.Server;

  private constructor(
    readonly port: number,
    server: http.Server,
  ) {
    this.server = server;
  }

  static async start(port = 0): Promise<CallbackReceiver> {
    const holder: { receiver?: CallbackReceiver } = {};
    const server = await listen((req, res) => holder.receiver!.handle(req, res), port);
    holder.receiver = new CallbackReceiver((server.address() as AddressInfo).port, server);
    return holder.receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Answers the next calls of `kind` with these statuses, in order. */
  script(kind: CallKind, statuses: number[]): void {
    this.scripts.set(kind, [...statuses]);
  }

  /** Answers every later call of `kind` with `status` (after any script). */
  answer(kind: CallKind, status: number): void {
    this.defaults[kind] = status;
  }

  /** The control plane goes away: the port refuses connections, open ones are cut. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The same control plane comes back on the same port. */
  async restart(): Promise<void> {
    this.server = await listen((req, res) => this.handle(req, res), this.port);
  }

  ofKind(kind: CallKind): ReceivedCall[] {
    return this.calls.filter((c) => c.kind === kind);
  }

  /** Result calls this receiver answered with 2xx, by execution id. */
  acceptedResults(): Map<string, ReceivedCall[]> {
    const byId = new Map<string, ReceivedCall[]>();
    for (const call of this.ofKind('result')) {
      if (call.status < 200 || call.status >= 300) continue;
      byId.set(call.executionId!, [...(byId.get(call.executionId!) ?? []), call]);
    }
    return byId;
  }

  /** Waits until `check` holds; throws with `what` after timeoutMs. */
  async waitUntil(what: string, check: (calls: ReceivedCall[]) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.calls)) {
      if (Date.now() > deadline) throw new Error(`control plane: timed out after ${timeoutMs} ms waiting for ${what}; ${this.summary()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  summary(): string {
    const counts = new Map<string, number>();
    for (const c of this.calls) counts.set(`${c.kind}:${c.status}`, (counts.get(`${c.kind}:${c.status}`) ?? 0) + 1);
    return `calls received: ${JSON.stringify(Object.fromEntries(counts))}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    const isResult = classify(req.url ?? '').kind === 'result';
    if (isResult) {
      this.openResults += 1;
      this.maxConcurrentResults = Math.max(this.maxConcurrentResults, this.openResults);
    }
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const { kind, executionId } = classify(req.url ?? '');
      const status = this.scripts.get(kind)?.shift() ?? this.defaults[kind];
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      this.calls.push({ kind, path: req.url ?? '', executionId, headers: req.headers, raw, body, status, at: Date.now() });
      const reply = () => {
        if (isResult) this.openResults -= 1;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status < 300 ? { ok: true } : { detail: `test control plane answers ${status}` }));
      };
      if (isResult && this.resultDelayMs > 0) setTimeout(reply, this.resultDelayMs);
      else reply();
    });
  }
}

function classify(url: string): { kind: CallKind; executionId: string | undefined } {
  const execution = /^\/api\/v1\/internal\/executions\/([^/]+)\/(result|heartbeat)$/.exec(url);
  if (execution) return { kind: execution[2] as CallKind, executionId: decodeURIComponent(execution[1]!) };
  const container = /^\/api\/v1\/internal\/containers\/(ready|exited)$/.exec(url);
  if (container) return { kind: container[1] as CallKind, executionId: undefined };
  return { kind: 'other', executionId: undefined };
}

function listen(handler: http.RequestListener, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
