import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { summarize } from './child.js';

/**
 * Child process: appends `recordBytes`-byte records to a file in `dir`, with an fsync after each,
 * for `durationMs`, and prints the latency summary of write+fsync as one JSON line. Appending
 * grows the file, as a write-ahead log does, so each fsync also flushes the file's size.
 */
interface FsyncProbeConfig {
  readonly dir: string;
  readonly recordBytes: number;
  readonly durationMs: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as FsyncProbeConfig;
const path = join(config.dir, 'fsync-probe.dat');
const record = Buffer.alloc(config.recordBytes, 0x61);
const fd = openSync(path, 'a');
try {
  const latenciesMs: number[] = [];
  const started = performance.now();
  const deadline = started + config.durationMs;
  while (performance.now() < deadline) {
    const sent = performance.now();
    writeSync(fd, record);
    fsyncSync(fd);
    latenciesMs.push(performance.now() - sent);
  }
  console.log(JSON.stringify(summarize(latenciesMs, performance.now() - started)));
} finally {
  closeSync(fd);
  rmSync(path, { force: true });
}
