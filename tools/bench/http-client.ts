// A lean keep-alive HTTP client on node:http: the load generator's own overhead must stay small
// next to a few-millisecond execution, and connections are reused like a real control plane would.
import http from 'node:http';

export interface HttpResponse {
  status: number;
  body: string;
}

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly base: URL,
    private readonly headers: Record<string, string> = {},
    maxSockets = 256,
  ) {
    if (base.protocol !== 'http:') throw new Error(`only http:// targets are supported, got ${base.protocol}`);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown, timeoutMs = 120_000): Promise<HttpResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port || 80,
          path: `${this.base.pathname.replace(/\/+$/, '')}${pathAndQuery}`,
          method,
          agent: this.agent,
          headers: { ...this.headers, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async getJson(pathAndQuery: string): Promise<unknown> {
    const response = await this.request('GET', pathAndQuery, undefined, 10_000);
    if (response.status !== 200) throw new Error(`GET ${pathAndQuery}: HTTP ${response.status}`);
    return JSON.parse(response.body);
  }

  close(): void {
    this.agent.destroy();
  }
}
