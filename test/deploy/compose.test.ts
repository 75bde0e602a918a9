// deploy/compose: `docker compose up --scale executor=3` must work, so the executor service names
// no container and publishes no fixed host port (either would collide between replicas). The
// container test scales it for real with podman-compose; this checks the file on every run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const COMPOSE_FILE = fileURLToPath(new URL('../../../deploy/compose/docker-compose.yml', import.meta.url));

type Port = string | number | { target?: number; published?: string | number; host_ip?: string };

/** Why replicas of this service would collide, [] when it scales. */
function scalingProblems(service: { container_name?: string; ports?: readonly Port[] }): string[] {
  const problems: string[] = [];
  if (service.container_name) problems.push(`container_name ${service.container_name}: every replica would take that name`);
  for (const port of service.ports ?? []) {
    const published = typeof port === 'object' ? port.published : publishedOf(String(port));
    if (published !== undefined && published !== '') problems.push(`port ${JSON.stringify(port)} publishes fixed host port ${published}`);
  }
  return problems;
}

/** Short syntax: [IP:][HOST:]CONTAINER[/proto]; an empty HOST lets the engine pick one. */
function publishedOf(port: string): string | undefined {
  const parts = port.replace(/\/\w+$/, '').split(':');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

describe('deploy/compose', () => {
  const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'));

  it('the executor service scales: no container_name, no fixed host port', () => {
    assert.ok(compose.services?.executor, 'the compose file has an executor service');
    assert.deepEqual(scalingProblems(compose.services.executor), []);
  });

  it('the check names what would collide', () => {
    assert.deepEqual(scalingProblems({ ports: ['127.0.0.1::8080', '8080', 8080, { target: 8080 }] }), []);
    for (const [service, expected] of [
      [{ container_name: 'sandbox-executor' }, /container_name sandbox-executor/],
      [{ ports: ['8080:8080'] }, /fixed host port 8080/],
      [{ ports: ['127.0.0.1:9000:8080/tcp'] }, /fixed host port 9000/],
      [{ ports: [{ target: 8080, published: 8081 }] }, /fixed host port 8081/],
    ] as const) {
      assert.match(scalingProblems(service).join('\n'), expected);
    }
  });
});
