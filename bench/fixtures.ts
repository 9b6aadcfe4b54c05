import { randomUUID } from 'node:crypto';
import type { Allocation } from '../src/structs/allocation.js';
import type { Job } from '../src/structs/job.js';
import type { Node } from '../src/structs/node.js';

/** A fixed Unix time in nanoseconds (2026-01-01T00:00:00Z) for the rows' own times. */
export const T0 = 1_767_225_600_000_000_000;

/** Task resources of every benchmark allocation. */
const TASK_RESOURCES = { CPU: 20, MemoryMB: 20 };

/** Builds a ready node with room for `cpu` MHz and `memoryMB` MB, running the mock and raw_exec drivers. */
export function benchNode(name: string, cpu: number, memoryMB: number): Node {
  return {
    ID: randomUUID(),
    SecretID: randomUUID(),
    Name: name,
    Datacenter: 'dc1',
    NodeClass: '',
    Status: 'ready',
    StatusDescription: '',
    SchedulingEligibility: 'eligible',
    NodeResources: { CPU: cpu, MemoryMB: memoryMB },
    Drivers: { mock: { Detected: true, Healthy: true }, raw_exec: { Detected: true, Healthy: true } },
    Attributes: { 'kernel.name': 'linux', 'cpu.arch': 'amd64' },
    StatusUpdatedAt: T0 / 1e9,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

/** Builds a service job `id` with one group `web` of `count` one-task (`server`, mock driver) allocations. */
export function benchJob(id: string, count: number): Job {
  return {
    ID: id,
    Name: id,
    Namespace: 'default',
    Type: 'service',
    Priority: 50,
    Datacenters: ['dc1'],
    TaskGroups: [
      {
        Name: 'web',
        Count: count,
        Tasks: [
          {
            Name: 'server',
            Driver: 'mock',
            Config: { run_for: '1h', exit_code: 0 },
            Env: null,
            Resources: TASK_RESOURCES,
            Identity: null,
            Identities: [],
            Templates: [],
            KillTimeout: 5_000_000_000,
          },
        ],
      },
    ],
    ParentID: '',
    Stop: false,
    Status: 'pending',
    CreateIndex: 0,
    ModifyIndex: 0,
    JobModifyIndex: 0,
    SubmitTime: T0,
  };
}

/** Allocation `index` of `job`'s group `web` on `node`, unsigned, as the scheduler places it. */
export function benchPlacement(job: Job, node: Node, index: number): Allocation {
  return {
    ID: randomUUID(),
    Namespace: job.Namespace,
    EvalID: randomUUID(),
    Name: `${job.ID}.web[${index}]`,
    NodeID: node.ID,
    NodeName: node.Name,
    JobID: job.ID,
    JobVersion: 0,
    TaskGroup: 'web',
    TaskResources: { server: TASK_RESOURCES },
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'pending',
    ClientDescription: '',
    TaskStates: {},
    SignedIdentities: {},
    SigningKeyID: '',
    PreviousAllocation: '',
    CreateIndex: 0,
    ModifyIndex: 0,
    AllocModifyIndex: 0,
    CreateTime: T0,
    ModifyTime: T0,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
