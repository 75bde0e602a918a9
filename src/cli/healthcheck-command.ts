// `sandbox-executor healthcheck [--url URL]`: for HEALTHCHECK in images without curl.
import { parseArgs } from 'node:util';

export async function healthcheckCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { url: { type: 'string' } } });
  const port = process.env.EXECUTOR_PORT || '8080';
  const url = values.url ?? `http://127.0.0.1:${port}/health`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await response.text();
    process.stdout.write(`${response.status} ${body}\n`);
    return response.ok ? 0 : 1;
  } catch (error) {
    process.stdout.write(`unhealthy: ${url} did not answer: ${(error as Error).message}\n`);
    return 1;
  }
}
