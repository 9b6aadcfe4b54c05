import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VolumeMount } from './compose-model.js';

const run = promisify(execFile);

/** The compose network: a bridge in the host namespace, one veth per container. */
const BRIDGE = 'signet-br0';
const BRIDGE_ADDRESS = '10.89.0.1/24';
/** uid and gid of the `node` user of the node:20 images, which the Dockerfile runs as. */
export const IMAGE_UID = 1000;
/** Application folder of the image (its WORKDIR). In a container here it is on a tmpfs over /opt. */
export const IMAGE_APP_DIR = '/opt/signet';
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Repository files bound into a container where the image has its build output. */
export interface AppBind {
  readonly source: string;
  readonly target: string;
}

/** Container emulated by a `sleep` process that keeps its network, UTS and mount namespaces alive. */
export interface Container {
  readonly service: string;
  readonly address: string;
  readonly hostname: string;
  readonly holder: ChildProcess;
  readonly processes: Set<ChildProcess>;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * Containers without Docker, for a test that runs inside fresh network, mount and PID namespaces
 * (`unshare --net --mount --pid`). Each container is a `sleep` process in its own network, UTS and
 * mount namespaces, with a veth on a shared bridge and a tmpfs over /opt that receives the
 * volumes. Names resolve through an /etc/hosts that this namespace's mount table replaces, as the
 * compose network's DNS resolves service names. Nothing here touches the host's own namespaces.
 */
export class ContainerHost {
  readonly #workDir: string;
  readonly #hostsFile: string;
  readonly #appBinds: readonly AppBind[];
  readonly #containers = new Map<string, Container>();
  readonly #names = new Map<string, string>();

  private constructor(workDir: string, appBinds: readonly AppBind[]) {
    this.#workDir = workDir;
    this.#hostsFile = join(workDir, 'hosts');
    this.#appBinds = appBinds;
  }

  /** Brings up loopback and the bridge, and puts a private hosts file over /etc/hosts. */
  static async create(workDir: string, appBinds: readonly AppBind[]): Promise<ContainerHost> {
    const host = new ContainerHost(workDir, appBinds);
    await run('ip', ['link', 'set', 'lo', 'up']);
    await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    await run('ip', ['addr', 'add', BRIDGE_ADDRESS, 'dev', BRIDGE]);
    await run('ip', ['link', 'set', BRIDGE, 'up']);
    await host.#writeHosts();
    await run('mount', ['--bind', host.#hostsFile, '/etc/hosts']);
    return host;
  }

  /** Address of the bridge subnet for container number `index` (from 1). */
  static address(index: number): string {
    return `10.89.0.${10 + index}`;
  }

  get(service: string): Container {
    const container = this.#containers.get(service);
    if (container === undefined) throw new Error(`no container for service ${service}`);
    return container;
  }

  /**
   * Creates the container of `service` at `address`: its namespaces, its link to the bridge, its
   * volumes and its name in /etc/hosts. A named volume is a folder under the work folder, owned by
   * the image's user, because Docker copies the owner of the image's folder into a new volume.
   */
  async createContainer(
    service: string,
    address: string,
    volumes: readonly VolumeMount[],
  ): Promise<Container> {
    const hostname = randomBytes(6).toString('hex');
    const holder = spawn(
      'unshare',
      [
        '--net',
        '--uts',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'hostname "$1" && exec sleep infinity',
        'sh',
        hostname,
      ],
      { stdio: 'ignore' },
    );
    const pid = String(holder.pid);
    const container: Container = { service, address, hostname, holder, processes: new Set() };
    this.#containers.set(service, container);
    // The namespaces exist once the holder has replaced unshare with sh and set the hostname.
    for (let attempt = 0; ; attempt++) {
      const { stdout } = await run('nsenter', ['-t', pid, '-u', 'hostname']).catch(() => ({ stdout: '' }));
      if (stdout.trim() === hostname) break;
      if (attempt >= 200) throw new Error(`the container of ${service} did not start its namespaces`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    const veth = `v-${service}`;
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pid]);
    await run('ip', ['link', 'set', veth, 'master', BRIDGE, 'up']);
    await run('nsenter', ['-t', pid, '-n', 'ip', 'link', 'set', 'lo', 'up']);
    await run('nsenter', ['-t', pid, '-n', 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await run('nsenter', ['-t', pid, '-n', 'ip', 'link', 'set', 'eth0', 'up']);

    const script = ['set -e', 'mount -t tmpfs tmpfs /opt'];
    for (const bind of this.#appBinds) script.push(...this.#bindCommands(bind.source, bind.target, true));
    for (const volume of volumes) {
      let source = volume.source;
      if (volume.named) {
        source = join(this.#workDir, 'volumes', volume.source);
        await mkdir(source, { recursive: true });
        await chown(source, IMAGE_UID, IMAGE_UID);
      }
      script.push(...this.#bindCommands(source, volume.target, volume.readOnly));
    }
    // A container has its own /tmp; it is mounted last because the volume folders live under /tmp.
    script.push('mount -t tmpfs -o mode=1777 tmpfs /tmp');
    await run('nsenter', ['-t', pid, '-m', '--', 'sh', '-c', script.join('\n')]);

    this.#names.set(service, address);
    await this.#writeHosts();
    return container;
  }

  #bindCommands(source: string, target: string, readOnly: boolean): string[] {
    const parent = target.slice(0, target.lastIndexOf('/'));
    const commands = [
      `mkdir -p ${shellQuote(parent)}`,
      `if [ -d ${shellQuote(source)} ]; then mkdir -p ${shellQuote(target)}; else touch ${shellQuote(target)}; fi`,
      `mount --bind ${shellQuote(source)} ${shellQuote(target)}`,
    ];
    if (readOnly) commands.push(`mount -o remount,bind,ro ${shellQuote(target)}`);
    return commands;
  }

  /**
   * Starts `argv` inside the container as the image's user, in the image's working folder, with
   * only `environment` and the image's PATH, as `docker exec` and the container's main process
   * get them. Output goes to `logFile` when given.
   */
  async exec(
    service: string,
    argv: readonly string[],
    environment: Readonly<Record<string, string>>,
    logFile?: string,
  ): Promise<ChildProcess> {
    const container = this.get(service);
    const env = Object.entries({
      PATH: IMAGE_PATH,
      HOME: '/home/node',
      NODE_ENV: 'production',
      ...environment,
    }).map(([name, value]) => `${name}=${value}`);
    const args = [
      '-t',
      String(container.holder.pid),
      '-n',
      '-u',
      '-m',
      '--',
      'setpriv',
      `--reuid=${IMAGE_UID}`,
      `--regid=${IMAGE_UID}`,
      '--clear-groups',
      '--',
      'env',
      '-i',
      `--chdir=${IMAGE_APP_DIR}`,
      ...env,
      ...argv,
    ];
    let output: 'ignore' | number = 'ignore';
    let handle: Awaited<ReturnType<typeof open>> | null = null;
    if (logFile !== undefined) {
      handle = await open(logFile, 'a');
      output = handle.fd;
    }
    try {
      const child = spawn('nsenter', args, { stdio: ['ignore', output, output] });
      container.processes.add(child);
      child.once('exit', () => container.processes.delete(child));
      return child;
    } finally {
      await handle?.close();
    }
  }

  /** Runs `argv` in the container to its end and returns its exit code (null when killed). */
  async execWait(service: string, argv: readonly string[], timeoutMs: number): Promise<number | null> {
    const child = await this.exec(service, argv, {});
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)));
    clearTimeout(timer);
    return code;
  }

  /**
   * Stops the container as `docker stop` does: SIGTERM to its processes, SIGKILL to those still
   * running after `graceMs`, then its namespaces go and its name leaves /etc/hosts. Volumes stay.
   */
  async removeContainer(service: string, graceMs: number): Promise<void> {
    const container = this.get(service);
    const exits = [...container.processes].map(
      (child) =>
        new Promise<void>((resolve) =>
          child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
        ),
    );
    for (const child of container.processes) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const child of container.processes) child.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
    const holderExit = new Promise<void>((resolve) => container.holder.once('exit', () => resolve()));
    container.holder.kill('SIGKILL');
    await holderExit;
    await run('ip', ['link', 'del', `v-${service}`]).catch(() => undefined);
    this.#containers.delete(service);
    this.#names.delete(service);
    await this.#writeHosts();
  }

  async #writeHosts(): Promise<void> {
    const lines = ['127.0.0.1 localhost'];
    for (const [service, address] of this.#names) lines.push(`${address} ${service}`);
    // writeFile truncates the same inode, so the bind mount over /etc/hosts shows the new content.
    await writeFile(this.#hostsFile, `${lines.join('\n')}\n`);
  }
}
