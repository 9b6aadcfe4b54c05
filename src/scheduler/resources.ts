import type { Allocation } from '../structs/allocation.js';
import type { Resources, TaskGroup } from '../structs/job.js';

export const NO_RESOURCES: Resources = { CPU: 0, MemoryMB: 0 };

export function addResources(a: Resources, b: Resources): Resources {
  return { CPU: a.CPU + b.CPU, MemoryMB: a.MemoryMB + b.MemoryMB };
}

export function subtractResources(a: Resources, b: Resources): Resources {
  return { CPU: a.CPU - b.CPU, MemoryMB: a.MemoryMB - b.MemoryMB };
}

/** Resources one allocation reserves on its node: the sum over its tasks. */
export function allocResources(alloc: Pick<Allocation, 'TaskResources'>): Resources {
  let total = NO_RESOURCES;
  for (const task of Object.values(alloc.TaskResources)) total = addResources(total, task);
  return total;
}

/** Resources one allocation of the group reserves, by task and in total. */
export function groupResources(group: TaskGroup): { byTask: Record<string, Resources>; total: Resources } {
  const byTask: Record<string, Resources> = {};
  let total = NO_RESOURCES;
  for (const task of group.Tasks) {
    byTask[task.Name] = { CPU: task.Resources.CPU, MemoryMB: task.Resources.MemoryMB };
    total = addResources(total, task.Resources);
  }
  return { byTask, total };
}

/** Returns the dimensions, in Nomad's names, in which `used` exceeds `capacity`. */
export function exceededDimensions(used: Resources, capacity: Resources): Array<'cpu' | 'memory'> {
  const exceeded: Array<'cpu' | 'memory'> = [];
  if (used.CPU > capacity.CPU) exceeded.push('cpu');
  if (used.MemoryMB > capacity.MemoryMB) exceeded.push('memory');
  return exceeded;
}
