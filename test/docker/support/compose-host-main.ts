// Runs the compose file's services as containers without Docker, inside the namespaces that
// `unshare --net --mount --pid --fork` made for it, and writes what it observed as JSON. The
// compose test starts it; see test/docker/compose-cluster.test.ts. Every process it starts is in
// its PID namespace, so all of them end when it exits.
//
// Phase 1 starts the services as `docker-compose up` does: the servers, then, once their
// healthchecks pass, the clients. Phase 2 replaces the three server containers with new ones at
// new addresses, as `docker-compose up --force-recreate` can, keeping their volumes.
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requestJson } from '../../../cluster/http-client.js';
import { done, pending, waitFor } from '../../../cluster/wait.js';
import type { HostPlan, HostReport, PhaseReport, ServicePlan } from './compose-model.js';
import { ContainerHost, IMAGE_APP_DIR } from './container-host.js';

const HEALTHY_TIMEOUT_MS = 120_000;
const CLUSTER_TIMEOUT_MS = 60_000;
/** `docker stop`'s default grace period. */
const STOP_GRACE_MS = 10_000;
const HEALTHCHECK_TIMEOUT_MS = 3_000;

const planFile = process.argv[2];
if (planFile === undefined) throw new Error('usage: compose-host-main.ts PLAN_FILE');
const plan = JSON.parse(await readFile(planFile, 'utf8')) as HostPlan;
const report: HostReport = { phases: [], error: null, logTails: {} };
const mainProcesses = new Map<string, ChildProcess>();
const logFile = (service: string): string => join(plan.workDir, `${service}.log`);

const host = await ContainerHost.create(plan.workDir, [
  { source: join(plan.repoRoot, 'src'), target: `${IMAGE_APP_DIR}/src` },
  { source: join(plan.repoRoot, 'node_modules'), target: `${IMAGE_APP_DIR}/node_modules` },
  { source: join(plan.repoRoot, 'package.json'), target: `${IMAGE_APP_DIR}/package.json` },
  { source: join(plan.repoRoot, 'tsconfig.json'), target: `${IMAGE_APP_DIR}/tsconfig.json` },
]);

/** Creates the container of `service` and starts its main process; returns the start time. */
async function startService(service: ServicePlan, address: string): Promise<number> {
  await host.createContainer(service.name, address, service.volumes);
  const child = await host.exec(service.name, service.argv, service.environment, logFile(service.name));
  mainProcesses.set(service.name, child);
  return performance.now();
}

/** Waits until the service's healthcheck passes, as compose's service_healthy condition does. */
async function waitHealthy(service: ServicePlan, startedAt: number): Promise<number> {
  const check = service.healthcheck;
  if (check === null) throw new Error(`service ${service.name} has no healthcheck to wait for`);
  const main = mainProcesses.get(service.name)!;
  return waitFor(
    `the healthcheck of ${service.name}`,
    { timeoutMs: HEALTHY_TIMEOUT_MS, intervalMs: 500 },
    async () => {
      if (main.exitCode !== null || main.signalCode !== null) {
        throw new Error(`${service.name} exited with ${main.exitCode ?? main.signalCode}`);
      }
      const code = await host.execWait(service.name, check, HEALTHCHECK_TIMEOUT_MS);
      return code === 0 ? done(Math.round(performance.now() - startedAt)) : pending(`exit code ${code}`);
    },
  );
}

/** Starts `services` at the given addresses: first those without dependencies, then the others. */
async function up(
  services: readonly ServicePlan[],
  addresses: Record<string, string>,
): Promise<Record<string, number>> {
  const healthyAfterMs: Record<string, number> = {};
  const first = services.filter((service) => service.waitsFor.length === 0);
  const second = services.filter((service) => service.waitsFor.length > 0);
  const started = await Promise.all(first.map((service) => startService(service, addresses[service.name]!)));
  const awaited = new Set(second.flatMap((service) => service.waitsFor));
  await Promise.all(
    first.map(async (service, index) => {
      if (service.healthcheck === null && !awaited.has(service.name)) return;
      healthyAfterMs[service.name] = await waitHealthy(service, started[index]!);
    }),
  );
  for (const service of second) {
    const unknown = service.waitsFor.filter((name) => !first.some((other) => other.name === name));
    if (unknown.length > 0)
      throw new Error(`${service.name} waits for ${unknown.join(', ')}, which wait themselves`);
    await startService(service, addresses[service.name]!);
  }
  return healthyAfterMs;
}

/** Builds a raw_exec job whose tasks record the uid they run as in their allocation folder. */
function probeJob(id: string, count: number) {
  return {
    Job: {
      ID: id,
      Type: 'service',
      Datacenters: ['*'],
      TaskGroups: [
        {
          Name: 'probe',
          Count: count,
          Tasks: [
            {
              Name: 'id',
              Driver: 'raw_exec',
              Config: {
                command: '/bin/sh',
                args: ['-c', 'id -u > "$NOMAD_ALLOC_DIR/data/uid"; exec sleep 600'],
              },
              Resources: { CPU: 100, MemoryMB: 32 },
            },
          ],
        },
      ],
    },
  };
}

/** Reads the uid file that an allocation's task wrote into its client's data volume. */
async function taskUid(allocId: string): Promise<string | null> {
  const volumes = join(plan.workDir, 'volumes');
  for (const volume of await readdir(volumes)) {
    const text = await readFile(
      join(volumes, volume, 'alloc', allocId, 'alloc', 'data', 'uid'),
      'utf8',
    ).catch(() => null);
    if (text !== null && text.trim() !== '') return text.trim();
  }
  return null;
}

/** Waits for the cluster to settle through s1's HTTP API, runs the probe job, and records what it saw. */
async function observe(
  name: string,
  addresses: Record<string, string>,
  healthyAfterMs: Record<string, number>,
  token: string,
  job: { id: string; count: number },
): Promise<PhaseReport> {
  const api = `${addresses.s1}:4646`;
  const headers = { 'X-Nomad-Token': token };
  const servers = plan.services
    .filter((service) => service.waitsFor.length === 0)
    .map((service) => service.name);
  const clients = plan.services
    .filter((service) => service.waitsFor.length > 0)
    .map((service) => service.name);
  const expectedAddresses = new Set(servers.map((server) => `${addresses[server]}:4647`));

  const raft = await waitFor<PhaseReport['raft']>(
    'three voters at their current addresses',
    { timeoutMs: CLUSTER_TIMEOUT_MS, intervalMs: 250 },
    async () => {
      const configuration = await requestJson<{ Servers: PhaseReport['raft'] }>(
        api,
        'GET',
        '/v1/operator/raft/configuration',
        { headers },
      );
      const current = configuration.Servers.filter(
        (server) => server.Voter && expectedAddresses.has(server.Address),
      );
      return current.length === servers.length
        ? done(configuration.Servers)
        : pending(JSON.stringify(configuration.Servers.map((server) => [server.Node, server.Address])));
    },
  );
  const members = await waitFor<PhaseReport['members']>(
    'every server alive in members',
    { timeoutMs: CLUSTER_TIMEOUT_MS, intervalMs: 250 },
    async () => {
      const body = await requestJson<{ Members: PhaseReport['members'] }>(api, 'GET', '/v1/agent/members', {
        headers,
      });
      const alive = body.Members.filter((member) => member.Status === 'alive');
      return alive.length === servers.length ? done(body.Members) : pending(JSON.stringify(body.Members));
    },
  );
  const nodes = await waitFor<PhaseReport['nodes']>(
    'every client node ready',
    { timeoutMs: CLUSTER_TIMEOUT_MS, intervalMs: 250 },
    async () => {
      const list = await requestJson<PhaseReport['nodes']>(api, 'GET', '/v1/nodes', { headers });
      const ready = list.filter((node) => node.Status === 'ready' && clients.includes(node.Name));
      return ready.length === clients.length
        ? done(list.map(({ Name, Status }) => ({ Name, Status })))
        : pending(JSON.stringify(list));
    },
  );

  await requestJson(api, 'PUT', '/v1/jobs', { headers, body: probeJob(job.id, job.count) });
  const allocations = await waitFor<PhaseReport['allocations']>(
    `${job.count} running allocations of ${job.id}`,
    { timeoutMs: CLUSTER_TIMEOUT_MS, intervalMs: 250 },
    async () => {
      const allocs = await requestJson<{ ID: string; NodeName: string; ClientStatus: string }[]>(
        api,
        'GET',
        `/v1/job/${job.id}/allocations`,
        { headers },
      );
      const running = allocs.filter((alloc) => alloc.ClientStatus === 'running');
      if (running.length < job.count)
        return pending(JSON.stringify(allocs.map((alloc) => alloc.ClientStatus)));
      const seen: PhaseReport['allocations'] = [];
      for (const alloc of running)
        seen.push({ node: alloc.NodeName, clientStatus: alloc.ClientStatus, uid: await taskUid(alloc.ID) });
      return seen.every((alloc) => alloc.uid !== null)
        ? done(seen)
        : pending('a task has not written its uid yet');
    },
  );
  return { name, addresses, healthyAfterMs, raft, members, nodes, allocations };
}

async function stopAll(): Promise<void> {
  // Clients first, as `docker-compose down` stops dependents before what they depend on.
  const order = [...plan.services].sort((a, b) => b.waitsFor.length - a.waitsFor.length);
  for (const service of order) {
    try {
      await host.removeContainer(service.name, STOP_GRACE_MS);
    } catch {
      // Never created, because an earlier step failed.
    }
  }
}

try {
  const firstAddresses: Record<string, string> = {};
  plan.services.forEach((service, index) => {
    firstAddresses[service.name] = ContainerHost.address(index + 1);
  });
  const firstHealth = await up(plan.services, firstAddresses);
  const bootstrap = await waitFor(
    'the ACL bootstrap',
    { timeoutMs: CLUSTER_TIMEOUT_MS, intervalMs: 250 },
    async () =>
      done(await requestJson<{ SecretID: string }>(`${firstAddresses.s1}:4646`, 'POST', '/v1/acl/bootstrap')),
  );
  report.phases.push(
    await observe('first start', firstAddresses, firstHealth, bootstrap.SecretID, {
      id: 'probe-1',
      count: 2,
    }),
  );

  const servers = plan.services.filter((service) => service.waitsFor.length === 0);
  for (const server of servers) {
    await host.removeContainer(server.name, STOP_GRACE_MS);
    mainProcesses.delete(server.name);
  }
  const secondAddresses = { ...firstAddresses };
  servers.forEach((server, index) => {
    secondAddresses[server.name] = ContainerHost.address(plan.services.length + index + 1);
  });
  const secondHealth = await up(servers, secondAddresses);
  report.phases.push(
    await observe('servers recreated', secondAddresses, secondHealth, bootstrap.SecretID, {
      id: 'probe-2',
      count: 1,
    }),
  );
} catch (err) {
  report.error = (err as Error).stack ?? String(err);
} finally {
  await stopAll();
  for (const service of plan.services) {
    const text = await readFile(logFile(service.name), 'utf8').catch(() => '');
    report.logTails[service.name] = text.split('\n').slice(-15).join('\n');
  }
  await writeFile(plan.reportFile, JSON.stringify(report, null, 2));
}
process.exit(0);
