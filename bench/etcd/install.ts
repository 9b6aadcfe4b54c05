import { spawnSync } from 'node:child_process';

/** The etcd binary on PATH and its version, or a sentence saying why there is none. */
export type EtcdBinary = { readonly version: string } | string;

const INSTALL_TIMEOUT_MS = 180_000;

function etcdVersion(): string | null {
  const result = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return null;
  return /etcd Version: (\S+)/.exec(result.stdout)?.[1] ?? 'unknown';
}

function aptInstall(): { ok: boolean; output: string } {
  const result = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'etcd-server'], {
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/**
 * Finds etcd, or installs Debian's `etcd-server` package (etcd 3.4 on Debian 12) when it is
 * missing and this process runs as root. When the package is unknown it runs `apt-get update`
 * once and tries again.
 * NOTE: on a host with systemd, the package enables and starts its own etcd service on
 * 127.0.0.1:2379; the benchmark never uses that one, because its members listen on free ports.
 */
export function ensureEtcd(progress: (message: string) => void): EtcdBinary {
  const found = etcdVersion();
  if (found !== null) return { version: found };
  if (process.getuid?.() !== 0) return 'not measured, etcd is not installed and installing it needs root';

  progress('etcd is missing: apt-get install -y --no-install-recommends etcd-server');
  let install = aptInstall();
  if (!install.ok) {
    progress('apt-get install failed; running apt-get update and trying again');
    spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    install = aptInstall();
  }
  const installed = etcdVersion();
  if (!install.ok || installed === null) {
    return `not measured, installing etcd-server failed: ${install.output.split('\n').at(-1) ?? ''}`;
  }
  return { version: installed };
}
