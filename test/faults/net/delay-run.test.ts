import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { networkFaultsProblem } from '../../../cluster/faults/net/capability.js';
import { FaultNetwork, listNamespaces } from '../../../cluster/faults/net/fault-network.js';
import { runFaultCli } from '../fault-cli.js';

const run = promisify(execFile);
const SUBNET = /on (\d+\.\d+\.\d+)\.0\/24/;
const SEED = 19;
const DURATION_S = 30;
/** Minimum number of operations. Delays and partitions slow the calls, so this leaves room for a loaded machine. */
const OPERATIONS_FLOOR = 300;

const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(SEED)}probe`);

test('delays keep variables linearizable', { skip: problem ?? false, timeout: 300_000 }, async () => {
  const args = ['--seed', String(SEED), '--duration', String(DURATION_S), '--faults', 'delay,partition'];
  const { code, stdout, summary } = await runFaultCli(args, 280_000);

  assert.notEqual(summary, null, `no summary line; output:\n${stdout}`);
  const { operations, faults, violations } = summary!;
  assert.equal(violations, 0, stdout);
  assert.equal(code, 0, stdout);
  assert.ok(faults >= 4, `only ${faults} faults injected`);
  assert.ok(operations > OPERATIONS_FLOOR, `only ${operations} operations`);
  assert.match(stdout, /fault \d+ at [\d.]+ s: delay s\d/, 'no delay was injected');

  const left = (await listNamespaces()).filter((name) => name.startsWith(FaultNetwork.namespacePrefix(SEED)));
  assert.deepEqual(left, []);
  const subnet = SUBNET.exec(stdout)?.[1];
  assert.ok(subnet !== undefined, `no subnet in the output:\n${stdout}`);
  const { stdout: processes } = await run('ps', ['-eo', 'args']);
  const proxies = processes.split('\n').filter((line) => line.includes(`--listen ${subnet}.`));
  assert.deepEqual(proxies, [], 'delay proxies left running');
});
