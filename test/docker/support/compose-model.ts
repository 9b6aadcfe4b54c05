import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
export const EXAMPLE_ENV_FILE = join(REPO_ROOT, 'docker/cluster.env.example');

/** A service of `docker-compose config` output, reduced to the fields these tests read. */
export interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string };
  readonly command?: string[];
  readonly environment?: Record<string, string | null>;
  readonly volumes?: string[];
  readonly ports?: string[];
  readonly init?: boolean;
  readonly healthcheck?: { readonly test: string[] };
  readonly depends_on?: Record<string, { readonly condition: string }>;
}

export interface ComposeConfig {
  readonly services: Record<string, ComposeService>;
  readonly volumes?: Record<string, unknown>;
}

/** One volume of a service, as the short syntax `source:target[:mode]` gives it. */
export interface VolumeMount {
  /** Absolute host path for a bind mount, or the name of a named volume. */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  readonly named: boolean;
}

/**
 * Returns why the compose file cannot be read here, or null when it can. Debian's docker-compose
 * 1.29 prints its configuration only as YAML, and this repository has no YAML parser, so the
 * Python YAML module that docker-compose itself depends on converts it.
 */
export async function composeUnavailable(): Promise<string | null> {
  try {
    await run('docker-compose', ['version']);
  } catch {
    return 'docker-compose is not installed (Debian package docker-compose)';
  }
  try {
    await run('python3', ['-c', 'import yaml']);
  } catch {
    return 'python3 with the yaml module is missing (Debian package python3-yaml)';
  }
  return null;
}

/**
 * Runs `docker-compose config` with SIGNET_ENV_FILE set to `envFile` and returns the resolved
 * configuration: anchors merged, env files read into `environment`, paths made absolute.
 */
export async function loadComposeConfig(envFile: string): Promise<ComposeConfig> {
  const { stdout: yaml } = await run('docker-compose', ['-f', COMPOSE_FILE, 'config'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SIGNET_ENV_FILE: envFile },
  });
  const json = await new Promise<string>((resolveJson, reject) => {
    const child = execFile(
      'python3',
      ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
      (err, stdout) => (err === null ? resolveJson(stdout) : reject(err)),
    );
    child.stdin?.end(yaml);
  });
  return JSON.parse(json) as ComposeConfig;
}

/** Parses a volume in the short syntax that docker-compose 1.29 prints. */
export function parseVolume(text: string, declared: readonly string[]): VolumeMount {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3)
    throw new Error(`unexpected volume syntax ${JSON.stringify(text)}`);
  const [source, target, mode = 'rw'] = parts as [string, string, string?];
  const named = !source.startsWith('/') && !source.startsWith('.');
  if (named && !declared.includes(source)) {
    throw new Error(`volume ${source} is used but not declared under the top-level volumes`);
  }
  return { source, target, readOnly: mode.split(',').includes('ro'), named };
}

/** Reads the exec form of the Dockerfile's ENTRYPOINT, such as `["node", "/opt/.../main.js"]`. */
export async function dockerfileEntrypoint(): Promise<string[]> {
  const text = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((line) => /^ENTRYPOINT\s/.test(line));
  if (lines.length !== 1)
    throw new Error(`expected one ENTRYPOINT line in the Dockerfile, found ${lines.length}`);
  return JSON.parse(lines[0]!.replace(/^ENTRYPOINT\s+/, '')) as string[];
}

/** A compose service as the namespace host runs it. */
export interface ServicePlan {
  readonly name: string;
  /** The image's entrypoint followed by the service's command. */
  readonly argv: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly volumes: readonly VolumeMount[];
  /** The healthcheck command in exec form (the part after `CMD`), or null without a check. */
  readonly healthcheck: readonly string[] | null;
  /** Services that must pass their healthcheck before this one starts. */
  readonly waitsFor: readonly string[];
}

/** What the namespace host reads: the services and where to put its report and logs. */
export interface HostPlan {
  readonly repoRoot: string;
  readonly workDir: string;
  readonly reportFile: string;
  readonly services: readonly ServicePlan[];
}

/**
 * Turns the resolved compose file into the services to run. `entrypoint` replaces the image's
 * ENTRYPOINT, which the caller derives from the Dockerfile.
 */
export function planServices(compose: ComposeConfig, entrypoint: readonly string[]): ServicePlan[] {
  const declared = Object.keys(compose.volumes ?? {});
  return Object.entries(compose.services).map(([name, service]) => {
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(service.environment ?? {})) environment[key] = value ?? '';
    const check = service.healthcheck?.test ?? null;
    if (check !== null && check[0] !== 'CMD') {
      throw new Error(`service ${name}: only the exec form ["CMD", ...] of a healthcheck is supported here`);
    }
    const waitsFor = Object.entries(service.depends_on ?? {})
      .filter(([, dependency]) => dependency.condition === 'service_healthy')
      .map(([dependency]) => dependency);
    return {
      name,
      argv: [...entrypoint, ...(service.command ?? [])],
      environment,
      volumes: (service.volumes ?? []).map((volume) => parseVolume(volume, declared)),
      healthcheck: check === null ? null : check.slice(1),
      waitsFor,
    };
  });
}

/** What the cluster looked like after one phase of the namespace host's run. */
export interface PhaseReport {
  readonly name: string;
  /** Container address of each service in this phase. */
  readonly addresses: Record<string, string>;
  /** Time from a service's start to its first passing healthcheck, in ms. */
  readonly healthyAfterMs: Record<string, number>;
  readonly raft: { Node: string; Address: string; Voter: boolean; Leader: boolean }[];
  readonly members: { Name: string; Addr: string; Port: number; Status: string }[];
  readonly nodes: { Name: string; Status: string }[];
  /** Allocations of the phase's probe job: the client that runs each and the uid its task ran as. */
  readonly allocations: { node: string; clientStatus: string; uid: string | null }[];
}

export interface HostReport {
  readonly phases: PhaseReport[];
  /** The first failure, or null when every phase completed. */
  error: string | null;
  /** The last lines of each service's output, for the failure message. */
  readonly logTails: Record<string, string>;
}
