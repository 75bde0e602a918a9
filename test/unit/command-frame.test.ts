// Command framing, end to end in one process boundary: the executor's encoder (encodeCommand)
// against sandbox-init's own parser (native/init/command_frame.c, compiled here with a small
// driver), so the two sides of the warm sandbox's control pipe cannot drift apart. Also frames
// the parser must refuse rather than misread. No sandbox, no namespaces.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from '../../src/sandbox/policy.js';
import { encodeCommand } from '../../src/sandbox/warm-sandbox.js';

/** sandbox-init's sources (this file runs as dist/test/unit/command-frame.test.js) */
const INIT_SOURCES = fileURLToPath(new URL('../../../native/init/', import.meta.url));

/** Runs the parser on one frame and prints what it read as NUL-terminated key/value pairs. */
const DRIVER = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_frame.h"

static void pair(const char *key, const char *value) {
  fwrite(key, 1, strlen(key) + 1, stdout);
  fwrite(value, 1, strlen(value) + 1, stdout);
}

int main(void) {
  static char input[COMMAND_FRAME_MAX_BYTES + 4];
  size_t size = fread(input, 1, sizeof input, stdin);
  uint32_t length = size < 4 ? 0 : command_frame_length((const unsigned char *)input);
  if (length == 0 || length > COMMAND_FRAME_MAX_BYTES || length != size - 4) {
    fprintf(stderr, "the header's length does not match the %zu bytes read\\n", size);
    return 1;
  }
  struct command_frame frame;
  const char *malformed = command_frame_parse(input + 4, length, &frame);
  if (malformed != NULL) {
    fprintf(stderr, "%s\\n", malformed);
    return 1;
  }
  char number[32];
  snprintf(number, sizeof number, "%llu", frame.cpu_soft);
  pair("cpu_soft", number);
  snprintf(number, sizeof number, "%llu", frame.cpu_hard);
  pair("cpu_hard", number);
  pair("cwd", frame.cwd);
  for (char **arg = frame.argv; *arg != NULL; arg++) pair("argv", *arg);
  for (char **env = frame.envp; *env != NULL; env++) pair("env", *env);
  return 0;
}
`;

interface Parsed {
  cpu_soft: string;
  cpu_hard: string;
  cwd: string;
  argv: string[];
  env: string[];
}

let dir: string;
let driver: string;

before(() => {
  assert.ok(existsSync(path.join(INIT_SOURCES, 'command_frame.c')), `sandbox-init's sources are not at ${INIT_SOURCES} (scripts/test.sh copies native/init beside dist/)`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'command-frame-'));
  driver = path.join(dir, 'driver');
  writeFileSync(path.join(dir, 'driver.c'), DRIVER);
  execFileSync('gcc', ['-O1', '-Wall', '-Wextra', '-Werror', '-I', INIT_SOURCES, '-o', driver, path.join(dir, 'driver.c'), path.join(INIT_SOURCES, 'command_frame.c')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function parse(frame: Buffer): { parsed: Parsed | null; error: string } {
  const r = spawnSync(driver, [], { input: frame, maxBuffer: 64 << 20 });
  if (r.status !== 0) return { parsed: null, error: r.stderr.toString().trim() };
  const fields = r.stdout.toString('utf8').split('\0').slice(0, -1);
  const parsed: Parsed = { cpu_soft: '', cpu_hard: '', cwd: '', argv: [], env: [] };
  for (let i = 0; i < fields.length; i += 2) {
    const key = fields[i] as keyof Parsed;
    const value = fields[i + 1]!;
    if (key === 'argv' || key === 'env') parsed[key].push(value);
    else parsed[key] = value;
  }
  return { parsed, error: '' };
}

/** A frame of raw fields, for the ones encodeCommand never makes. */
function rawFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length);
  return Buffer.concat([header, body]);
}

describe("command frame: encodeCommand read by sandbox-init's parser", () => {
  const commands: [string, Command, number][] = [
    ['a plain command', { argv: ['/usr/bin/python3', '-c', 'print(1)'], env: { PATH: '/usr/bin:/bin', HOME: '/workspace' }, cwd: '/workspace' }, 30],
    ['a release of the primed runtime (no argv)', { argv: [], env: { EXECUTION_ID: 'e-1' }, cwd: '/workspace' }, 1],
    ['empty strings, spaces, = in values, UTF-8', { argv: ['/bin/sh', '', 'a b', 'grüße ✓'], env: { EMPTY: '', EQ: 'a=b=c', UNI: 'ü\n✓' }, cwd: '/work space/ü' }, 3600],
    ['no environment', { argv: ['/bin/true'], env: {}, cwd: '/' }, 0],
    ['a thousand arguments', { argv: ['/bin/echo', ...Array.from({ length: 1000 }, (_, i) => `arg-${i}`)], env: { A: '1' }, cwd: '/tmp' }, 5],
  ];
  for (const [name, command, cpuSeconds] of commands) {
    it(`reads back ${name}`, () => {
      const { parsed, error } = parse(encodeCommand(command, cpuSeconds));
      assert.equal(error, '');
      assert.deepEqual(parsed, {
        cpu_soft: String(cpuSeconds),
        cpu_hard: String(cpuSeconds + 1),
        cwd: command.cwd,
        argv: command.argv,
        env: Object.entries(command.env).map(([k, v]) => `${k}=${v}`),
      });
    });
  }

  it('frames the payload length in the header, little endian', () => {
    const frame = encodeCommand({ argv: ['/bin/true'], env: {}, cwd: '/' }, 2);
    assert.equal(frame.readUInt32LE(0), frame.length - 4);
    assert.equal(frame.subarray(4).toString('latin1'), '2\x003\x00/\x001\x00/bin/true\x000\x00');
  });
});

describe('command frame: what sandbox-init refuses instead of misreading', () => {
  const refused: [string, string, RegExp][] = [
    ['a field without its NUL (truncated)', '1\x002\x00/\x000\x000', /malformed command: env/],
    ['fewer arguments than argc says', '1\x002\x00/\x003\x00/bin/true\x000\x00', /malformed command: (argv|env)/],
    ['an argc no payload could hold (it would be allocated first)', '1\x002\x00/\x0018446744073709551615\x00/bin/true\x000\x00', /malformed command: argv/],
    ['a negative count', '1\x002\x00/\x00-1\x00/bin/true\x000\x00', /malformed command: argv/],
    ['a count that is not a number', '1\x002\x00/\x00one\x00/bin/true\x000\x00', /malformed command: argv/],
    ['a cpu limit that is not a number', 'ten\x0011\x00/\x000\x000\x00', /malformed command: cpu limits/],
    ['bytes after the environment', '1\x002\x00/\x000\x000\x00extra\x00', /bytes after the environment/],
    ['no cwd', '1\x002\x00', /malformed command: cwd/],
  ];
  for (const [name, payload, reason] of refused) {
    it(`refuses ${name}`, () => {
      const { parsed, error } = parse(rawFrame(payload));
      assert.equal(parsed, null, `parsed as ${JSON.stringify(parsed)}`);
      assert.match(error, reason);
    });
  }
});
