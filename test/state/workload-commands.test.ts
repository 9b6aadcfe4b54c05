import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { type Command, decodeCommand, encodeCommand, validateCommand } from '../../src/state/commands.js';
import { CommandError } from '../../src/state/errors.js';
import { MAX_PLAN_ALLOCS } from '../../src/state/limits.js';
import { makeAlloc, makeEval, makeJob, makeNode, makeTaskState, T0 } from './workload-fixtures.js';

const plainPackr = new Packr({ useRecords: false });

/** Returns the CommandError that `run` throws, failing the test when it throws anything else. */
function commandErrorOf(run: () => unknown): CommandError {
  try {
    run();
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  assert.fail('expected a CommandError');
}

const valid: Command[] = [
  { type: 'job-register', v: 1, job: makeJob(), eval: makeEval() },
  { type: 'job-register', v: 1, job: makeJob({ Type: 'batch', TaskGroups: [] }), eval: null },
  {
    type: 'job-deregister',
    v: 1,
    namespace: 'default',
    jobId: 'web',
    purge: false,
    eval: makeEval(),
    time: T0,
  },
  { type: 'job-deregister', v: 1, namespace: 'default', jobId: 'web', purge: true, eval: null, time: 0 },
  {
    type: 'eval-upsert',
    v: 1,
    evals: [makeEval(), makeEval({ ID: 'eval-2', QueuedAllocations: { web: 3 } })],
  },
  { type: 'eval-upsert', v: 1, evals: [] },
  {
    type: 'plan-apply',
    v: 2,
    place: [makeAlloc({ TaskStates: { server: makeTaskState() } })],
    stop: [
      { ID: 'alloc-0', DesiredDescription: 'alloc not needed' },
      { ID: 'alloc-9', DesiredDescription: 'node down', ClientStatus: 'lost' },
    ],
    evals: [makeEval({ Status: 'complete' })],
    time: T0,
  },
  { type: 'node-register', v: 1, node: makeNode() },
  {
    type: 'node-status',
    v: 1,
    nodeId: 'node-1',
    status: 'down',
    description: 'heartbeat missed',
    time: T0,
    evals: [makeEval({ TriggeredBy: 'node-update', NodeID: 'node-1' })],
  },
  {
    type: 'alloc-client-update',
    v: 1,
    updates: [
      {
        ID: 'alloc-1',
        ClientStatus: 'running',
        ClientDescription: '',
        TaskStates: { server: makeTaskState() },
      },
    ],
    evals: [],
    time: T0,
  },
];

function jobRegister(job: Record<string, unknown>, evaluation: unknown = null): Record<string, unknown> {
  return { type: 'job-register', v: 1, job: { ...makeJob(), ...job }, eval: evaluation };
}

function withTask(task: Record<string, unknown>): Record<string, unknown> {
  const job = makeJob();
  const group = job.TaskGroups[0]!;
  return jobRegister({ TaskGroups: [{ ...group, Tasks: [{ ...group.Tasks[0]!, ...task }] }] });
}

function planApply(plan: Record<string, unknown>): Record<string, unknown> {
  return { type: 'plan-apply', v: 2, place: [], stop: [], evals: [], time: T0, ...plan };
}

function clientUpdate(update: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'alloc-client-update',
    v: 1,
    updates: [{ ID: 'alloc-1', ClientStatus: 'running', ClientDescription: '', TaskStates: {}, ...update }],
    evals: [],
    time: T0,
  };
}

function nodeRegister(node: Record<string, unknown>): Record<string, unknown> {
  return { type: 'node-register', v: 1, node: { ...makeNode(), ...node } };
}

describe('workload commands', () => {
  for (const command of valid) {
    test(`${command.type} survives a round trip`, () => {
      assert.deepEqual(decodeCommand(encodeCommand(command)), command);
    });
  }

  test('validation returns a frozen copy', () => {
    const input = valid[0] as Extract<Command, { type: 'job-register' }>;
    const command = validateCommand(input) as typeof input;
    assert.deepEqual(command, input);
    assert.notEqual(command.job, input.job);
    assert.ok(Object.isFrozen(command.job.TaskGroups[0]!.Tasks[0]!.Config));
    assert.ok(Object.isFrozen(command.job.TaskGroups[0]!.Tasks[0]!.Config.nested));
  });

  test('negative zero becomes zero, as MessagePack stores it', () => {
    const command = validateCommand(withTask({ Config: { weight: -0 }, KillTimeout: -0 })) as Extract<
      Command,
      { type: 'job-register' }
    >;
    const task = command.job.TaskGroups[0]!.Tasks[0]!;
    assert.ok(Object.is(task.Config.weight, 0));
    assert.ok(Object.is(task.KillTimeout, 0));
    assert.deepEqual(decodeCommand(encodeCommand(command)), command);
  });

  test('nanosecond times above 2^53 survive', () => {
    // Above 2^53, so a double that is not a safe integer: it must arrive exactly as sent.
    const time = 1_767_225_600_123_456_800;
    assert.equal(Number.isSafeInteger(time), false);
    const command = validateCommand(planApply({ time })) as Extract<Command, { type: 'plan-apply' }>;
    assert.equal(command.time, time);
    assert.equal((decodeCommand(encodeCommand(command)) as typeof command).time, time);
  });

  test('absent and undefined stop status read the same', () => {
    const absent = validateCommand(planApply({ stop: [{ ID: 'a', DesiredDescription: '' }] }));
    const undefinedStatus = validateCommand(
      planApply({ stop: [{ ID: 'a', DesiredDescription: '', ClientStatus: undefined }] }),
    );
    assert.deepEqual(undefinedStatus, absent);
    assert.equal(
      Object.hasOwn((absent as Extract<Command, { type: 'plan-apply' }>).stop[0]!, 'ClientStatus'),
      false,
    );
  });

  test('plan of 10,000 allocations is accepted', () => {
    const place = Array.from({ length: 10_000 }, (_, i) =>
      makeAlloc({ ID: `alloc-${i}`, Name: `web.frontend[${i}]` }),
    );
    const command = validateCommand(planApply({ place })) as Extract<Command, { type: 'plan-apply' }>;
    assert.equal(command.place.length, 10_000);
    assert.equal((decodeCommand(encodeCommand(command)) as typeof command).place.length, 10_000);
  });

  test('plan above the allocation limit is rejected', () => {
    const stop = Array.from({ length: MAX_PLAN_ALLOCS + 1 }, (_, i) => ({
      ID: `a-${i}`,
      DesiredDescription: '',
    }));
    const err = commandErrorOf(() => validateCommand(planApply({ stop })));
    assert.equal(err.field, 'stop');
  });

  const job = makeJob();
  const group = job.TaskGroups[0]!;
  // [case, input, expected field]
  const rejected: [string, unknown, string][] = [
    ['job without eval field', { type: 'job-register', v: 1, job }, 'eval'],
    ['job with an extra field', jobRegister({ Meta: {} }), 'job.Meta'],
    ['job without ID', jobRegister({ ID: '' }), 'job.ID'],
    ['job ID with NUL', jobRegister({ ID: 'a\u0000b' }), 'job.ID'],
    ['job ID of 257 bytes', jobRegister({ ID: 'j'.repeat(257) }), 'job.ID'],
    ['job in an invalid namespace', jobRegister({ Namespace: 'a b' }), 'job.Namespace'],
    ['job of type system', jobRegister({ Type: 'system' }), 'job.Type'],
    ['priority 0', jobRegister({ Priority: 0 }), 'job.Priority'],
    ['priority 101', jobRegister({ Priority: 101 }), 'job.Priority'],
    ['datacenter that is not a string', jobRegister({ Datacenters: [1] }), 'job.Datacenters.0'],
    ['Stop as a string', jobRegister({ Stop: 'false' }), 'job.Stop'],
    ['unknown job status', jobRegister({ Status: 'complete' }), 'job.Status'],
    ['fractional SubmitTime', jobRegister({ SubmitTime: 1.5 }), 'job.SubmitTime'],
    ['negative SubmitTime', jobRegister({ SubmitTime: -1 }), 'job.SubmitTime'],
    ['SubmitTime of 2^63', jobRegister({ SubmitTime: 2 ** 63 }), 'job.SubmitTime'],
    ['BigInt ModifyIndex', jobRegister({ ModifyIndex: 5n }), 'job.ModifyIndex'],
    ['repeated group name', jobRegister({ TaskGroups: [group, group] }), 'job.TaskGroups.1'],
    ['negative count', jobRegister({ TaskGroups: [{ ...group, Count: -1 }] }), 'job.TaskGroups.0.Count'],
    [
      'repeated task name',
      jobRegister({ TaskGroups: [{ ...group, Tasks: [group.Tasks[0], group.Tasks[0]] }] }),
      'job.TaskGroups.0.Tasks.1',
    ],
    ['empty driver', withTask({ Driver: '' }), 'job.TaskGroups.0.Tasks.0.Driver'],
    ['Config as an array', withTask({ Config: [] }), 'job.TaskGroups.0.Tasks.0.Config'],
    ['Config with NaN', withTask({ Config: { x: Number.NaN } }), 'job.TaskGroups.0.Tasks.0.Config.x'],
    [
      'Config with binary data',
      withTask({ Config: { x: new Uint8Array(2) } }),
      'job.TaskGroups.0.Tasks.0.Config.x',
    ],
    ['Config with a BigInt', withTask({ Config: { x: [1n] } }), 'job.TaskGroups.0.Tasks.0.Config.x.0'],
    ['Config with a Date', withTask({ Config: { x: new Date(0) } }), 'job.TaskGroups.0.Tasks.0.Config.x'],
    ['Config with undefined', withTask({ Config: { x: undefined } }), 'job.TaskGroups.0.Tasks.0.Config.x'],
    [
      'Config with __proto__',
      withTask({ Config: JSON.parse('{"__proto__": 1}') }),
      'job.TaskGroups.0.Tasks.0.Config',
    ],
    [
      'Config nested 17 levels',
      withTask({ Config: JSON.parse(`${'{"a":'.repeat(17)}1${'}'.repeat(17)}`) }),
      `job.TaskGroups.0.Tasks.0.Config${'.a'.repeat(16)}`,
    ],
    ['Env with a number', withTask({ Env: { PORT: 80 } }), 'job.TaskGroups.0.Tasks.0.Env.PORT'],
    [
      'negative CPU',
      withTask({ Resources: { CPU: -1, MemoryMB: 1 } }),
      'job.TaskGroups.0.Tasks.0.Resources.CPU',
    ],
    [
      'memory above int32',
      withTask({ Resources: { CPU: 1, MemoryMB: 2 ** 31 } }),
      'job.TaskGroups.0.Tasks.0.Resources.MemoryMB',
    ],
    [
      'identity without File',
      withTask({ Identity: { Name: 'default', Audience: [], Env: true, TTL: 0 } }),
      'job.TaskGroups.0.Tasks.0.Identity.File',
    ],
    [
      'template with an unknown change mode',
      withTask({ Templates: [{ DestPath: 'a', EmbeddedTmpl: '', ChangeMode: 'reload', Envvars: false }] }),
      'job.TaskGroups.0.Tasks.0.Templates.0.ChangeMode',
    ],
    ['eval of another job', jobRegister({}, makeEval({ JobID: 'db' })), 'eval.JobID'],
    ['eval in another namespace', jobRegister({}, makeEval({ Namespace: 'prod' })), 'eval.Namespace'],
    [
      'deregister eval of another job',
      {
        type: 'job-deregister',
        v: 1,
        namespace: 'default',
        jobId: 'db',
        purge: false,
        eval: makeEval(),
        time: T0,
      },
      'eval.JobID',
    ],
    [
      'deregister with purge as a string',
      {
        type: 'job-deregister',
        v: 1,
        namespace: 'default',
        jobId: 'web',
        purge: 'true',
        eval: null,
        time: T0,
      },
      'purge',
    ],
    [
      'deregister without time',
      { type: 'job-deregister', v: 1, namespace: 'default', jobId: 'web', purge: false, eval: null },
      'time',
    ],
    ['eval ID with a slash', { type: 'eval-upsert', v: 1, evals: [makeEval({ ID: 'a/b' })] }, 'evals.0.ID'],
    [
      'eval with a space in NodeID',
      { type: 'eval-upsert', v: 1, evals: [makeEval({ NodeID: 'a b' })] },
      'evals.0.NodeID',
    ],
    [
      'eval with an unknown trigger',
      { type: 'eval-upsert', v: 1, evals: [makeEval({ TriggeredBy: 'periodic-job' as 'job-register' })] },
      'evals.0.TriggeredBy',
    ],
    [
      'eval with a negative queue',
      { type: 'eval-upsert', v: 1, evals: [makeEval({ QueuedAllocations: { web: -1 } })] },
      'evals.0.QueuedAllocations.web',
    ],
    ['repeated eval ID', { type: 'eval-upsert', v: 1, evals: [makeEval(), makeEval()] }, 'evals.1.ID'],
    ['evals not an array', { type: 'eval-upsert', v: 1, evals: {} }, 'evals'],
    ['placement with an empty node', planApply({ place: [makeAlloc({ NodeID: '' })] }), 'place.0.NodeID'],
    [
      'placement with an unknown desired status',
      planApply({ place: [makeAlloc({ DesiredStatus: 'pause' as 'run' })] }),
      'place.0.DesiredStatus',
    ],
    [
      'placement with task resources of a number',
      planApply({ place: [makeAlloc({ TaskResources: { server: 5 as never } })] }),
      'place.0.TaskResources.server',
    ],
    ['repeated placement', planApply({ place: [makeAlloc(), makeAlloc()] }), 'place.1.ID'],
    [
      'allocation both placed and stopped',
      planApply({ place: [makeAlloc()], stop: [{ ID: 'alloc-1', DesiredDescription: '' }] }),
      'stop.0.ID',
    ],
    [
      'stop with client status failed',
      planApply({ stop: [{ ID: 'a', DesiredDescription: '', ClientStatus: 'failed' }] }),
      'stop.0.ClientStatus',
    ],
    [
      'stop with an extra field',
      planApply({ stop: [{ ID: 'a', DesiredDescription: '', Force: true }] }),
      'stop.0.Force',
    ],
    ['plan with a fractional time', planApply({ time: 0.5 }), 'time'],
    ['node without SecretID', nodeRegister({ SecretID: '' }), 'node.SecretID'],
    ['node with an unknown status', nodeRegister({ Status: 'up' }), 'node.Status'],
    [
      'node with a driver flag as a string',
      nodeRegister({ Drivers: { mock: { Detected: 'yes', Healthy: true } } }),
      'node.Drivers.mock.Detected',
    ],
    [
      'node with an attribute of a number',
      nodeRegister({ Attributes: { cores: 4 } }),
      'node.Attributes.cores',
    ],
    ['node with null attributes', nodeRegister({ Attributes: null }), 'node.Attributes'],
    [
      'node status of an unknown kind',
      { type: 'node-status', v: 1, nodeId: 'node-1', status: 'gone', description: '', time: T0, evals: [] },
      'status',
    ],
    ['client update reporting lost', clientUpdate({ ClientStatus: 'lost' }), 'updates.0.ClientStatus'],
    [
      'client update with a task state of an unknown kind',
      clientUpdate({ TaskStates: { server: { ...makeTaskState(), State: 'exited' } } }),
      'updates.0.TaskStates.server.State',
    ],
    [
      'client update with a malformed start time',
      clientUpdate({ TaskStates: { server: makeTaskState({ StartedAt: 'yesterday' }) } }),
      'updates.0.TaskStates.server.StartedAt',
    ],
    [
      'client update with 65 events',
      clientUpdate({
        TaskStates: { server: makeTaskState({ Events: Array(65).fill(makeTaskState().Events[0]) }) },
      }),
      'updates.0.TaskStates.server.Events',
    ],
    [
      'repeated client update',
      {
        type: 'alloc-client-update',
        v: 1,
        updates: [clientUpdate({}).updates, clientUpdate({}).updates].flat(),
        evals: [],
        time: T0,
      },
      'updates.1.ID',
    ],
  ];
  for (const [name, input, field] of rejected) {
    test(`rejects ${name}`, () => {
      const err = commandErrorOf(() => validateCommand(input));
      assert.equal(err.code, 'INVALID_FIELD');
      assert.equal(err.field, field);
      assert.ok(err.problem.length > 0);
    });
  }

  test('decoding runs the same checks', () => {
    const err = commandErrorOf(() => decodeCommand(plainPackr.pack(jobRegister({ Priority: 0 }))));
    assert.equal(err.field, 'job.Priority');
  });
});

describe('workload command fuzzing', () => {
  test('mutated encodings throw only CommandError', () => {
    const encoded = valid.map((command) => encodeCommand(command));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: encoded.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = Buffer.from(encoded[which]!);
          for (const [position, byte] of edits) bytes[position % bytes.length] = byte;
          try {
            const command = decodeCommand(bytes);
            // Whatever decodes must be a valid command that encodes back to the same command.
            assert.deepEqual(decodeCommand(encodeCommand(command)), command);
          } catch (err) {
            if (!(err instanceof CommandError)) throw err;
          }
        },
      ),
      { seed: 20261212, numRuns: 20_000 },
    );
  });
});
