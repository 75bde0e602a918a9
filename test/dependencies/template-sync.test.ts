// The image's template set: a real directory found at DEPENDENCY_PATH (or the directory it links
// to) stays underneath every synced set (is_from_template: true), except for the distributions a
// sync installs again; and where the swap happens when DEPENDENCY_PATH's directory is not ours.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DependencyServer } from '../fixtures/dependency-server.js';
import { PackageIndex } from '../fixtures/package-index.js';

const TEMPLATE_TIME = new Date('2020-01-02T03:04:05.000Z');
const NON_ROOT_ONLY = process.getuid!() === 0 ? 'root may write any directory: an unwritable DEPENDENCY_PATH directory needs an unprivileged server' : false;

/** Writes an installed distribution (files + dist-info with METADATA and RECORD), as pip --target leaves it. */
function writeDistribution(dir: string, name: string, version: string, files: Record<string, string>): void {
  const distInfo = `${name.replace(/-/g, '_')}-${version}.dist-info`;
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  mkdirSync(path.join(dir, distInfo), { recursive: true });
  writeFileSync(path.join(dir, distInfo, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\nA template package.\n`);
  const record = [...Object.keys(files), `${distInfo}/METADATA`, `${distInfo}/RECORD`].map((f) => `${f},,`).join('\n');
  writeFileSync(path.join(dir, distInfo, 'RECORD'), `${record}\n`);
  utimesSync(path.join(dir, distInfo), TEMPLATE_TIME, TEMPLATE_TIME);
}

/** The image's template: two packages of its own, an old alpha-pkg, and one half of a namespace package. */
function writeTemplate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeDistribution(dir, 'templ-pkg', '0.5', { 'templ_pkg/__init__.py': 'VERSION = "0.5"\n' });
  writeDistribution(dir, 'alpha-pkg', '0.1', { 'alpha_pkg/__init__.py': 'VERSION = "0.1"\n', 'alpha_pkg/old_only.py': 'X = 1\n' });
  writeDistribution(dir, 'ns-one', '1.0', { 'nspkg/one/__init__.py': 'VERSION = "ns-one"\n' });
}

let index: PackageIndex;

before(async () => {
  index = await PackageIndex.start();
  index.publish({ name: 'alpha-pkg', version: '1.0' });
  index.publish({ name: 'ns-two', version: '1.0', files: { 'nspkg/two/__init__.py': 'VERSION = "ns-two"\n' } });
});
after(async () => index?.close());

describe('a template directory at DEPENDENCY_PATH', () => {
  let deps: DependencyServer;
  before(async () => {
    deps = await DependencyServer.start({}, writeTemplate);
  });
  after(async () => deps?.close());

  it('is what user code imports before the first sync', async () => {
    assert.ok(lstatSync(deps.dependencyPath).isDirectory());
    assert.deepEqual(await deps.importVersions(['templ_pkg', 'alpha_pkg', 'alpha_pkg.old_only']), { templ_pkg: '0.5', alpha_pkg: '0.1', 'alpha_pkg.old_only': 'no VERSION' });
  });

  it('stays under the synced set, except for the distributions the sync installs again', async () => {
    const report = await deps.syncOk(index.url, ['alpha-pkg==1.0', 'ns-two']);
    const listed = Object.fromEntries(report.installed_dependencies.map((d) => [d.name, d]));
    assert.deepEqual(Object.keys(listed).sort(), ['alpha-pkg', 'ns-one', 'ns-two', 'templ-pkg']);
    assert.equal(listed['alpha-pkg']!.version, '1.0');
    assert.equal(listed['alpha-pkg']!.is_from_template, false);
    assert.equal(listed['ns-two']!.is_from_template, false);
    assert.equal(listed['templ-pkg']!.is_from_template, true);
    assert.equal(listed['templ-pkg']!.version, '0.5');
    assert.equal(listed['templ-pkg']!.install_time, TEMPLATE_TIME.toISOString(), 'a template package was installed when the template was made');
    assert.equal(listed['ns-one']!.is_from_template, true);

    // the template's alpha-pkg files went with it: old_only.py is not importable any more
    assert.deepEqual(await deps.importVersions(['templ_pkg', 'alpha_pkg', 'alpha_pkg.old_only', 'nspkg.one', 'nspkg.two']), {
      templ_pkg: '0.5',
      alpha_pkg: '1.0',
      'alpha_pkg.old_only': null,
      'nspkg.one': 'ns-one',
      'nspkg.two': 'ns-two',
    });

    // the swap moved the template directory into the store, intact, and left a symlink in its place
    assert.ok(deps.isSymlink());
    const template = path.join(deps.storeDir, 'template');
    assert.ok(lstatSync(template).isDirectory());
    assert.ok(readdirSync(template).includes('alpha_pkg-0.1.dist-info'));
  });

  it('comes back in full when a sync no longer installs its distributions again', async () => {
    const report = await deps.syncOk(index.url, []);
    assert.deepEqual(report.installed_dependencies.map((d) => `${d.name}==${d.version}:${d.is_from_template}`).sort(), ['alpha-pkg==0.1:true', 'ns-one==1.0:true', 'templ-pkg==0.5:true']);
    assert.deepEqual(await deps.importVersions(['alpha_pkg', 'templ_pkg', 'nspkg.two']), { alpha_pkg: '0.1', templ_pkg: '0.5', 'nspkg.two': null });
  });

  it('survives a failed sync', async () => {
    const reply = await deps.sync(index.url, ['no-such-pkg']);
    assert.equal(reply.status, 422, reply.text);
    assert.deepEqual(await deps.importVersions(['alpha_pkg', 'templ_pkg']), { alpha_pkg: '0.1', templ_pkg: '0.5' });
  });
});

describe('DEPENDENCY_PATH linking to an operator-made template directory', () => {
  let deps: DependencyServer;
  let templateDir: string;
  before(async () => {
    deps = await DependencyServer.start({}, (dependencyPath) => {
      templateDir = path.join(path.dirname(dependencyPath), 'image-template');
      writeTemplate(templateDir);
      symlinkSync(templateDir, dependencyPath);
    });
  });
  after(async () => deps?.close());

  it('keeps that directory as the template, untouched, and links to it from the store', async () => {
    const report = await deps.syncOk(index.url, ['alpha-pkg==1.0']);
    assert.deepEqual(
      report.installed_dependencies
        .filter((d) => d.is_from_template)
        .map((d) => d.name)
        .sort(),
      ['ns-one', 'templ-pkg'],
    );
    assert.equal(realpathSync(path.join(deps.storeDir, 'template')), realpathSync(templateDir));
    assert.ok(readdirSync(templateDir).includes('alpha_pkg'), 'the template itself is never modified');
    assert.deepEqual(await deps.importVersions(['alpha_pkg', 'templ_pkg']), { alpha_pkg: '1.0', templ_pkg: '0.5' });
  });
});

describe('DEPENDENCY_PATH in a directory the server may not write', () => {
  it('swaps the first link of its chain that lives in a writable directory', { skip: NON_ROOT_ONLY }, async () => {
    let fixed = '';
    let swapPoint = '';
    const deps = await DependencyServer.start({}, (defaultPath) => {
      // like an image: /opt (not the server's) holds /opt/sandbox-venv -> a link the server may replace
      const readOnly = path.join(path.dirname(defaultPath), 'opt');
      const writable = path.join(path.dirname(defaultPath), 'var');
      mkdirSync(readOnly);
      mkdirSync(writable);
      swapPoint = path.join(writable, 'sandbox-venv');
      fixed = path.join(readOnly, 'sandbox-venv');
      symlinkSync(swapPoint, fixed);
      chmodSync(readOnly, 0o555);
      return fixed;
    });
    try {
      await deps.syncOk(index.url, ['alpha-pkg==1.0']);
      assert.equal(readlinkSync(fixed), swapPoint, 'the link in the read-only directory is unchanged');
      assert.match(readlinkSync(swapPoint), /sandbox-venv\.d\/set-/);
      assert.deepEqual(await deps.importVersions(['alpha_pkg']), { alpha_pkg: '1.0' });
    } finally {
      chmodSync(path.dirname(fixed), 0o755);
      await deps.close();
    }
  });

  it('answers 500 Executor.SessionConfigSyncError saying how to fix it when no link leads out', { skip: NON_ROOT_ONLY }, async () => {
    let readOnly = '';
    const deps = await DependencyServer.start({}, (defaultPath) => {
      readOnly = path.join(path.dirname(defaultPath), 'opt');
      mkdirSync(path.join(readOnly, 'sandbox-venv'), { recursive: true });
      chmodSync(readOnly, 0o555);
      return path.join(readOnly, 'sandbox-venv');
    });
    try {
      const reply = await deps.sync(index.url, ['alpha-pkg==1.0']);
      assert.equal(reply.status, 500, reply.text);
      assert.equal(reply.json.detail.error_code, 'Executor.SessionConfigSyncError');
      assert.match(reply.json.detail.description, /not writable.*symlink/);
    } finally {
      chmodSync(readOnly, 0o755);
      await deps.close();
    }
  });
});
