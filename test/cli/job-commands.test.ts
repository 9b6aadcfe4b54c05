import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Allocation, AllocClientStatus } from '../../src/structs/allocation.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import type { Node } from '../../src/structs/node.js';
import { completeEvaluation, jobInput, registerNode, testNode } from '../http/support/fixtures.js';
import { startTestServer, type TestServer, waitUntil } from '../http/support/test-backend.js';

const execFileAsync = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function signet(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failure = err as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

function jobHcl(id: string, count = 2): string {
  return `job "${id}" {
  datacenters = ["dc1"]
  type        = "service"

  group "app" {
    count = ${count}

    task "server" {
      driver = "mock"
      config {
        run_for = "30s"
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`;
}

describe('job, alloc, eval and node commands', () => {
  let server: TestServer;
  let address: string;
  let folder: string;
  let node: Node;

  before(async () => {
    server = await startTestServer();
    address = `-address=${server.url}`;
    folder = await mkdtemp(join(tmpdir(), 'signet-job-cli-'));
    node = testNode({ Name: 'client-cli' });
    await registerNode(server.backend, node);
  });
  after(async () => {
    await server.close();
    await rm(folder, { recursive: true, force: true });
  });
  beforeEach(() => {
    server.backend.scheduler = null;
    assert.deepEqual(server.backend.schedulerErrors, []);
  });

  async function jobFile(name: string, text: string): Promise<string> {
    const path = join(folder, name);
    await writeFile(path, text);
    return path;
  }

  /**
   * Makes the test backend's scheduler wait until the CLI blocks on the evaluation, so the
   * monitor reads it as pending first, then finish it with `finish`.
   */
  function scheduleAfterBlock(finish: (evaluation: Evaluation) => Promise<void>): void {
    server.backend.scheduler = async (evaluation) => {
      await waitUntil(() => server.backend.state.pendingWaits('evals') >= 1, 'the CLI to block', 20_000);
      await finish(evaluation);
    };
  }

  /** Reports client statuses as a client agent would, one `alloc-client-update` entry per call. */
  async function reportClientStatus(
    allocs: readonly Allocation[],
    status: Exclude<AllocClientStatus, 'lost'>,
    description = '',
  ): Promise<void> {
    await server.backend.apply({
      type: 'alloc-client-update',
      v: 1,
      updates: allocs.map((alloc) => ({
        ID: alloc.ID,
        ClientStatus: status,
        ClientDescription: description,
        TaskStates: {},
      })),
      evals: [],
      time: Date.now() * 1_000_000,
    });
  }

  /** Waits until the CLI blocks on the allocations table, so that the CLI reads each report as a change. */
  async function allocationWatchers(count: number): Promise<void> {
    await waitUntil(
      () => server.backend.state.pendingWaits('allocs') >= count,
      'the CLI to block on allocations',
      20_000,
    );
  }

  test('job run follows placement and allocations', async () => {
    scheduleAfterBlock(async (evaluation) => {
      const placed = await completeEvaluation(server.backend, evaluation, { node, allocCount: 2 });
      await allocationWatchers(1);
      await reportClientStatus([placed[0]!], 'running');
      await allocationWatchers(1);
      await reportClientStatus([placed[1]!], 'running');
    });
    const result = await signet([
      'job',
      'run',
      address,
      '-monitor-timeout=60s',
      await jobFile('web.nomad.hcl', jobHcl('web')),
    ]);
    assert.equal(result.code, 0, result.stderr);

    const lines = result.stdout.trimEnd().split('\n');
    const evaluation = server.backend.state.evaluationsByJob('default', 'web')[0]!;
    assert.equal(lines[0], `==> Monitoring evaluation "${evaluation.ID.slice(0, 8)}"`);
    assert.equal(lines[1], '    Evaluation triggered by job "web"');
    const created = lines.filter((line) => /^ {4}Allocation "[0-9a-f]{8}" created: /.test(line));
    assert.equal(created.length, 2);
    for (const line of created) assert.ok(line.endsWith(`node "${node.ID.slice(0, 8)}", group "app"`), line);
    assert.ok(lines.includes('    Evaluation status changed: "pending" -> "complete"'));
    assert.ok(
      lines.includes(`==> Evaluation "${evaluation.ID.slice(0, 8)}" finished with status "complete"`),
      result.stdout,
    );

    // Not a terminal, so one plain line per change and no carriage returns.
    assert.ok(!result.stdout.includes('\r'));
    assert.ok(lines.includes('==> Following 2 allocations until they run'), result.stdout);
    const changes = lines.filter((line) => line.includes('status changed: "pending" -> "running"'));
    assert.equal(changes.length, 2, result.stdout);
    const allocIds = server.backend.state
      .allocationsByJob('default', 'web')
      .map((alloc) => alloc.ID.slice(0, 8));
    for (const change of changes) assert.ok(allocIds.includes(/"([0-9a-f]{8})"/.exec(change)![1]!), change);
    assert.equal(lines.at(-1), '==> Allocations: 2 running');

    const job = server.backend.state.job('default', 'web');
    assert.equal(job?.TaskGroups[0]?.Count, 2);
  });

  test('job run exits 1 when an allocation fails', async () => {
    scheduleAfterBlock(async (evaluation) => {
      const placed = await completeEvaluation(server.backend, evaluation, { node, allocCount: 1 });
      await allocationWatchers(1);
      await reportClientStatus(placed, 'failed', 'Failed tasks');
    });
    const result = await signet(['job', 'run', address, await jobFile('crash.hcl', jobHcl('crash', 1))]);
    assert.equal(result.code, 1, result.stdout);
    const alloc = server.backend.state.allocationsByJob('default', 'crash')[0]!;
    const short = alloc.ID.slice(0, 8);
    assert.match(
      result.stdout,
      new RegExp(`Allocation "${short}" status changed: "pending" -> "failed" \\(Failed tasks\\)`),
    );
    assert.equal(
      result.stdout.trimEnd().split('\n').at(-1),
      `==> Allocations: 1 failed; see why with signet alloc status ${short}`,
    );
  });

  test('job run deadline stops following', async () => {
    scheduleAfterBlock(async (evaluation) => {
      await completeEvaluation(server.backend, evaluation, { node, allocCount: 1 });
    });
    const started = Date.now();
    const result = await signet([
      'job',
      'run',
      address,
      '-monitor-timeout',
      '3s',
      await jobFile('slow.hcl', jobHcl('slow', 1)),
    ]);
    // The job was placed, so stopping at the deadline is not a failure, as in Nomad's monitor.
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() - started >= 3000);
    assert.equal(
      result.stdout.trimEnd().split('\n').at(-1),
      '==> Stopped following after -monitor-timeout 3s (allocations: 1 pending); the job stays submitted: check it with signet job status slow',
    );
    assert.equal(server.backend.state.job('default', 'slow')?.Stop, false);
  });

  test('job run stops following at SIGINT', async () => {
    scheduleAfterBlock(async (evaluation) => {
      await completeEvaluation(server.backend, evaluation, { node, allocCount: 1 });
    });
    const path = await jobFile('interrupted.hcl', jobHcl('interrupted', 1));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'job', 'run', address, path],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitUntil(
      () => stdout.includes('==> Following 1 allocation'),
      'the CLI to follow allocations',
      20_000,
    );
    await allocationWatchers(1);
    child.kill('SIGINT');
    assert.equal(await exited, 0, stdout);
    assert.match(stdout, /==> Stopped following at Ctrl-C \(allocations: 1 pending\)/);
  });

  test('job run exits 2 when placement fails', async () => {
    const blockedId = '11111111-2222-3333-4444-555555555555';
    scheduleAfterBlock(async (evaluation) => {
      await completeEvaluation(server.backend, evaluation, { queued: { app: 3 }, blockedEval: blockedId });
    });
    const result = await signet(['job', 'run', address, await jobFile('big.hcl', jobHcl('big', 3))]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /finished with status "complete" but failed to place all allocations:\n/);
    assert.match(result.stdout, /^ {4}Task Group "app" \(failed to place 3 allocations\)$/m);
    assert.match(result.stdout, /^ {4}Evaluation "11111111" waiting for additional capacity/m);
  });

  test('job run exits 2 on a blocked evaluation', async () => {
    scheduleAfterBlock(async (evaluation) => {
      const blocked: Evaluation = { ...evaluation, Status: 'blocked', ModifyTime: Date.now() * 1_000_000 };
      await server.backend.apply({ type: 'eval-upsert', v: 1, evals: [blocked] });
    });
    const result = await signet(['job', 'run', address, await jobFile('stuck.hcl', jobHcl('stuck'))]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /finished with status "blocked" but failed to place all allocations/);
  });

  test('job run -detach prints the evaluation', async () => {
    const result = await signet([
      'job',
      'run',
      '-detach',
      address,
      await jobFile('later.hcl', jobHcl('later')),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const match = /^Job registration successful\nEvaluation ID: ([0-9a-f-]{36})\n$/.exec(result.stdout);
    assert.ok(match, result.stdout);
    assert.equal(server.backend.state.evaluation(match[1]!)?.Status, 'pending');
  });

  test('job run reads JSON in a namespace', async () => {
    await server.backend.apply({
      type: 'namespace-upsert',
      v: 1,
      namespace: { Name: 'team-j', Description: '', Meta: null },
    });
    const path = await jobFile('api.json', JSON.stringify({ Job: jobInput('from-json') }));
    const result = await signet(['job', 'run', '-detach', address, path], { SIGNET_NAMESPACE: 'team-j' });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(server.backend.state.job('team-j', 'from-json') !== null);
  });

  test('job run lists every problem of an invalid job', async () => {
    const text = jobHcl('bad').replace('driver = "mock"', 'driver = ""').replace('memory = 64', 'memory = 1');
    const result = await signet(['job', 'run', address, await jobFile('bad.hcl', text)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: .*\d+ errors? occurred:/);
    assert.ok(result.stderr.split('\n').filter((line) => line.startsWith('\t* ')).length >= 2, result.stderr);
    assert.equal(server.backend.state.job('default', 'bad'), null);
  });

  test('job run prints server rejections in full', async () => {
    // JSON is not validated by the CLI, so these problems come back from the server as a 400.
    const input = jobInput('bad-json', { Priority: 500, Datacenters: [] });
    const result = await signet(['job', 'run', address, await jobFile('bad.json', JSON.stringify(input))]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^Error: Job rejected by ${server.url}: \\d+ errors? occurred:`));
    assert.ok(result.stderr.split('\n').filter((line) => line.startsWith('\t* ')).length >= 1, result.stderr);
    assert.equal(server.backend.state.job('default', 'bad-json'), null);
  });

  test('job status lists jobs and shows one', async () => {
    const list = await signet(['job', 'status', address]);
    assert.equal(list.code, 0, list.stderr);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.split(/\s{2,}/), ['ID', 'Type', 'Priority', 'Status', 'Submit Date']);
    assert.ok(rows.some((row) => row.split(/\s{2,}/)[0] === 'web'));

    const one = await signet(['job', 'status', address, 'web']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^ID += web$/m);
    assert.match(one.stdout, /^Namespace += default$/m);
    const allocSection = one.stdout.split('\nAllocations\n')[1]!;
    const allocRows = allocSection.trimEnd().split('\n').slice(1);
    assert.equal(allocRows.length, 2);
    for (const row of allocRows) {
      const cells = row.split(/\s{2,}/);
      assert.equal(cells[1], node.ID.slice(0, 8));
      assert.equal(cells[2], 'app');
      assert.equal(cells[4], 'run');
      assert.equal(cells[5], 'running');
    }

    const json = await signet(['job', 'status', '-json', address, 'web']);
    assert.equal((JSON.parse(json.stdout) as { ID: string }).ID, 'web');

    const template = await signet([
      'job',
      'status',
      address,
      '-t',
      '{{.ID}} {{.Type}} {{len .TaskGroups}}',
      'web',
    ]);
    assert.equal(template.code, 0, template.stderr);
    assert.equal(template.stdout, 'web service 1\n');

    const listTemplate = await signet([
      'job',
      'status',
      address,
      '-t',
      '{{range .}}{{if eq .ID "web"}}{{.Status}}{{end}}{{end}}',
    ]);
    assert.equal(listTemplate.code, 0, listTemplate.stderr);
    assert.equal(listTemplate.stdout, 'running\n');

    const missing = await signet(['job', 'status', address, 'zzz']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: No job\(s\) with prefix or id "zzz" found/);
  });

  test('job stop stops, -purge deletes', async () => {
    await signet(['job', 'run', '-detach', address, await jobFile('gone.hcl', jobHcl('gone'))]);
    scheduleAfterBlock(async (evaluation) => {
      await completeEvaluation(server.backend, evaluation);
    });
    const stopped = await signet(['job', 'stop', address, 'gone']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /^==> Monitoring evaluation "[0-9a-f]{8}"/);
    assert.equal(server.backend.state.job('default', 'gone')?.Stop, true);

    server.backend.scheduler = null;
    const purged = await signet(['job', 'stop', '-purge', '-detach', address, 'gone']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(server.backend.state.job('default', 'gone'), null);
  });

  test('node status lists and shows nodes', async () => {
    const list = await signet(['node', 'status', address]);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trimEnd().split('\n');
    assert.deepEqual(rows[0]!.split(/\s{2,}/), ['ID', 'DC', 'Name', 'Class', 'Eligibility', 'Status']);
    assert.deepEqual(rows[1]!.split(/\s{2,}/), [
      node.ID.slice(0, 8),
      'dc1',
      'client-cli',
      '<none>',
      'eligible',
      'ready',
    ]);

    const one = await signet(['node', 'status', address, node.ID.slice(0, 8)]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^Name += client-cli$/m);
    assert.match(one.stdout, /^Drivers += mock$/m);
    assert.match(one.stdout, /\nAllocations\nID +Node ID/);

    const json = await signet(['node', 'status', '-json', address, node.ID]);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes('SecretID'));
    assert.ok(!json.stdout.includes(node.SecretID));

    const template = await signet([
      'node',
      'status',
      address,
      '-t',
      '{{range .}}{{.Name}} {{.Status}}{{end}}',
    ]);
    assert.equal(template.code, 0, template.stderr);
    assert.equal(template.stdout, 'client-cli ready\n');
  });

  test('alloc status and eval status by prefix', async () => {
    const alloc = server.backend.state.allocationsByJob('default', 'web')[0]!;
    const allocResult = await signet(['alloc', 'status', address, alloc.ID.slice(0, 8)]);
    assert.equal(allocResult.code, 0, allocResult.stderr);
    assert.match(allocResult.stdout, new RegExp(`^ID +\\= ${alloc.ID.slice(0, 8)}$`, 'm'));
    assert.match(allocResult.stdout, /^Task "server" is "pending"$/m);

    const allocTemplate = await signet([
      'alloc',
      'status',
      address,
      '-t',
      '{{.JobID}}/{{.ClientStatus}}',
      alloc.ID,
    ]);
    assert.equal(allocTemplate.code, 0, allocTemplate.stderr);
    assert.equal(allocTemplate.stdout, 'web/running\n');

    const evalResult = await signet(['eval', 'status', address, alloc.EvalID.slice(0, 8)]);
    assert.equal(evalResult.code, 0, evalResult.stderr);
    assert.match(evalResult.stdout, /^Status += complete$/m);
    assert.match(evalResult.stdout, /^TriggeredBy += job-register$/m);

    const evalTemplate = await signet([
      'eval',
      'status',
      address,
      '-t={{.Status}} {{.TriggeredBy}}',
      alloc.EvalID,
    ]);
    assert.equal(evalTemplate.stdout, 'complete job-register\n');

    const missing = await signet(['alloc', 'status', address, 'ffffffff']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: No allocation\(s\) with prefix or id "ffffffff" found/);
  });
});
