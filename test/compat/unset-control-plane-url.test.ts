// The reference control plane's Docker scheduler writes its settings into the executor's
// environment as `NAME=value` text, so a control plane URL it does not have arrives as
// CONTROL_PLANE_URL=None. That container must still serve (standalone, and say so at start), not
// stop at start as a bad setting would: a stopped container is a lost session.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { executorDirs, executorEnv, getJson, submit } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';

describe('CONTROL_PLANE_URL holding a word for "unset"', () => {
  const dirs = executorDirs('unset-cp-url');
  const executors: ExecutorProcess[] = [];

  after(async () => {
    for (const executor of executors) await executor.kill();
    dirs.remove();
  });

  for (const word of ['None', 'null']) {
    it(`CONTROL_PLANE_URL=${word}: the executor serves standalone and warns at start`, async () => {
      const executor = await ExecutorProcess.start(executorEnv(dirs, { CONTROL_PLANE_URL: word }));
      executors.push(executor);

      const info = await getJson(`${executor.url}/info`);
      assert.equal(info.body.mode, 'standalone');
      const warning = executor.output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string; CONTROL_PLANE_URL?: string })
        .find((line) => line.CONTROL_PLANE_URL === word);
      assert.ok(warning, `a start-up line names the value:\n${executor.output}`);
      assert.equal(warning.level, 40, 'logged as a warning');
      assert.match(warning.msg, /running standalone/);

      const ran = await submit(executor.url, { execution_id: `exec_unset_url_${word}`, code: 'echo served' }, '?wait=true');
      assert.equal(ran.status, 200);
      assert.equal(ran.body.status, 'success');
      assert.equal(ran.body.stdout, 'served\n');
      await executor.kill();
    });
  }
});
