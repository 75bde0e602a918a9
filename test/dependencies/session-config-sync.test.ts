// POST /internal/session-config/sync end to end: a real server, real sandboxes, real pip, wheels
// served by a local PEP 503 index. What user code can import is asked from user code itself
// (POST /execute?wait=true), and a failed sync must leave the previous set importable.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DependencyServer, type SyncReport } from '../fixtures/dependency-server.js';
import { PackageIndex } from '../fixtures/package-index.js';
import { body, sleep } from '../helpers/http.js';
import { killMarked, pollFor, processesWithMarker, uniqueMarker } from '../helpers/processes.js';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let index: PackageIndex;
let deps: DependencyServer;

/** Asserts the contract's error shape, exactly: {"detail": {error_code, description, error_detail}}. */
function assertSyncError(reply: { status: number; text: string; json: any }, status: number, errorCode: string): { description: string; error_detail: string } {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text.slice(0, 3000)}`);
  assert.deepEqual(Object.keys(reply.json), ['detail'], reply.text);
  assert.deepEqual(Object.keys(reply.json.detail).sort(), ['description', 'error_code', 'error_detail'], reply.text);
  assert.equal(reply.json.detail.error_code, errorCode, reply.text);
  assert.equal(typeof reply.json.detail.description, 'string');
  assert.ok(reply.json.detail.description.length > 15, `description too terse: ${reply.text}`);
  assert.equal(typeof reply.json.detail.error_detail, 'string');
  return reply.json.detail;
}

const versions = (report: SyncReport) => Object.fromEntries(report.installed_dependencies.map((d) => [d.name, d.version]));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('POST /internal/session-config/sync', () => {
  before(async () => {
    index = await PackageIndex.start();
    index.publish({ name: 'alpha-pkg', version: '1.0' });
    index.publish({ name: 'alpha-pkg', version: '2.0' });
    index.publish({ name: 'beta-pkg', version: '1.0', requires: ['gamma-pkg>=1'] });
    index.publish({ name: 'gamma-pkg', version: '1.5' });
    index.publish({ name: 'slow-pkg', version: '1.0' });
    for (const version of ['1.0', '2.0']) {
      index.publish({ name: 'pair-one', version });
      index.publish({ name: 'pair-two', version });
    }
    deps = await DependencyServer.start({ DEPENDENCY_INSTALL_TIMEOUT: '60' });
  });
  after(async () => {
    await deps?.close();
    await index?.close();
  });

  it('installs the list into a new set that user code imports, listing what is installed from its metadata', async () => {
    const report = await deps.syncOk(index.url, ['alpha-pkg==1.0', 'beta-pkg']);
    assert.equal(report.status, 'completed');
    assert.equal(report.error, '');
    assert.match(report.started_at, ISO_UTC);
    assert.match(report.completed_at, ISO_UTC);
    assert.ok(report.completed_at >= report.started_at);
    // beta-pkg's own dependency is installed and listed too
    assert.deepEqual(versions(report), { 'alpha-pkg': '1.0', 'beta-pkg': '1.0', 'gamma-pkg': '1.5' });
    for (const dependency of report.installed_dependencies) {
      assert.deepEqual(Object.keys(dependency).sort(), ['install_location', 'install_time', 'is_from_template', 'name', 'version']);
      assert.equal(dependency.install_location, '/opt/sandbox-venv');
      assert.match(dependency.install_time, ISO_UTC);
      assert.equal(dependency.is_from_template, false);
    }
    assert.ok(deps.isSymlink(), 'DEPENDENCY_PATH is a symlink to the current set');
    assert.match(deps.currentSet()!, /sandbox-venv\.d\/set-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.deepEqual(await deps.importVersions(['alpha_pkg', 'beta_pkg', 'gamma_pkg', 'pair_one']), { alpha_pkg: '1.0', beta_pkg: '1.0', gamma_pkg: '1.5', pair_one: null });
  });

  it('keeps the previous set in place and importable when an install fails (unknown package)', async () => {
    await deps.syncOk(index.url, ['alpha-pkg==1.0']);
    const before = deps.currentSet();
    const reply = await deps.sync(index.url, ['alpha-pkg==2.0', 'no-such-pkg']);
    const detail = assertSyncError(reply, 422, 'Executor.DependencyInstallError');
    assert.match(detail.description, /no-such-pkg/);
    assert.match(detail.description, /previous dependency set is unchanged/);
    assert.match(detail.error_detail, /No matching distribution found for no-such-pkg/);
    assert.ok(Buffer.byteLength(detail.error_detail) <= 8 * 1024);
    assert.equal(deps.currentSet(), before, 'the swap point was not touched');
    assert.deepEqual(await deps.importVersions(['alpha_pkg']), { alpha_pkg: '1.0' });
    assert.deepEqual(
      deps.storeEntries().filter((e) => e.startsWith('.')),
      [],
      'no staging leftovers',
    );
  });

  it('installs the list as sent in both modes; an empty list empties the set only once it succeeded', async () => {
    await deps.syncOk(index.url, ['alpha-pkg==2.0', 'gamma-pkg'], { sync_mode: 'replace' });
    const merged = await deps.syncOk(index.url, ['beta-pkg'], { sync_mode: 'merge' });
    assert.deepEqual(versions(merged), { 'beta-pkg': '1.0', 'gamma-pkg': '1.5' }, 'the control plane sends the final list: alpha-pkg is gone');
    assert.deepEqual(await deps.importVersions(['alpha_pkg', 'beta_pkg']), { alpha_pkg: null, beta_pkg: '1.0' });
    const emptied = await deps.syncOk(index.url, []);
    assert.deepEqual(emptied.installed_dependencies, []);
    assert.deepEqual(await deps.importVersions(['beta_pkg', 'gamma_pkg']), { beta_pkg: null, gamma_pkg: null });
  });

  it('refuses pip options and other injections with 400 before pip runs', async () => {
    await deps.syncOk(index.url, ['alpha-pkg==1.0']);
    const before = deps.currentSet();
    const requestsBefore = index.requests.length;
    const attempts = [
      '--index-url=http://evil.example/simple',
      '-r /etc/passwd',
      '-r',
      'alpha-pkg\n--pre',
      'alpha-pkg --pre',
      'alpha-pkg\u0000',
      '--extra-index-url',
      'alpha-pkg@http://evil.example/alpha.whl',
      '/etc/passwd',
      'file:///etc/passwd',
    ];
    for (const attempt of attempts) {
      const reply = await deps.sync(index.url, ['gamma-pkg', attempt]);
      const detail = assertSyncError(reply, 400, 'Executor.ValidationError');
      assert.match(detail.description, /^dependencies\[1\]/, detail.description);
    }
    for (const badIndex of ['ftp://127.0.0.1/simple/', 'file:///etc', `${index.url} --pre`, 'javascript:alert(1)']) {
      const detail = assertSyncError(await deps.sync(badIndex, ['gamma-pkg']), 400, 'Executor.ValidationError');
      assert.match(detail.description, /^python_package_index_url/);
    }
    assert.equal(index.requests.length, requestsBefore, 'pip never asked the index for anything');
    assert.equal(deps.currentSet(), before);
    assert.deepEqual(await deps.importVersions(['alpha_pkg']), { alpha_pkg: '1.0' });
  });

  it('validates the request as the contract says: 400 for empty or missing values, 422 for types and sync_mode', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ session_id: '' }, 400, /^session_id must not be empty/],
      [{ session_id: undefined }, 400, /^session_id is missing/],
      [{ session_id: 42 }, 422, /^session_id: /],
      [{ language_runtime: 'node18' }, 400, /^language_runtime must start with "python"/],
      [{ language_runtime: '' }, 400, /^language_runtime/],
      [{ python_package_index_url: '' }, 400, /^python_package_index_url is empty/],
      [{ python_package_index_url: undefined }, 400, /^python_package_index_url is missing/],
      [{ sync_mode: 'upsert' }, 422, /^sync_mode must be "replace" or "merge"/],
      [{ dependencies: 'alpha-pkg' }, 422, /^dependencies: /],
      [{ dependencies: ['alpha-pkg', 7] }, 422, /^dependencies\[1\]: /],
      [{ dependencies: [''] }, 400, /^dependencies\[0\] \(""\) is empty/],
    ];
    for (const [fields, status, description] of cases) {
      const request: Record<string, unknown> = { session_id: 'sess-1', language_runtime: 'python3.11', python_package_index_url: index.url, dependencies: [], sync_mode: 'replace', ...fields };
      for (const [key, value] of Object.entries(fields)) if (value === undefined) delete request[key];
      const reply = await deps.server.request('POST', '/internal/session-config/sync', { json: request });
      const detail = assertSyncError(reply, status, 'Executor.ValidationError');
      assert.match(detail.description, description, JSON.stringify(fields));
    }
    const malformed = await deps.server.request('POST', '/internal/session-config/sync', { body: '{"session_id": ', headers: { 'content-type': 'application/json' } });
    assertSyncError(malformed, 400, 'Executor.ValidationError');
    // refused before JSON.parse builds it: a deep body held the event loop for seconds there
    const deep = await deps.server.request('POST', '/internal/session-config/sync', {
      body: `{"session_id":"s","dependencies":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.match(assertSyncError(deep, 400, 'Executor.ValidationError').description, /more than 16 levels deep/);
    // absent: dependencies default to [] and sync_mode to replace
    const minimal = await deps.server.request('POST', '/internal/session-config/sync', { json: { session_id: 's', language_runtime: 'python', python_package_index_url: index.url } });
    assert.equal(minimal.status, 200, minimal.text);
  });

  it('answers an unreachable index with a clear 422, in bounded time, keeping the previous set', async () => {
    await deps.syncOk(index.url, ['alpha-pkg==2.0']);
    const began = Date.now();
    const reply = await deps.sync(`http://127.0.0.1:${await closedPort()}/simple/`, ['alpha-pkg==1.0']);
    const elapsed = Date.now() - began;
    const detail = assertSyncError(reply, 422, 'Executor.DependencyInstallError');
    assert.match(detail.description, /could not be reached/);
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    assert.deepEqual(await deps.importVersions(['alpha_pkg']), { alpha_pkg: '2.0' });
  });

  it('runs one sync at a time: a second waits for the first, and the last one sent wins', async () => {
    index.downloadDelayMs.set('slow-pkg', 1500);
    try {
      const first = deps.syncOk(index.url, ['slow-pkg', 'alpha-pkg==1.0']);
      await sleep(300);
      const second = deps.syncOk(index.url, ['alpha-pkg==2.0']);
      const [a, b] = await Promise.all([first, second]);
      assert.ok(b.started_at >= a.completed_at, `overlap: first ${a.started_at}..${a.completed_at}, second ${b.started_at}..${b.completed_at}`);
      assert.deepEqual(versions(a), { 'alpha-pkg': '1.0', 'slow-pkg': '1.0' });
      assert.deepEqual(await deps.importVersions(['alpha_pkg', 'slow_pkg']), { alpha_pkg: '2.0', slow_pkg: null });
    } finally {
      index.downloadDelayMs.delete('slow-pkg');
    }
  });

  it('refuses with 409 beyond one running and four waiting syncs', async () => {
    index.downloadDelayMs.set('slow-pkg', 1500);
    try {
      const running = deps.sync(index.url, ['slow-pkg']);
      await sleep(300);
      const queued = await Promise.all(Array.from({ length: 6 }, () => deps.sync(index.url, [])));
      const refused = queued.filter((r) => r.status === 409);
      assert.equal(refused.length, 2, queued.map((r) => r.status).join(','));
      assert.ok(queued.filter((r) => r.status === 200).length === 4);
      const detail = assertSyncError(refused[0]!, 409, 'Executor.SessionConfigSyncError');
      assert.match(detail.description, /already running or waiting/);
      assert.equal((await running).status, 200);
    } finally {
      index.downloadDelayMs.delete('slow-pkg');
    }
  });

  it('shows executions started during a sync the old set or the new one, never a mix', async () => {
    await deps.syncOk(index.url, ['pair-one==1.0', 'pair-two==1.0']);
    index.downloadDelayMs.set('pair-two', 2000);
    try {
      let syncing = true;
      const sync = deps.syncOk(index.url, ['pair-one==2.0', 'pair-two==2.0']).finally(() => (syncing = false));
      const seen: Record<string, string | null>[] = [];
      while (syncing) seen.push(await deps.importVersions(['pair_one', 'pair_two']));
      await sync;
      seen.push(await deps.importVersions(['pair_one', 'pair_two']));
      const old = { pair_one: '1.0', pair_two: '1.0' };
      const fresh = { pair_one: '2.0', pair_two: '2.0' };
      for (const view of seen) assert.ok(JSON.stringify(view) === JSON.stringify(old) || JSON.stringify(view) === JSON.stringify(fresh), `a mixed view: ${JSON.stringify(view)}`);
      assert.deepEqual(seen[0], old, 'an execution during the sync saw the old set');
      assert.deepEqual(seen.at(-1), fresh);
    } finally {
      index.downloadDelayMs.delete('pair-two');
    }
  });

  it('deletes a retired set only once no execution that may have it bound is running', async () => {
    await deps.syncOk(index.url, ['alpha-pkg==1.0']);
    const sets = () => deps.storeEntries().filter((e) => e.startsWith('set-'));
    assert.equal(sets().length, 1, `idle: only the current set is kept (${sets()})`);
    // an execution holding the current set, still running when the next sync swaps
    const holder = body({ language: 'python', code: 'import time, alpha_pkg\ndef handler(event):\n    time.sleep(3)\n    return alpha_pkg.VERSION\n' });
    assert.equal((await deps.server.submit(holder)).status, 200);
    await sleep(500);
    await deps.syncOk(index.url, ['alpha-pkg==2.0']);
    assert.equal(sets().length, 2, 'the retired set stays while the execution runs');
    const finished = await deps.server.finished(holder.execution_id);
    assert.equal(finished.result?.return_value, '1.0', 'the running execution kept its set to the end');
    const collected = await pollFor(() => (sets().length === 1 ? true : undefined), 10_000);
    assert.ok(collected, `retired set not deleted after the execution ended: ${sets()}`);
  });

  it('counts syncs by outcome and times them on /metrics', async () => {
    const reply = await deps.server.request('GET', '/metrics');
    assert.match(reply.text, /sandbox_dependency_syncs_total\{outcome="completed"\} [1-9]\d*/);
    assert.match(reply.text, /sandbox_dependency_syncs_total\{outcome="install_failed"\} [1-9]\d*/);
    assert.match(reply.text, /sandbox_dependency_syncs_total\{outcome="invalid_request"\} [1-9]\d*/);
    assert.match(reply.text, /sandbox_dependency_syncs_total\{outcome="index_unreachable"\} [1-9]\d*/);
    assert.match(reply.text, /sandbox_dependency_syncs_total\{outcome="busy"\} [1-9]\d*/);
    assert.match(reply.text, /sandbox_dependency_sync_duration_seconds_count\{outcome="completed"\} \d+/);
  });

  it('documents the request in /openapi.json', async () => {
    const reply = await deps.server.request('GET', '/openapi.json');
    assert.ok(reply.json.paths['/internal/session-config/sync']?.post);
    assert.ok(reply.json.components.schemas.SessionConfigSyncRequest);
  });
});

describe('a sync that outlives DEPENDENCY_INSTALL_TIMEOUT', () => {
  let hanging: PackageIndex;
  let short: DependencyServer;
  before(async () => {
    hanging = await PackageIndex.start();
    hanging.hang = true;
    short = await DependencyServer.start({ DEPENDENCY_INSTALL_TIMEOUT: '3' });
  });
  after(async () => {
    await short?.close();
    await hanging?.close();
  });

  it('is stopped after the timeout with a 422, pip and its children killed, nothing swapped', async () => {
    const marker = uniqueMarker('sync-timeout');
    // the marker rides in the index URL, so pip's argv carries it
    const url = `http://127.0.0.1:${hanging.port}/${marker}/simple/`;
    try {
      const began = Date.now();
      const reply = await short.sync(url, ['alpha-pkg']);
      const elapsed = Date.now() - began;
      const detail = assertSyncError(reply, 422, 'Executor.DependencyInstallError');
      assert.match(detail.description, /did not finish within 3 s/);
      assert.ok(elapsed >= 2_900 && elapsed < 15_000, `took ${elapsed} ms`);
      assert.ok(hanging.requests.length > 0, 'pip did reach the index');
      const gone = await pollFor(() => (processesWithMarker(marker).length === 0 ? true : undefined), 5_000);
      assert.ok(gone, `pip still running: ${JSON.stringify(processesWithMarker(marker))}`);
      assert.equal(short.currentSet(), undefined, 'no set was published');
      assert.deepEqual(short.storeEntries(), [], 'no staging leftovers');
    } finally {
      killMarked(marker);
    }
  });
});
