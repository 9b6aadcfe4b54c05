import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkFaultsProblem } from '../../../cluster/faults/net/capability.js';
import { FaultNetwork, listNamespaces } from '../../../cluster/faults/net/fault-network.js';
import { runFaultCli } from '../fault-cli.js';

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
  const { code, stdout, summary } = await runFaultCli(args, 280_000);

  assert.notEqual(summary, null, `no summary line; output:\n${stdout}`);
  const { operations, faults, violations } = summary!;
  assert.equal(violations, 0, stdout);
  assert.equal(code, 0, stdout);
  assert.ok(faults >= 4, `only ${faults} faults injected`);
  assert.ok(operations > OPERATIONS_FLOOR, `only ${operations} operations`);

  const left = (await listNamespaces()).filter((name) => name.startsWith(FaultNetwork.namespacePrefix(SEED)));
  assert.deepEqual(left, []);
});
