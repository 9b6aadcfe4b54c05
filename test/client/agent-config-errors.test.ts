import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Runs `signet agent ARGS` to its exit; none of these agents gets past its configuration. */
function runAgent(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stderr });
    });
  });
}

describe('client agent configuration errors', { timeout: 120_000 }, () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-config-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const cases: { name: string; config: string | null; flags: string[]; field: string }[] = [
    { name: 'client without servers', config: null, flags: ['-client'], field: 'client.servers' },
    {
      name: 'misspelled plugin option',
      config:
        'client { enabled = true\n servers = ["127.0.0.1:4647"] }\nplugin "raw_exec" { config { enabeld = true } }',
      flags: [],
      field: 'plugin.raw_exec.config.enabeld',
    },
    {
      name: 'unknown plugin',
      config:
        'client { enabled = true\n servers = ["127.0.0.1:4647"] }\nplugin "docker" { config { enabled = true } }',
      flags: [],
      field: 'plugin.docker',
    },
    {
      name: 'zero cpu_total_compute',
      config: 'client { enabled = true\n servers = ["127.0.0.1:4647"]\n cpu_total_compute = 0 }',
      flags: [],
      field: 'client.cpu_total_compute',
    },
    {
      name: 'server and client together',
      config: null,
      flags: ['-server', '-client', '-servers', '127.0.0.1:4647'],
      field: 'client.enabled',
    },
  ];

  for (const { name, config, flags, field } of cases) {
    test(`${name} names ${field}`, async () => {
      const dataDir = join(root, name.replaceAll(' ', '-'));
      const args = [...flags, '-data-dir', dataDir];
      if (config !== null) {
        const file = join(root, `${name.replaceAll(' ', '-')}.hcl`);
        await writeFile(file, config);
        args.push('-config', file);
      }
      const { code, stderr } = await runAgent(args);
      assert.equal(code, 1, stderr);
      assert.ok(stderr.includes(field), stderr);
    });
  }
});
