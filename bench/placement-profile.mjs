// CPU profiles of the server agents that a benchmark starts. Node.js 20 rejects `--cpu-prof` in
// NODE_OPTIONS, and the launcher passes no node flags to the agents, but it does pass the
// environment. So this module, loaded into each agent with
//   SIGNET_PROFILE_DIR=/tmp/prof NODE_OPTIONS="--import ./bench/placement-profile.mjs" \
//     npm run bench -- --only placement --no-etcd --out /tmp/out
// starts the inspector's sampling profiler in every `agent -server` process and writes
// `server-PID.cpuprofile` into SIGNET_PROFILE_DIR when the agent exits. Other processes load it and
// do nothing. The files open in Chrome DevTools. Each also has a `clock` field, the wall-clock time
// (ms) and monotonic time (µs, the clock of `startTime` and `timeDeltas`) at the start, so that
// samples can be cut to the window between `startedAtMs` and `startedAtMs + placedMs` of
// bench-results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.SIGNET_PROFILE_DIR;
if (dir && process.argv.includes('agent') && process.argv.includes('-server')) {
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 0.5 ms between samples, twice Node's default rate, for windows of about a second.
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  const clock = { wallMs: Date.now(), monotonicUs: Number(process.hrtime.bigint() / 1000n) };
  // An in-process inspector session runs its callbacks synchronously, so this completes in 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) {
        process.stderr.write(`CPU profile not written: ${err.message}\n`);
        return;
      }
      writeFileSync(`${dir}/server-${process.pid}.cpuprofile`, JSON.stringify({ ...result.profile, clock }));
    });
  });
}
