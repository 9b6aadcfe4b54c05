import { type Command, encodeCommand } from '../../src/state/commands.js';
import { StateStore } from '../../src/state/store.js';
import type { Allocation, TaskState } from '../../src/structs/allocation.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import type { Job } from '../../src/structs/job.js';
import type { Node } from '../../src/structs/node.js';

// Builders of valid jobs, evaluations, allocations and nodes for the state tests. Each takes
// overrides, so that a test spells out only the fields it is about.

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
        Count: 2,
        Tasks: [
          {
            Name: 'server',
            Driver: 'mock',
            Config: { run_for: '10s', exit_code: 0, nested: { list: [1, 'two', null, true, 2.5] } },
            Env: { PORT: '8080' },
            Resources: { CPU: 100, MemoryMB: 64 },
            Identity: { Name: 'default', Audience: ['signet.io'], Env: true, File: false, TTL: 0 },
            Identities: [],
            Templates: [
              {
                DestPath: 'local/config.txt',
                EmbeddedTmpl: 'port={{ env "PORT" }}',
                ChangeMode: 'restart',
                Envvars: false,
              },
            ],
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
    ID: 'eval-1',
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

export function makeTaskState(overrides: Partial<TaskState> = {}): TaskState {
  return {
    State: 'running',
    Failed: false,
    Restarts: 0,
    StartedAt: '2026-01-01T00:00:01.5Z',
    FinishedAt: '',
    Events: [
      { Type: 'Started', Time: T0 + 1_000_000_000, DisplayMessage: 'Task started by client', ExitCode: 0 },
    ],
    ...overrides,
  };
}

export function makeAlloc(overrides: Partial<Allocation> = {}): Allocation {
  return {
    ID: 'alloc-1',
    Namespace: 'default',
    EvalID: 'eval-1',
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

export function makeNode(overrides: Partial<Node> = {}): Node {
  return {
    ID: 'node-1',
    SecretID: 'secret-1',
    Name: 'client-1',
    Datacenter: 'dc1',
    NodeClass: '',
    Status: 'ready',
    StatusDescription: '',
    SchedulingEligibility: 'eligible',
    NodeResources: { CPU: 4000, MemoryMB: 8192 },
    Drivers: { mock: { Detected: true, Healthy: true }, raw_exec: { Detected: false, Healthy: false } },
    Attributes: { 'kernel.name': 'linux' },
    StatusUpdatedAt: 1_767_225_600,
    CreateIndex: 0,
    ModifyIndex: 0,
    ...overrides,
  };
}

type CommandOf<T extends Command['type']> = Omit<Extract<Command, { type: T }>, 'type' | 'v'>;

/** Newest version of each command that has more than one; the others are at version 1. */
const NEWEST: Partial<Record<Command['type'], number>> = { 'plan-apply': 2, 'root-key-upsert': 2 };

/** Builds a command of type `type` at its newest version. */
export function command<T extends Command['type']>(type: T, payload: CommandOf<T>): Command {
  return { type, v: NEWEST[type] ?? 1, ...payload } as unknown as Command;
}

/** Encodes a command of type `type` at its newest version for `StateStore.apply`. */
export function entry<T extends Command['type']>(type: T, payload: CommandOf<T>): Uint8Array {
  return encodeCommand(command(type, payload));
}

/** Returns a store past the bootstrap entry at index 1, as the Raft driver leaves it. */
export function bootstrappedStore(): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  return store;
}

/** Applies `data` at the next index and fails the test's caller when the state rejects it. */
export function applyOk(store: StateStore, data: Uint8Array): number {
  const index = store.latestIndex + 1;
  const result = store.apply(index, data);
  if (!result.ok) throw new Error(`entry ${index} was not applied: ${result.message}`);
  return index;
}
