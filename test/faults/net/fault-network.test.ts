import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { FaultContext, FaultKind } from '../../../cluster/faults/faults/fault.js';
import { FAULTS } from '../../../cluster/faults/faults/registry.js';
import { networkFaultsProblem } from '../../../cluster/faults/net/capability.js';
import { FaultNetwork, listNamespaces } from '../../../cluster/faults/net/fault-network.js';
import { listFaultRules } from '../../../cluster/faults/net/rules.js';
import type { Cluster } from '../../../cluster/launcher.js';
import { Prng } from '../../sim/prng.js';

const run = promisify(execFile);
/** A seed no fault run picks by default (those are below 2^31), distinct per test process. */
const SEED = 3_000_000_000 + (process.pid % 100_000);
const SERVERS = ['s1', 's2', 's3'];
const LISTEN_PORT = 7_411;
const CONNECT_TIMEOUT_MS = 1_000;

const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(SEED)}probe`);

/** Builds a cluster with only what the network faults read: the members' names and the leader. */
function stubCluster(leader: string): Cluster {
  const servers = SERVERS.map((name) => ({ name }));
  return {
    servers: () => servers,
    waitForLeader: async () => servers.find((server) => server.name === leader),
  } as unknown as Cluster;
}

function contextFor(network: FaultNetwork, leader = 's1'): FaultContext {
  return { cluster: stubCluster(leader), random: new Prng(SEED, 1), network };
}

async function allRules(network: FaultNetwork): Promise<string[]> {
  const rules = await Promise.all(network.nodes().map((node) => listFaultRules(node.namespace)));
  return rules.flat();
}

/** Starts a TCP server on `address` inside `namespace` and resolves once it listens. */
function listenIn(namespace: string, address: string): Promise<ChildProcess> {
  const script = `require('node:net').createServer((s) => s.end()).listen(${LISTEN_PORT}, '${address}', () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`listener in ${namespace} exited with code ${code}`)));
    child.stdout.once('data', () => resolve(child));
  });
}

/** True when a TCP connection to `address` opens within CONNECT_TIMEOUT_MS from this namespace. */
function connectsFromHere(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: LISTEN_PORT, timeout: CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Returns whether a TCP connection to `address` opens from `namespace`, through a child process there. */
async function connectsFrom(namespace: string, address: string): Promise<boolean> {
  const script = `const s = require('node:net').connect({ host: '${address}', port: ${LISTEN_PORT}, timeout: ${CONNECT_TIMEOUT_MS} });
s.once('connect', () => process.exit(0)); s.once('timeout', () => process.exit(1)); s.once('error', () => process.exit(1));`;
  try {
    await run('ip', ['netns', 'exec', namespace, process.execPath, '-e', script]);
    return true;
  } catch {
    return false;
  }
}

describe('fault network', { skip: problem ?? false }, () => {
  let network: FaultNetwork;
  let listener: ChildProcess | null = null;

  before(async () => {
    network = await FaultNetwork.create(SEED, SERVERS);
  });

  after(async () => {
    listener?.kill('SIGKILL');
    await network.remove();
  });

  test('starts with empty fault chains', async () => {
    assert.deepEqual(await allRules(network), []);
  });

  for (const kind of ['partition', 'partition-leader', 'bridge', 'one-way', 'loss'] satisfies FaultKind[]) {
    test(`${kind} heals to no rule`, async () => {
      const active = await FAULTS[kind].inject(contextFor(network));
      assert.notEqual((await allRules(network)).length, 0, `${kind} added no rule: ${active.description}`);
      await active.heal();
      assert.deepEqual(await allRules(network), []);
    });
  }

  test('partition-leader cuts peers, not clients', async () => {
    const [s1, s2] = network.nodes();
    listener = await listenIn(s1!.namespace, s1!.address);
    assert.equal(await connectsFrom(s2!.namespace, s1!.address), true, 'peer before the fault');

    const active = await FAULTS['partition-leader'].inject(contextFor(network, 's1'));
    assert.equal(await connectsFrom(s2!.namespace, s1!.address), false, 'peer during the fault');
    assert.equal(await connectsFromHere(s1!.address), true, 'client during the fault');

    await active.heal();
    assert.equal(await connectsFrom(s2!.namespace, s1!.address), true, 'peer after the heal');
  });

  test('remove leaves no namespace or link', async () => {
    await network.remove();
    const left = (await listNamespaces()).filter((name) =>
      name.startsWith(FaultNetwork.namespacePrefix(SEED)),
    );
    assert.deepEqual(left, []);
    const { stdout } = await run('ip', ['-o', 'link', 'show']);
    assert.equal(stdout.includes(`${FaultNetwork.rootLinkName(SEED)}@`), false);
  });
});

test('network faults refuse a run without namespaces', async () => {
  const context: FaultContext = { cluster: stubCluster('s1'), random: new Prng(SEED, 2), network: null };
  await assert.rejects(FAULTS.partition.inject(context), { code: 'NO_FAULT_NETWORK', kind: 'partition' });
});
