import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { networkFaultsProblem } from '../../../cluster/faults/net/capability.js';
import {
  chooseBasePort,
  DelayProxies,
  delayProxiesOf,
  proxiedServerPorts,
} from '../../../cluster/faults/net/delay-proxy-set.js';
import { FaultNetwork, type NetNode } from '../../../cluster/faults/net/fault-network.js';
import type { NetRule } from '../../../cluster/faults/net/rules.js';

const run = promisify(execFile);
/** A seed no fault run picks by default (those are below 2^31), distinct per test process. */
const SEED = 3_100_000_000 + (process.pid % 100_000);
const DELAY_MS = 150;
const CONNECT_TIMEOUT_MS = 1_000;
const KILL_TIMEOUT_MS = 5_000;

const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(SEED)}probe`);

/**
 * Starts, in `node`'s namespace, a TCP server on the node's RPC port that writes the address the
 * connection came from as its first line, then echoes. Resolves once it listens.
 */
function startEcho(node: NetNode, port: number): Promise<ChildProcess> {
  const script = `require('node:net').createServer((s) => { s.write(s.remoteAddress + '\\n'); s.pipe(s); }).listen(${port}, '${node.address}', () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', node.namespace, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`echo server in ${node.namespace} exited with code ${code}`)),
    );
    child.stdout.once('data', () => resolve(child));
  });
}

/**
 * SIGKILLs every process in `namespace` and resolves once they are gone. In a node's namespace
 * without an echo server, that is the node's delay proxy.
 */
async function killProcessesIn(namespace: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'pids', namespace]);
  const pids = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
  assert.ok(pids.length > 0, `no process runs in ${namespace}`);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + KILL_TIMEOUT_MS;
  while ((await run('ip', ['netns', 'pids', namespace])).stdout.trim() !== '') {
    assert.ok(
      Date.now() < deadline,
      `processes in ${namespace} still run ${KILL_TIMEOUT_MS} ms after SIGKILL`,
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Probe {
  /** The address the echo server saw the connection come from. */
  readonly seenFrom: string;
  /** Time from sending a line to reading it back, in ms. */
  readonly roundTripMs: number;
}

/**
 * Connects to `address:port` from `namespace` (or from this namespace when null), reads the echo
 * server's first line, then times one round trip. Raises when the connection does not open.
 */
async function probe(namespace: string | null, address: string, port: number): Promise<Probe> {
  const script = `
const socket = require('node:net').connect({ host: '${address}', port: ${port}, timeout: ${CONNECT_TIMEOUT_MS} });
socket.once('timeout', () => process.exit(2));
socket.once('error', () => process.exit(3));
let text = '';
let sentAt = 0;
let seenFrom = null;
socket.on('data', (chunk) => {
  text += chunk;
  if (seenFrom === null && text.includes('\\n')) {
    socket.setTimeout(0);
    seenFrom = text.slice(0, text.indexOf('\\n'));
    text = text.slice(text.indexOf('\\n') + 1);
    sentAt = performance.now();
    socket.write('ping');
  }
  if (seenFrom !== null && text === 'ping') {
    console.log(JSON.stringify({ seenFrom, roundTripMs: performance.now() - sentAt }));
    process.exit(0);
  }
});`;
  const command = namespace === null ? [] : ['ip', 'netns', 'exec', namespace];
  const [program, ...args] = [...command, process.execPath, '-e', script];
  const { stdout } = await run(program!, args);
  return JSON.parse(stdout) as Probe;
}

describe('delay proxies', { skip: problem ?? false }, () => {
  let network: FaultNetwork;
  let proxies: DelayProxies;
  let echo: ChildProcess | null = null;
  let s1: NetNode;
  let s2: NetNode;
  let rpcPort: number;

  before(async () => {
    network = await FaultNetwork.create(SEED, ['s1', 's2', 's3']);
    const basePort = await chooseBasePort(SEED, 3);
    proxies = await DelayProxies.start(network, basePort, SEED);
    [s1, s2] = network.nodes() as [NetNode, NetNode];
    rpcPort = proxiedServerPorts(basePort, 1).rpcPort;
    echo = await startEcho(s1, rpcPort);
  });

  after(async () => {
    echo?.kill('SIGKILL');
    await proxies?.stop();
    await network?.remove();
  });

  test('are attached to their network', () => {
    assert.equal(delayProxiesOf(network), proxies);
  });

  test('carry peer traffic, not client traffic', async () => {
    const fromPeer = await probe(s2.namespace, s1.address, rpcPort);
    assert.equal(fromPeer.seenFrom, s1.address, 'a peer connection should arrive from the proxy beside s1');
    const fromClient = await probe(null, s1.address, rpcPort);
    assert.equal(fromClient.seenFrom, network.rootAddress, 'a client connection should arrive directly');
  });

  /** Delays `target`, then requires a round trip from s2 to s1 to take at least twice the delay. */
  async function assertDelayedRoundTrip(target: NetNode): Promise<void> {
    await proxies.delay(target, DELAY_MS, 0);
    try {
      const { roundTripMs } = await probe(s2.namespace, s1.address, rpcPort);
      assert.ok(
        roundTripMs >= 2 * DELAY_MS,
        `round trip ${roundTripMs.toFixed(1)} ms, expected >= ${2 * DELAY_MS}`,
      );
    } finally {
      await proxies.clear();
    }
  }

  test('delay both directions to the target', () => assertDelayedRoundTrip(s1));

  test('delay traffic from a delayed peer', () => assertDelayedRoundTrip(s2));

  test('leave partition rules in force', async () => {
    const cut: NetRule[] = [{ namespace: s1.namespace, spec: ['-s', s2.address, '-j', 'DROP'] }];
    await network.addRules(cut);
    try {
      await assert.rejects(probe(s2.namespace, s1.address, rpcPort), 'a cut peer still reached s1');
    } finally {
      await network.deleteRules(cut);
    }
    const healed = await probe(s2.namespace, s1.address, rpcPort);
    assert.equal(healed.seenFrom, s1.address);
  });

  // Runs last but one, because it kills the proxy in front of s3.
  test('failed delay clears the others', async () => {
    const s3 = network.nodes()[2]!;
    assert.deepEqual(proxies.crashed(), []);
    await killProcessesIn(s3.namespace);

    await assert.rejects(proxies.delay(s1, DELAY_MS, 0), /delay proxy in front of s3/);
    assert.deepEqual(proxies.crashed(), ['delay proxy in front of s3 exited (code null, signal SIGKILL)']);

    const { roundTripMs } = await probe(s2.namespace, s1.address, rpcPort);
    assert.ok(
      roundTripMs < DELAY_MS,
      `round trip ${roundTripMs.toFixed(1)} ms after the delay failed, expected < ${DELAY_MS}`,
    );
  });

  test('stop detaches them', async () => {
    await proxies.stop();
    assert.deepEqual(proxies.crashed(), [], 'a proxy that stop() ended counted as crashed');
    assert.equal(delayProxiesOf(network), null);
    await assert.rejects(
      probe(s2.namespace, s1.address, rpcPort),
      'a peer reached s1 with its proxy stopped',
    );
  });
});
