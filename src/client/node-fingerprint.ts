import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import type { DriverInfo } from '../structs/node.js';
import { SIGNET_VERSION } from '../version.js';

/** Facts that the client advertises about its host: capacity for the scheduler, and attributes. */
export interface NodeFingerprint {
  readonly cpuMhz: number;
  readonly memoryMb: number;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface FingerprintOptions {
  /** `client.cpu_total_compute`: CPU in MHz to advertise, or null to measure it. */
  readonly cpuTotalComputeMhz: number | null;
  /** `client.memory_total_mb`: memory in MB to advertise, or null to measure it. */
  readonly memoryTotalMb: number | null;
  /** Result of each driver's fingerprint, by driver name. */
  readonly drivers: Readonly<Record<string, DriverInfo>>;
}

/**
 * Measures the host as Nomad's cpu and memory fingerprints do: CPU is cores × clock speed in MHz,
 * memory is the total RAM. Attributes use Nomad's names (`kernel.name`, `cpu.arch`,
 * `driver.raw_exec`...), so job constraints read the same. Throws when the clock speed cannot be
 * read and `client.cpu_total_compute` is not set.
 */
export async function fingerprintNode(options: FingerprintOptions): Promise<NodeFingerprint> {
  const cores = Math.max(1, cpus().length);
  let cpuMhz = options.cpuTotalComputeMhz;
  let frequencyMhz = 0;
  if (cpuMhz === null) {
    frequencyMhz = await clockSpeedMhz();
    if (frequencyMhz <= 0) {
      throw new Error(
        'cannot fingerprint the CPU: the clock speed of this host is unknown; set client { cpu_total_compute = MHZ } in the agent configuration',
      );
    }
    cpuMhz = cores * frequencyMhz;
  }
  const totalBytes = totalmem();
  const memoryMb = options.memoryTotalMb ?? Math.floor(totalBytes / (1024 * 1024));

  const attributes: Record<string, string> = {
    'kernel.name': platform(),
    'kernel.version': release(),
    'cpu.arch': arch(),
    'cpu.numcores': String(cores),
    'cpu.totalcompute': String(cpuMhz),
    'memory.totalbytes': String(totalBytes),
    'unique.hostname': hostname(),
    'signet.version': SIGNET_VERSION,
  };
  if (frequencyMhz > 0) attributes['cpu.frequency'] = String(frequencyMhz);
  for (const [name, info] of Object.entries(options.drivers)) {
    if (info.Detected) attributes[`driver.${name}`] = '1';
  }
  return { cpuMhz, memoryMb, attributes };
}

/**
 * Clock speed of the first core in MHz, or 0 when unknown. Node reads it from cpufreq, which many
 * virtual machines lack; /proc/cpuinfo's `cpu MHz` line is the fallback on Linux.
 */
async function clockSpeedMhz(): Promise<number> {
  const speed = cpus()[0]?.speed ?? 0;
  if (speed > 0) return speed;
  if (platform() !== 'linux') return 0;
  try {
    const match = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(await readFile('/proc/cpuinfo', 'utf8'));
    return match === null ? 0 : Math.floor(Number(match[1]));
  } catch {
    return 0;
  }
}
