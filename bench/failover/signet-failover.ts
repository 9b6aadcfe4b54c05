import { join } from 'node:path';
import { pino } from 'pino';
import { requestJson } from '../../cluster/http-client.js';
import { Cluster, type ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { SimulatedFleet } from '../../test/support/simulated-nodes.js';
import { IdentityWatch } from './identity-watch.js';
import { JobLoad } from './job-load.js';
import type { JobRegisterSummary } from './job-register-loop.js';
import { readTakeoverSteps } from './takeover-log.js';

export interface FailoverSizes {
  readonly trials: number;
  /** Simulated client nodes that receive the allocations. */
  readonly nodes: number;
}

/** One kill of a Signet leader. Times are in ms from the SIGKILL, and null when the log lacks the line. */
export interface SignetTrial {
  readonly trial: number;
  readonly killed: string;
  readonly newLeader: string;
  /** Time until a survivor's GET /v1/status/leader returned another server, as etcd is measured. */
  readonly leaderMs: number;
  /** Time until a survivor returned the first allocation signed by the new leader (the row's figure). */
  readonly signedMs: number;
  /** Times of the first PreVote, `became leader` and `leader services started`, from the survivors' logs. */
  readonly campaignMs: number | null;
  readonly electedMs: number | null;
  readonly servicesMs: number | null;
  /** Time of that allocation's CreateTime, stamped when the new leader's scheduler worker planned it. */
  readonly allocCreatedMs: number;
  readonly observedOn: string;
  readonly allocCreateIndex: number;
  /** Time from the restart of the killed server until it has applied the leader's commit index. */
  readonly rejoinMs: number;
}

export interface SignetFailover {
  readonly trials: readonly SignetTrial[];
  readonly load: JobRegisterSummary;
}

/** Interval between polls of the survivors' leader status, in ms, for Signet and etcd alike. */
export const LEADER_POLL_MS = 5;
/** Concurrent registration loops of the load process, and the pause each makes after a success. */
const LOAD_LOOPS = 2;
const LOAD_PAUSE_MS = 100;
const TRIAL_TIMEOUT_MS = 30_000;

interface AgentSelf {
  readonly stats: {
    readonly raft: { readonly applied_index: string; readonly commit_index: string };
  };
}

/**
 * Kills the leader of a 3-server Signet cluster (separate processes, fsync on, ACLs on) with
 * SIGKILL `sizes.trials` times. Meanwhile a load process registers one-allocation jobs through
 * random servers. Each trial measures the time until a survivor returns an allocation that the
 * new leader signed (see IdentityWatch). The simulated client nodes run in this process. After
 * each trial the killed server starts again on its data folder, and the next trial waits until it
 * has caught up.
 */
export async function measureSignetFailover(
  sizes: FailoverSizes,
  root: string,
  progress: (message: string) => void,
): Promise<SignetFailover> {
  const cluster = await Cluster.start({
    servers: 3,
    acl: true,
    dataRoot: join(root, 'signet'),
    startTimeoutMs: 90_000,
    // The takeover steps come from info lines: `became leader`, `leader services started`.
    logLevel: 'info',
  });
  const logger = pino({ level: 'silent' });
  let fleet: SimulatedFleet | null = null;
  let load: JobLoad | null = null;
  try {
    const headers = cluster.authHeaders();
    const first = await cluster.waitForLeader(60_000);
    progress(`3 servers up, leader ${first.name}; starting ${sizes.nodes} simulated nodes`);
    fleet = await SimulatedFleet.start({
      count: sizes.nodes,
      servers: cluster.servers().map((server) => server.rpcAddr),
      logger,
      // Room for every allocation of the run, so that no registration is blocked on capacity.
      resources: { CPU: 1_000_000, MemoryMB: 1_000_000 },
    });
    await waitFor(`${sizes.nodes} nodes`, { timeoutMs: 60_000, intervalMs: 50 }, async () => {
      const nodes = await requestJson<unknown[]>(first.httpAddr, 'GET', '/v1/nodes', { headers });
      return nodes.length === sizes.nodes ? done(true) : pending(`${nodes.length} nodes`);
    });
    load = JobLoad.start({
      servers: cluster.servers().map((server) => server.httpAddr),
      token: cluster.managementToken,
      loops: LOAD_LOOPS,
      pauseMs: LOAD_PAUSE_MS,
      prefix: 'failover',
    });

    const trials: SignetTrial[] = [];
    for (let trial = 1; trial <= sizes.trials; trial++) {
      const result = await runTrial(cluster, fleet, trial, logger);
      trials.push(result);
      progress(
        `Signet trial ${trial}/${sizes.trials}: killed ${result.killed}; ${result.newLeader} leads after ${Math.round(result.leaderMs)} ms, first identity it signed after ${Math.round(result.signedMs)} ms; ${result.killed} caught up ${Math.round(result.rejoinMs)} ms after its restart`,
      );
    }
    const summary = await load.stop();
    load = null;
    return { trials, load: summary };
  } finally {
    await load?.stop().catch(() => undefined);
    await fleet?.stop();
    await cluster.stop();
  }
}

async function runTrial(
  cluster: Cluster,
  fleet: SimulatedFleet,
  trial: number,
  logger: pino.Logger,
): Promise<SignetTrial> {
  const leader = await cluster.waitForLeader(60_000);
  const survivors = cluster.live().filter((server) => server !== leader);
  const nodes = fleet.nodes.map((node) => ({ id: node.id, secretId: node.secretId }));
  const watch = await IdentityWatch.open(survivors, nodes, logger);
  try {
    // The kill lands while allocations flow: one signed since this trial began has reached a survivor.
    await watch.firstSignedAfter(Date.now(), TRIAL_TIMEOUT_MS);

    const killedWallMs = Date.now();
    const killedAt = performance.now();
    await leader.kill('SIGKILL');
    // The old leader's process has exited, so anything created after this instant is not its work.
    const exitedWallMs = Date.now();
    const [elected, signed] = await Promise.all([
      waitForNewLeader(survivors, leader),
      watch.firstSignedAfter(exitedWallMs, TRIAL_TIMEOUT_MS),
    ]);
    const leaderMs = elected.atMs - killedAt;
    const signedMs = signed.observedAtMs - killedAt;

    const steps = readTakeoverSteps(
      await Promise.all(survivors.map((server) => server.readLog())),
      await elected.server.readLog(),
      killedWallMs,
    );
    const sinceKill = (wallMs: number | null) => (wallMs === null ? null : wallMs - killedWallMs);

    const restartedAt = performance.now();
    await leader.restart();
    await waitForCaughtUp(cluster, leader);
    return {
      trial,
      killed: leader.name,
      newLeader: elected.server.name,
      leaderMs,
      signedMs,
      campaignMs: sinceKill(steps.campaignAtMs),
      electedMs: sinceKill(steps.electedAtMs),
      servicesMs: sinceKill(steps.servicesAtMs),
      allocCreatedMs: signed.createdAtMs - killedWallMs,
      observedOn: signed.observedOn,
      allocCreateIndex: signed.createIndex,
      rejoinMs: performance.now() - restartedAt,
    };
  } finally {
    watch.close();
  }
}

/**
 * Polls GET /v1/status/leader on every survivor each LEADER_POLL_MS until one of them returns the
 * RPC address of a survivor, and returns that server and the performance.now() of the reply.
 */
function waitForNewLeader(
  survivors: readonly ServerHandle[],
  killed: ServerHandle,
): Promise<{ server: ServerHandle; atMs: number }> {
  const options = { timeoutMs: TRIAL_TIMEOUT_MS, intervalMs: LEADER_POLL_MS };
  return waitFor(`a leader other than ${killed.name}`, options, async () => {
    const answers = await Promise.all(
      survivors.map((server) =>
        requestJson<string>(server.httpAddr, 'GET', '/v1/status/leader', { timeoutMs: 1_000 }).catch(
          () => '',
        ),
      ),
    );
    const atMs = performance.now();
    const server = survivors.find((survivor) => answers.includes(survivor.rpcAddr));
    return server === undefined ? pending(`survivors report ${answers.join(', ')}`) : done({ server, atMs });
  });
}

/**
 * Waits until every live server agrees on the leader and `restarted` has applied the leader's
 * commit index, read once its HTTP API is up, so the next kill does not hit a lagging cluster.
 */
async function waitForCaughtUp(cluster: Cluster, restarted: ServerHandle): Promise<void> {
  const headers = cluster.authHeaders();
  const leader = await cluster.waitForLeader(TRIAL_TIMEOUT_MS, 20);
  const self = (server: ServerHandle) =>
    requestJson<AgentSelf>(server.httpAddr, 'GET', '/v1/agent/self', { headers, timeoutMs: 2_000 });
  const target = Number((await self(leader)).stats.raft.commit_index);
  await waitFor(
    `${restarted.name} to catch up`,
    { timeoutMs: TRIAL_TIMEOUT_MS, intervalMs: 20 },
    async () => {
      const applied = Number((await self(restarted)).stats.raft.applied_index);
      return applied >= target ? done(undefined) : pending(`applied ${applied} of ${target}`);
    },
  );
}
