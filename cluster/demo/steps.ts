import { existsSync } from 'node:fs';
import type { RootKeyMeta } from '../../src/keyring/root-key.js';
import type { ServerHandle } from '../launcher.js';
import { liveGroupMembers, recordedTaskProcessGroups } from '../task-processes.js';
import { type DemoContext, StepFailure, type TaskIdentity } from './demo-context.js';
import {
  GROUP,
  JOB_ID,
  POLICY_NAME,
  POLICY_RULES,
  TASK,
  UNGRANTED_VARIABLE,
  VARIABLE,
  writeJobFile,
  writePolicyFile,
} from './files.js';
import {
  addressFlag,
  publishedKeyIds,
  readIdentity,
  short,
  waitForAcceptance,
  waitForPublishedKey,
  waitForRenderedLine,
  waitForRunningAllocations,
} from './workload.js';

/** One step of the walk-through: `run` returns what it observed, or raises StepFailure. */
export interface Step {
  readonly title: string;
  readonly run: (demo: DemoContext) => Promise<string>;
}

/**
 * The walk-through, in order. Each step prints the commands a user would type, runs them, and
 * checks their effect through the HTTP API rather than through the CLI's wording.
 */
export const STEPS: readonly Step[] = [
  {
    title: 'the management token works and the client node is ready',
    async run(demo) {
      await demo.cli(['acl', 'token', 'self']);
      await demo.cli(['server', 'members']);
      await demo.cli(['node', 'status']);
      const leader = await demo.cluster.waitForLeader(60_000);
      const { body } = await demo.api<{ Type: string }>(leader, 'GET', '/v1/acl/token/self');
      if (body?.Type !== 'management') throw new StepFailure('a management token', `type ${body?.Type}`);
      const { Servers } = await demo.cluster.raftConfiguration(leader);
      const voters = Servers.filter((server) => server.Voter).length;
      if (voters !== 3) throw new StepFailure('3 voters in the Raft configuration', `${voters}`);
      return `management token accepted; 3 voters, ${leader.name} leads; node ${demo.client.name} is ready`;
    },
  },
  {
    title: `write the variable ${VARIABLE.path} in namespace ${VARIABLE.namespace}`,
    async run(demo) {
      await demo.cli(['namespace', 'apply', '-description', 'data shared by jobs', VARIABLE.namespace]);
      const items = Object.entries(VARIABLE.items).map(([key, value]) => `${key}=${value}`);
      await demo.cli(['var', 'put', '-namespace', VARIABLE.namespace, VARIABLE.path, ...items]);
      const leader = await demo.cluster.waitForLeader(60_000);
      const { status, body } = await demo.api<{ Items: Record<string, string>; ModifyIndex: number }>(
        leader,
        'GET',
        `/v1/var/${VARIABLE.path}?namespace=${VARIABLE.namespace}`,
      );
      if (body?.Items.user !== VARIABLE.items.user) {
        throw new StepFailure(
          `item user=${VARIABLE.items.user}`,
          `status ${status}, ${JSON.stringify(body)}`,
        );
      }
      return `${VARIABLE.path}@${VARIABLE.namespace} holds items ${Object.keys(body.Items).sort().join(', ')} at index ${body.ModifyIndex}`;
    },
  },
  {
    title: `tie a read policy to task ${TASK} of group ${GROUP} of job ${JOB_ID}`,
    async run(demo) {
      const file = await writePolicyFile(demo.workDir);
      demo.print(`  ${file}:`);
      for (const line of POLICY_RULES.trimEnd().split('\n')) demo.print(`    ${line}`);
      await demo.cli([
        'acl',
        'policy',
        'apply',
        '-namespace',
        'default',
        '-job',
        JOB_ID,
        '-group',
        GROUP,
        '-task',
        TASK,
        '-description',
        `read ${VARIABLE.namespace} variables`,
        POLICY_NAME,
        file,
      ]);
      const leader = await demo.cluster.waitForLeader(60_000);
      const { body } = await demo.api<{ JobACL: Record<string, string> | null }>(
        leader,
        'GET',
        `/v1/acl/policy/${POLICY_NAME}`,
      );
      const tie = body?.JobACL;
      const expected = { Namespace: 'default', JobID: JOB_ID, Group: GROUP, Task: TASK };
      if (
        tie === undefined ||
        tie === null ||
        Object.entries(expected).some(([key, value]) => tie[key] !== value)
      ) {
        throw new StepFailure(`JobACL ${JSON.stringify(expected)}`, JSON.stringify(tie));
      }
      return `policy ${POLICY_NAME} applies to default/${JOB_ID}/${GROUP}/${TASK} only`;
    },
  },
  // The job comes after the variable and the policy: a template denied at the task's start fails
  // the task for good, because the client does not restart tasks yet.
  {
    title: `run job ${JOB_ID}, whose task ${TASK} renders ${VARIABLE.path} through a template`,
    async run(demo) {
      const file = await writeJobFile(demo.workDir, 1);
      demo.print(`  (${file}: group ${GROUP}, count = 1, task ${TASK} with raw_exec, identity and template)`);
      await demo.cli(['job', 'run', file]);
      const [alloc] = await waitForRunningAllocations(demo, 1);
      return `allocation ${short(alloc!.ID)} (${alloc!.Name}) runs on ${demo.client.name}`;
    },
  },
  {
    title: 'the task read the variable with its own workload identity',
    async run(demo) {
      const [alloc] = await waitForRunningAllocations(demo, 1);
      const line = await waitForRenderedLine(demo, alloc!);
      const identity = await readIdentity(demo, alloc!);
      demo.signet.redact(identity.token);
      demo.identities.push(identity);
      demo.firstKeyId = identity.kid;
      return `${TASK} printed "${line}" (in alloc/logs/${TASK}.stdout.0 of ${short(alloc!.ID)}); its token in ${identity.tokenPath} is signed by key ${short(identity.kid)}`;
    },
  },
  {
    title: "every server verifies the task's identity and applies the tied policy",
    async run(demo) {
      const identity = demo.identities[0]!;
      const servers = demo.cluster.live();
      await waitForAcceptance(demo, identity, servers);
      for (const server of servers) {
        await expectItem(demo, identity, server);
      }
      await demo.cli(['var', 'put', '-namespace', VARIABLE.namespace, VARIABLE.path, 'user=mallory'], {
        identity,
        expectExit: 1,
      });
      await waitForPublishedKey(demo, identity.kid);
      return `${servers.map((server) => server.name).join(', ')} let the identity read ${VARIABLE.path}; writing it fails (the policy grants read only); every server publishes key ${short(identity.kid)}`;
    },
  },
  // The step above shows that the tied policy is enough. This one shows that it is needed: an
  // identity that could read every variable would pass every other step.
  {
    title: `the identity cannot read ${UNGRANTED_VARIABLE.path}, which no policy grants`,
    async run(demo) {
      const { namespace, path, items } = UNGRANTED_VARIABLE;
      const values = Object.entries(items).map(([key, value]) => `${key}=${value}`);
      await demo.cli(['var', 'put', '-namespace', namespace, path, ...values]);
      const identity = demo.identities[0]!;
      await demo.cli(['var', 'get', '-namespace', namespace, path], { identity, expectExit: 1 });

      const leader = await demo.cluster.waitForLeader(60_000);
      const url = `/v1/var/${path}?namespace=${namespace}`;
      const granted = await demo.api(leader, 'GET', url);
      if (granted.status !== 200) {
        throw new StepFailure(`status 200 for ${path} with the management token`, `${granted.status}`);
      }
      const denied = await demo.api(leader, 'GET', url, identity.token);
      if (denied.status !== 403) {
        throw new StepFailure(`status 403 for ${path} with the identity`, `${denied.status}`);
      }
      return `the management token reads ${path}@${namespace}; the identity gets 403 from ${leader.name}`;
    },
  },
  {
    title: 'SIGKILL the leader',
    async run(demo) {
      const leader = await demo.cluster.waitForLeader(60_000);
      demo.keyIdsBeforeKill = await publishedKeyIds(demo, leader);
      demo.print(`  $ kill -9 ${leader.pid}    # ${leader.name}, the leader`);
      await leader.kill('SIGKILL');
      demo.killed = { server: leader, at: performance.now() };
      demo.followLiveServer();
      return `${leader.name} is gone`;
    },
  },
  {
    title: 'the surviving servers elect a new leader',
    async run(demo) {
      const leader = await demo.cluster.waitForLeader(60_000);
      const seconds = ((performance.now() - (demo.killed?.at ?? 0)) / 1000).toFixed(1);
      await demo.cli(['operator', 'raft', 'list-peers']);
      return `${leader.name} leads, agreed by ${demo.cluster
        .live()
        .map((server) => server.name)
        .join(' and ')} ${seconds} s after the kill`;
    },
  },
  {
    title: `scale group ${GROUP} to 2: the new leader signs with the same keyring`,
    async run(demo) {
      const identity = await scaleTo(demo, 2);
      if (identity.kid !== demo.firstKeyId) {
        throw new StepFailure(`the new token signed by key ${demo.firstKeyId}`, `key ${identity.kid}`);
      }
      for (const server of demo.cluster.live()) {
        const ids = await publishedKeyIds(demo, server);
        if (ids.join() !== demo.keyIdsBeforeKill.join()) {
          throw new StepFailure(
            `${server.name} to publish the keys of before the kill (${demo.keyIdsBeforeKill.join(', ')})`,
            ids.join(', '),
          );
        }
      }
      await waitForAcceptance(demo, identity, demo.cluster.live());
      return `allocation ${short(identity.allocId)} (${identity.allocName}) carries key ${short(identity.kid)}, as before the kill; the JWKS is unchanged and every live server accepts the token`;
    },
  },
  {
    title: 'restart the killed server: it rejoins as a follower',
    async run(demo) {
      const killed = demo.killed?.server;
      if (killed === undefined) throw new StepFailure('a killed server', 'none');
      demo.print(`  (${killed.name} starts again with its data folder: ${killed.dataDir})`);
      await killed.restart();
      const leader = await demo.cluster.waitForLeader(60_000);
      if (leader === killed) throw new StepFailure(`${killed.name} to follow`, `${killed.name} leads again`);
      return `${killed.name} follows ${leader.name}`;
    },
  },
  {
    title: 'tokens issued before and after the failover verify on every follower',
    async run(demo) {
      const leader = await demo.cluster.waitForLeader(60_000);
      const followers = demo.cluster.live().filter((server) => server !== leader);
      for (const identity of demo.identities) await waitForAcceptance(demo, identity, followers);
      for (const server of followers) await expectItem(demo, demo.identities[0]!, server);
      return `followers ${followers.map((server) => server.name).join(', ')} accept the tokens of ${demo.identities
        .map((identity) => identity.allocName)
        .join(' and ')}`;
    },
  },
  {
    title: 'rotate the root key',
    async run(demo) {
      await demo.cli(['operator', 'root', 'keyring', 'rotate']);
      await demo.cli(['operator', 'root', 'keyring', 'list']);
      const leader = await demo.cluster.waitForLeader(60_000);
      const { body } = await demo.api<RootKeyMeta[]>(leader, 'GET', '/v1/operator/keyring/keys');
      const active = (body ?? []).filter((key) => key.State === 'active');
      if (active.length !== 1 || active[0]!.KeyID === demo.firstKeyId) {
        throw new StepFailure(
          `one active key other than ${demo.firstKeyId}`,
          JSON.stringify(body?.map((key) => [key.KeyID, key.State])),
        );
      }
      demo.rotatedKeyId = active[0]!.KeyID;
      const published = await waitForPublishedKey(demo, demo.rotatedKeyId);
      for (const [name, ids] of published) {
        if (!ids.includes(demo.firstKeyId)) {
          throw new StepFailure(`${name} to keep publishing the old key ${demo.firstKeyId}`, ids.join(', '));
        }
      }
      const old = body!.find((key) => key.KeyID === demo.firstKeyId);
      return `key ${short(demo.rotatedKeyId)} is active, ${short(demo.firstKeyId)} is ${old?.State ?? 'gone'}; every server publishes both`;
    },
  },
  {
    title: 'scale to 3: the new token carries the new key, and the old tokens still verify',
    async run(demo) {
      const identity = await scaleTo(demo, 3);
      if (identity.kid !== demo.rotatedKeyId) {
        throw new StepFailure(`the new token signed by key ${demo.rotatedKeyId}`, `key ${identity.kid}`);
      }
      const servers = demo.cluster.live();
      for (const each of demo.identities) await waitForAcceptance(demo, each, servers);
      await expectItem(demo, demo.identities[0]!, servers[0]!);
      return `allocation ${short(identity.allocId)} carries key ${short(identity.kid)}; the ${demo.identities.length} tokens verify on ${servers.map((server) => server.name).join(', ')}`;
    },
  },
];

/** Runs `var get -item user` on `server` with the identity and checks that it prints the value. */
async function expectItem(demo: DemoContext, identity: TaskIdentity, server: ServerHandle): Promise<void> {
  const result = await demo.cli(
    ['var', 'get', addressFlag(server), '-namespace', VARIABLE.namespace, '-item', 'user', VARIABLE.path],
    { identity },
  );
  if (result.stdout.trim() !== VARIABLE.items.user) {
    throw new StepFailure(
      `${server.name} to print ${VARIABLE.items.user}`,
      JSON.stringify(result.stdout.trim()),
    );
  }
}

/**
 * Runs the job again with `count` allocations, waits for the new one and its rendered output, and
 * returns its identity, which is also added to the demo's list.
 */
async function scaleTo(demo: DemoContext, count: number): Promise<TaskIdentity> {
  const file = await writeJobFile(demo.workDir, count);
  demo.print(`  (${file}: count = ${count})`);
  await demo.cli(['job', 'run', file]);
  const allocs = await waitForRunningAllocations(demo, count);
  const known = new Set(demo.identities.map((identity) => identity.allocId));
  const added = allocs.filter((alloc) => !known.has(alloc.ID));
  if (added.length !== 1) {
    throw new StepFailure('one new allocation, the others kept', `${added.length} new of ${allocs.length}`);
  }
  await waitForRenderedLine(demo, added[0]!);
  const identity = await readIdentity(demo, added[0]!);
  demo.signet.redact(identity.token);
  demo.identities.push(identity);
  return identity;
}

/** The last step: what Ctrl-C on `npm start` does, checked. */
export const STOP_STEP: Step = {
  title: 'stop the cluster as Ctrl-C does: every agent and task ends',
  async run(demo) {
    const groups = recordedTaskProcessGroups(demo.client.dataDir);
    const agents = [...demo.cluster.servers(), ...demo.cluster.clients()].filter(
      (agent) => agent.pid !== undefined,
    );
    await demo.cluster.stop();
    const left = groups.flatMap((group) => liveGroupMembers(group.pgid));
    if (left.length > 0) throw new StepFailure('no task process left', `processes ${left.join(', ')}`);
    const running = agents.filter((agent) => agent.pid !== undefined);
    if (running.length > 0) {
      throw new StepFailure('no agent left', running.map((agent) => agent.name).join(', '));
    }
    if (existsSync(demo.cluster.root))
      throw new StepFailure(`${demo.cluster.root} removed`, 'it is still there');
    return `${agents.length} agents and ${groups.length} tasks stopped; ${demo.cluster.root} removed`;
  },
};
