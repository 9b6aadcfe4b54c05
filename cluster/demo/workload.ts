import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import type { Allocation } from '../../src/structs/allocation.js';
import type { ServerHandle } from '../launcher.js';
import { done, pending } from '../wait.js';
import { type DemoContext, StepFailure, type TaskIdentity } from './demo-context.js';
import { JOB_ID, RENDERED_LINE, TASK, VARIABLE } from './files.js';

const VARIABLE_PATH = `/v1/var/${VARIABLE.path}?namespace=${VARIABLE.namespace}`;

/** Waits until job `example` has `count` running allocations; returns them oldest first. */
export async function waitForRunningAllocations(demo: DemoContext, count: number): Promise<Allocation[]> {
  return demo.waitUntil<Allocation[]>(`${count} running allocations of job ${JOB_ID}`, async () => {
    const server = demo.cluster.live()[0]!;
    const { status, body } = await demo.api<Allocation[]>(server, 'GET', `/v1/job/${JOB_ID}/allocations`);
    if (body === null) return pending(`status ${status}`);
    // A task whose template was denied the variable fails for good: no need to wait any longer.
    const failed = body.find((alloc) => alloc.ClientStatus === 'failed');
    if (failed !== undefined)
      throw new StepFailure(`${failed.Name} running`, `failed: ${lastEvents(failed)}`);
    const running = body.filter((alloc) => alloc.ClientStatus === 'running');
    const states = body.map((alloc) => `${alloc.Name}=${alloc.ClientStatus}`).join(', ');
    return running.length === count
      ? done(running.sort((a, b) => a.CreateIndex - b.CreateIndex))
      : pending(states === '' ? 'no allocation' : states);
  });
}

/** Returns the last event of each task of `alloc`, such as a template's permission error. */
function lastEvents(alloc: Allocation): string {
  return Object.entries(alloc.TaskStates)
    .map(([task, state]) => `${task}: ${state.Events.at(-1)?.DisplayMessage ?? state.State}`)
    .join('; ');
}

/** Returns the path of a file of the `redis` task of `alloc` in the client's allocation folder. */
export function taskPath(demo: DemoContext, alloc: Allocation, ...parts: string[]): string {
  return join(demo.client.dataDir, 'alloc', alloc.ID, ...parts);
}

/** Reads the task's workload identity from its secrets folder, once the client has written it. */
export async function readIdentity(demo: DemoContext, alloc: Allocation): Promise<TaskIdentity> {
  const tokenPath = taskPath(demo, alloc, TASK, 'secrets', 'nomad_token');
  const token = await demo.waitUntil<string>(`a token in ${tokenPath}`, async () => {
    const text = await readFile(tokenPath, 'utf8').catch(() => '');
    return text === '' ? pending('no token file yet') : done(text.trim());
  });
  const kid = decodeProtectedHeader(token).kid;
  if (kid === undefined) throw new StepFailure('a kid in the token header', 'none');
  return { allocId: alloc.ID, allocName: alloc.Name, token, tokenPath, kid };
}

/** Waits until the task has printed what its template rendered, and returns that line. */
export async function waitForRenderedLine(demo: DemoContext, alloc: Allocation): Promise<string> {
  const stdout = taskPath(demo, alloc, 'alloc', 'logs', `${TASK}.stdout.0`);
  return demo.waitUntil<string>(`"${RENDERED_LINE}" in ${stdout}`, async () => {
    const text = await readFile(stdout, 'utf8').catch(() => '');
    const line = text.split('\n').find((candidate) => candidate.startsWith('db user from'));
    if (line === undefined)
      return pending(text === '' ? 'no output yet' : JSON.stringify(text.slice(0, 200)));
    if (line !== RENDERED_LINE) throw new StepFailure(JSON.stringify(RENDERED_LINE), JSON.stringify(line));
    return done(line);
  });
}

/**
 * Waits until every server in `servers` lets `identity` read the shared variable (status 200), so
 * the server has verified the token's signature and resolved the policy tied to the task from its
 * own state. A server that is still applying the entries may return 403 first.
 */
export async function waitForAcceptance(
  demo: DemoContext,
  identity: TaskIdentity,
  servers: readonly ServerHandle[],
): Promise<void> {
  for (const server of servers) {
    await demo.waitUntil(
      `${server.name} to let the identity of ${identity.allocName} read ${VARIABLE.path}`,
      async () => {
        const { status } = await demo.api(server, 'GET', VARIABLE_PATH, identity.token);
        return status === 200 ? done(true) : pending(`status ${status}`);
      },
    );
  }
}

/** Returns the key ids that `server` publishes in its JWKS. */
export async function publishedKeyIds(demo: DemoContext, server: ServerHandle): Promise<string[]> {
  const { status, body } = await demo.api<{ keys: { kid?: string }[] }>(
    server,
    'GET',
    '/.well-known/jwks.json',
  );
  if (body === null) throw new StepFailure(`the JWKS of ${server.name}`, `status ${status}`);
  return body.keys.map((key) => key.kid ?? '').sort();
}

/** Waits until every live server publishes `keyId` in its JWKS; returns the servers' key ids. */
export async function waitForPublishedKey(demo: DemoContext, keyId: string): Promise<Map<string, string[]>> {
  const published = new Map<string, string[]>();
  for (const server of demo.cluster.live()) {
    const ids = await demo.waitUntil<string[]>(
      `${server.name} to publish key ${keyId} in its JWKS`,
      async () => {
        const found = await publishedKeyIds(demo, server);
        return found.includes(keyId) ? done(found) : pending(`kids ${found.join(', ')}`);
      },
    );
    published.set(server.name, ids);
  }
  return published;
}

/** `-address` flag for a command aimed at one server. */
export function addressFlag(server: ServerHandle): string {
  return `-address=http://${server.httpAddr}`;
}

/** Shortens an id as the CLI tables do. */
export function short(id: string): string {
  return id.slice(0, 8);
}
