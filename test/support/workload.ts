import { randomUUID } from 'node:crypto';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import type { Job } from '../../src/structs/job.js';

// Builders of valid jobs, evaluations and allocations for the client RPC tests. Each takes
// overrides, so a test spells out only the fields it is about.

/** A fixed Unix time in nanoseconds (2026-01-01T00:00:00Z). */
export const T0 = 1_767_225_600_000_000_000;

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    ID: 'web',
    Name: 'web',
    Namespace: 'default',
    Type: 'service',
    Priority: 50,
    Datacenters: ['dc1'],
    TaskGroups: [
      {
        Name: 'frontend',
        Count: 1,
        Tasks: [
          {
            Name: 'server',
            Driver: 'mock',
            Config: { run_for: '10s' },
            Env: null,
            Resources: { CPU: 100, MemoryMB: 64 },
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
    ...overrides,
  };
}

export function makeEval(overrides: Partial<Evaluation> = {}): Evaluation {
  return {
    ID: randomUUID(),
    Namespace: 'default',
    Priority: 50,
    Type: 'service',
    TriggeredBy: 'job-register',
    JobID: 'web',
    JobModifyIndex: 0,
    NodeID: '',
    Status: 'pending',
    StatusDescription: '',
    BlockedEval: '',
    PreviousEval: '',
    QueuedAllocations: {},
    CreateIndex: 0,
    ModifyIndex: 0,
    CreateTime: T0,
    ModifyTime: T0,
    ...overrides,
  };
}

export function makeAlloc(overrides: Partial<Allocation> = {}): Allocation {
  return {
    ID: randomUUID(),
    Namespace: 'default',
    EvalID: randomUUID(),
    Name: 'web.frontend[0]',
    NodeID: 'node-1',
    NodeName: 'client-1',
    JobID: 'web',
    JobVersion: 0,
    TaskGroup: 'frontend',
    TaskResources: { server: { CPU: 100, MemoryMB: 64 } },
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
    CreateTime: 0,
    ModifyTime: 0,
    ...overrides,
  };
}

/** Builds the node of a valid Node.Register request, with random IDs. */
export function registration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ID: randomUUID(),
    SecretID: randomUUID(),
    Name: 'client-1',
    Datacenter: 'dc1',
    NodeClass: '',
    NodeResources: { CPU: 4000, MemoryMB: 8192 },
    Drivers: { mock: { Detected: true, Healthy: true } },
    Attributes: { 'kernel.name': 'linux' },
    ...overrides,
  };
}
