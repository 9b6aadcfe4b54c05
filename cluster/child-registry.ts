import type { ChildProcess } from 'node:child_process';

// Every agent process that is alive, with how to end it at once, so that an exiting launcher can
// SIGKILL what it did not stop.
const liveChildren = new Map<ChildProcess, () => void>();
let exitHookInstalled = false;

/**
 * Registers `child` until it exits. When the launcher's process exits first, `killNowSync` runs
 * (default: SIGKILL to the child). It must be synchronous, because only synchronous work runs in
 * an exit handler, so it cannot wait for a graceful stop.
 */
export function trackChild(child: ChildProcess, killNowSync: () => void = () => child.kill('SIGKILL')): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const kill of liveChildren.values()) kill();
    });
  }
  liveChildren.set(child, killNowSync);
  child.once('exit', () => liveChildren.delete(child));
  // A spawn failure (no such executable) emits 'error' and no 'exit', and leaves no process.
  child.once('error', () => {
    if (child.pid === undefined) liveChildren.delete(child);
  });
}
