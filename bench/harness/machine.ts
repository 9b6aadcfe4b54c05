import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';

/** The machine a report was measured on, because every figure depends on it. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  /** Device, type and size of the filesystem under the temporary folder, which contains every data folder. */
  readonly disk: string;
  readonly node: string;
  readonly platform: string;
  /** The 1-minute load average when the run started: other work on the machine skews every figure. */
  readonly loadAverageAtStart: number;
}

/** Describes the filesystem under `path` with `df`, or returns why it cannot. */
function describeDisk(path: string): string {
  const result = spawnSync('df', ['-h', '--output=source,fstype,size', path], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return `unknown (df failed on ${path})`;
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  const [source, fsType, size] = line.trim().split(/\s+/);
  return `${source} (${fsType}, ${size}) under ${path}`;
}

export function describeMachine(): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryBytes: totalmem(),
    disk: describeDisk(tmpdir()),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
}
