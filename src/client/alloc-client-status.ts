import type { AllocClientStatus, TaskState } from '../structs/allocation.js';

/**
 * Derives an allocation's client status from its tasks' states, in Nomad's order of precedence. A
 * failed task fails the allocation. Otherwise any running task makes it running, and then any
 * pending task keeps it pending. Only when every task is dead without failure is it complete. The
 * descriptions are Nomad's.
 */
export function allocClientStatus(taskStates: Readonly<Record<string, TaskState>>): {
  status: Exclude<AllocClientStatus, 'lost'>;
  description: string;
} {
  const states = Object.values(taskStates);
  if (states.some((task) => task.State === 'dead' && task.Failed)) {
    return { status: 'failed', description: 'Failed tasks' };
  }
  if (states.some((task) => task.State === 'running'))
    return { status: 'running', description: 'Tasks are running' };
  if (states.length === 0 || states.some((task) => task.State === 'pending')) {
    return { status: 'pending', description: 'No tasks have started' };
  }
  return { status: 'complete', description: 'All tasks have completed' };
}
