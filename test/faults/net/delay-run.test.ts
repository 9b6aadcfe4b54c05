import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { networkFaultsProblem } from '../../../cluster/faults/net/capability.js';
import { FaultNetwork, listNamespaces } from '../../../cluster/faults/net/fault-network.js';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../../../cluster/faults.ts', import.meta.url));
const SUMMARY = /^operations=(\d+) faults=(\d+) violations=(\d+)$/;
const SUBNET = /on (\d+\.\d+\.\d+)\.0\/24/;
const SEED = 19;
const DURATION_S = 30;
/** Minimum number of operations. Delays and partitions slow the calls, so this leaves room for a loaded machine. */
const OPERATIONS_FLOOR = 300;

const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(SEED)}probe`);

test('delays keep variables linearizable', { skip: problem ?? false, timeout: 300_000 }, async () => {
  const args = ['--seed', String(SEED), '--duration', String(DURATION_S), '--faults', 'delay,partition'];
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
  assert.match(stdout, /fault \d+ at [\d.]+ s: delay s\d/, 'no delay was injected');

  const left = (await listNamespaces()).filter((name) => name.startsWith(FaultNetwork.namespacePrefix(SEED)));
  assert.deepEqual(left, []);
  const subnet = SUBNET.exec(stdout)?.[1];
  assert.ok(subnet !== undefined, `no subnet in the output:\n${stdout}`);
  const { stdout: processes } = await run('ps', ['-eo', 'args']);
  const proxies = processes.split('\n').filter((line) => line.includes(`--listen ${subnet}.`));
  assert.deepEqual(proxies, [], 'delay proxies left running');
});
