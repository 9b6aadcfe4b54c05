import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { networkFaultsProblem } from '../../../cluster/faults/net/capability.js';
import { FaultNetwork, listNamespaces } from '../../../cluster/faults/net/fault-network.js';

const ENTRY = fileURLToPath(new URL('../../../cluster/faults.ts', import.meta.url));
const SUMMARY = /^operations=(\d+) faults=(\d+) violations=(\d+)$/;
const SEED = 17;
const DURATION_S = 35;
/**
 * Minimum number of operations. While a partition holds, a client whose server cannot reach a
 * quorum waits for its request timeout, so this run records fewer calls than one with process
 * faults; 300 leaves room for a loaded machine.
 */
const OPERATIONS_FLOOR = 300;

const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(SEED)}probe`);

test('partitions keep variables linearizable', { skip: problem ?? false, timeout: 300_000 }, async () => {
  const args = ['--seed', String(SEED), '--duration', String(DURATION_S)];
  args.push('--faults', 'partition,partition-leader,one-way,bridge');
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 280_000,
    killSignal: 'SIGINT',
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });

  const match = SUMMARY.exec(stdout.trimEnd().split('\n').at(-1) ?? '');
  assert.notEqual(match, null, `no summary line; output:\n${stdout}`);
  const [operations, faults, violations] = [Number(match![1]), Number(match![2]), Number(match![3])];
  assert.equal(violations, 0, stdout);
  assert.equal(code, 0, stdout);
  assert.ok(faults >= 4, `only ${faults} faults injected`);
  assert.ok(operations > OPERATIONS_FLOOR, `only ${operations} operations`);

  const left = (await listNamespaces()).filter((name) => name.startsWith(FaultNetwork.namespacePrefix(SEED)));
  assert.deepEqual(left, []);
});
