// Who a sandboxed process is (inside and on the host) and what network it has: uid/gid 1000
// without capabilities, no_new_privs and a seccomp filter, its own namespaces, a host uid that is
// never 0, and a network namespace with nothing but a loopback that leads nowhere on the host.
import assert from 'node:assert/strict';
import { existsSync, readlinkSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ids, killMarked, pollFor, procStatus, processesWithMarker, uniqueMarker } from '../helpers/processes.js';
import { BACKENDS, bash, describeRun, EXPECTED_HOST_GID, EXPECTED_HOST_UID, python, SandboxFixture, sh } from '../helpers/sandbox-host.js';

const fixture = await SandboxFixture.start();

/**
 * bwrap nests two user namespaces and creates the pid and ipc namespaces in the outer one,
 * whose root is the sandbox's own host uid: the kernel's "euid is the namespace owner's root"
 * checks on /proc/sys then pass for the sandboxed process, without any capability.
 */
const BWRAP_NAMESPACE_ROOT =
  "bwrap: the sandbox's euid is root of the user namespace owning its pid and ipc namespaces, so their sysctls (kernel.pid_max, kernel.shmmax, kernel.msgmax, ...) are writable from inside";

/** Parses "Key:\tvalue" lines printed by the sandbox. */
function statusFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

describe('identity and network', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('runs as uid/gid 1000 with no capabilities, no_new_privs and a seccomp filter', async () => {
        const r = await fixture.run(backend, { argv: ['/bin/cat', '/proc/self/status'] });
        assert.equal(r.exitCode, 0, describeRun(r));
        const status = statusFields(r.out);
        assert.deepEqual(ids(status.Uid), [1000, 1000, 1000, 1000], `Uid: ${status.Uid}`);
        assert.deepEqual(ids(status.Gid), [1000, 1000, 1000, 1000], `Gid: ${status.Gid}`);
        // no supplementary group of the server (a root server's group 0) may follow the sandbox in
        assert.ok(
          ids(status.Groups).every((g) => g === 1000),
          `Groups: ${status.Groups}`,
        );
        for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
          assert.equal(status[set], '0000000000000000', `${set}: ${status[set]}`);
        }
        assert.equal(status.NoNewPrivs, '1');
        assert.equal(status.Seccomp, '2', 'seccomp mode 2 (filter)');
      });

      it('cannot regain privileges: setuid(0) and writing its own uid_map fail', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import os
for what, attempt in [('setuid0', lambda: os.setuid(0)), ('setgid0', lambda: os.setgid(0)), ('setgroups', lambda: os.setgroups([0]))]:
    try:
        attempt(); print(what, 'ALLOWED')
    except OSError as e:
        print(what, e.errno)
try:
    with open('/proc/self/uid_map', 'w') as f: f.write('0 1000 1\\n')
    print('uid_map ALLOWED')
except OSError as e:
    print('uid_map', e.errno)
print('uid', os.getuid(), os.geteuid())
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.doesNotMatch(r.out, /ALLOWED/, r.out);
        // EPERM, or EINVAL: uid/gid 0 does not even exist in the sandbox's user namespace
        assert.match(r.out, /^setuid0 (1|22)$/m);
        assert.match(r.out, /^setgid0 (1|22)$/m);
        assert.match(r.out, /^setgroups 1$/m);
        assert.match(r.out, /^uid_map 1$/m);
        assert.match(r.out, /^uid 1000 1000$/m);
      });

      it("cannot change its namespaces' kernel settings through /proc/sys", { todo: backend === 'bwrap' ? BWRAP_NAMESPACE_ROOT : false }, async () => {
        const settings = ['kernel/pid_max', 'kernel/hostname', 'kernel/shmmax', 'kernel/msgmax', 'net/ipv4/ping_group_range', 'net/ipv4/ip_forward', 'net/core/somaxconn'];
        const r = await fixture.run(backend, {
          argv: python(
            `
import sys
for name in sys.argv[1:]:
    path = '/proc/sys/' + name
    try:
        value = open(path).read()
        with open(path, 'w') as f: f.write(value)
        print(name, 'WRITABLE')
    except OSError as e:
        print(name, 'refused', e.errno)
`,
            ...settings,
          ),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        for (const name of settings) assert.match(r.out, new RegExp(`^${name} refused (13|1|30)$`, 'm'), r.out);
      });

      it('has its own user, mount, pid, network, ipc, uts and cgroup namespaces, and hostname "sandbox"', async () => {
        const kinds = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup'];
        const r = await fixture.run(backend, { argv: sh(`for n in ${kinds.join(' ')}; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "hostname $(cat /proc/sys/kernel/hostname)"`) });
        assert.equal(r.exitCode, 0, describeRun(r));
        for (const kind of kinds) {
          const inside = new RegExp(`^${kind} (\\S+)$`, 'm').exec(r.out)?.[1];
          assert.ok(inside?.startsWith(`${kind}:[`), `no ${kind} namespace link inside: ${r.out}`);
          assert.notEqual(inside, readlinkSync(`/proc/self/ns/${kind}`), `${kind} namespace shared with the host`);
        }
        assert.match(r.out, /^hostname sandbox$/m);
      });

      it(`runs as host uid ${EXPECTED_HOST_UID} (never 0): a file it creates and every process of the sandbox, seen from the host`, async () => {
        const marker = uniqueMarker('hostuid');
        const { run, workspace } = fixture.start(backend, { argv: bash(`echo hi > /workspace/made-inside; exec -a ${marker} sleep 30`) });
        try {
          const sleeper = await pollFor(() => processesWithMarker(marker).find((p) => p.cmdline.startsWith(`${marker} `)), 10_000);
          assert.ok(sleeper, 'the sandboxed sleep never appeared in the host /proc');
          // sandbox-init (and bwrap) carry the marker in their argv too: the whole sandbox is checked
          const sandboxProcesses = processesWithMarker(marker);
          assert.ok(sandboxProcesses.length >= 2, `expected init and the command, saw ${JSON.stringify(sandboxProcesses)}`);
          for (const p of sandboxProcesses) {
            const status = procStatus(p.pid);
            if (!status) continue; // ended meanwhile
            assert.deepEqual(ids(status.Uid), Array(4).fill(EXPECTED_HOST_UID), `host Uid of ${p.cmdline}: ${status.Uid}`);
            assert.deepEqual(ids(status.Gid), Array(4).fill(EXPECTED_HOST_GID), `host Gid of ${p.cmdline}: ${status.Gid}`);
            assert.ok(!ids(status.Groups).includes(0), `host Groups of ${p.cmdline}: ${status.Groups}`);
            assert.equal(status.CapEff, '0000000000000000', `host CapEff of ${p.cmdline}`);
          }
          const made = statSync(path.join(workspace, 'made-inside'));
          assert.equal(made.uid, EXPECTED_HOST_UID, 'owner of a file the sandbox created');
          assert.notEqual(made.uid, 0);
        } finally {
          run.kill('timeout');
          await run.result;
          killMarked(marker);
        }
      });

      it('sees only a loopback interface', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import socket
print('ifaces', ' '.join(sorted(name for _, name in socket.if_nameindex())))
for line in open('/proc/net/dev').read().splitlines()[2:]:
    print('dev', line.split(':')[0].strip())
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^ifaces lo$/m);
        const devices = [...r.out.matchAll(/^dev (\S+)$/gm)].map((m) => m[1]);
        assert.deepEqual(devices, ['lo']);
      });

      it("cannot reach a TCP server on the host's 127.0.0.1", async () => {
        let connections = 0;
        const server = net.createServer((socket) => {
          connections++;
          socket.end('hello from the host\n');
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const port = (server.address() as net.AddressInfo).port;
        try {
          const r = await fixture.run(backend, {
            argv: python(
              `
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect(('127.0.0.1', int(sys.argv[1])))
    print('CONNECTED', s.recv(100))
except OSError as e:
    print('refused', e.errno)
`,
              String(port),
            ),
          });
          assert.equal(r.exitCode, 0, describeRun(r));
          assert.doesNotMatch(r.out, /CONNECTED/);
          // ECONNREFUSED (nothing listens on the sandbox's own loopback) or ENETUNREACH (loopback down)
          assert.match(r.out, /^refused (111|101)$/m, r.out);
          assert.equal(connections, 0, 'the host server saw a connection from the sandbox');
          // the control: the host itself does reach the server, so the port was really open
          await new Promise<void>((resolve, reject) => {
            const client = net.connect(port, '127.0.0.1', () => client.end());
            client.resume(); // read to the end, or 'close' never comes
            client.on('close', () => resolve());
            client.on('error', reject);
          });
          await pollFor(() => (connections === 1 ? true : undefined), 2000);
          assert.equal(connections, 1);
        } finally {
          server.close();
        }
      });

      it("cannot connect to the host's abstract unix sockets (they belong to the network namespace)", async () => {
        let connections = 0;
        const name = `sandbox-test-${process.pid}-${backend}`;
        const server = net.createServer((socket) => {
          connections++;
          socket.end();
        });
        await new Promise<void>((resolve) => server.listen({ path: `\0${name}` }, resolve));
        try {
          const r = await fixture.run(backend, {
            argv: python(
              `
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\\0' + sys.argv[1]); print('CONNECTED')
except OSError as e:
    print('refused', e.errno)
`,
              name,
            ),
          });
          assert.equal(r.exitCode, 0, describeRun(r));
          assert.match(r.out, /^refused 111$/m, r.out); // ECONNREFUSED: no such socket in its namespace
          assert.equal(connections, 0);
        } finally {
          server.close();
        }
      });

      it('can use its own loopback: a server inside is reachable from inside', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import socket
server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()
client = socket.socket(); client.settimeout(3)
try:
    client.connect(server.getsockname())
    peer, _ = server.accept(); peer.sendall(b'pong'); print('got', client.recv(4).decode())
except OSError as e:
    print('loopback failed', e)
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^got pong$/m, r.out);
      });

      it('does not share its loopback with another sandbox running at the same time (network namespaces made ahead are never reused)', async () => {
        const port = 40000 + (process.pid % 20000);
        // several pairs: the native backend's sandboxes join network namespaces it prepared ahead
        for (let round = 0; round < 2; round++) {
          const listener = fixture.start(backend, {
            argv: python(
              `
import socket, sys
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1]))); server.listen(); server.settimeout(1.5)
open('/workspace/listening', 'w').close()
try:
    server.accept(); print('ACCEPTED')
except socket.timeout:
    print('nobody came')
`,
              String(port),
            ),
          });
          const listening = await pollFor(() => (existsSync(path.join(listener.workspace, 'listening')) ? true : undefined), 10_000);
          assert.ok(listening, 'the listening sandbox never got to listen');
          const client = await fixture.run(backend, {
            argv: python(
              `
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(('127.0.0.1', int(sys.argv[1]))); print('CONNECTED')
except OSError as e:
    print('refused', e.errno)
`,
              String(port),
            ),
          });
          const listened = await listener.run.result;
          assert.equal(client.exitCode, 0, describeRun(client));
          assert.match(client.out, /^refused 111$/m, client.out);
          assert.match(listened.stdout.head.toString(), /^nobody came$/m);
        }
      });

      it('cannot resolve or reach outside names: no route to any address', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import socket
for addr in [('1.1.1.1', 53), ('10.0.0.1', 80)]:
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect(addr); print('CONNECTED', addr)
    except OSError as e:
        print('unreachable', e.errno)
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.doesNotMatch(r.out, /CONNECTED/);
        assert.equal([...r.out.matchAll(/^unreachable 101$/gm)].length, 2, r.out); // ENETUNREACH
      });
    });
  }
});
