import type { Job, Task } from '../../src/structs/job.js';

/** The example job of examples/example.nomad.hcl, as a client sends it to `PUT /v1/jobs`. */
export const EXAMPLE_JSON = {
  ID: 'example',
  Datacenters: ['*'],
  Type: 'service',
  TaskGroups: [
    {
      Name: 'cache',
      Count: 1,
      Tasks: [
        {
          Name: 'redis',
          Driver: 'raw_exec',
          Config: { command: '/bin/sleep', args: ['3600'] },
          Env: { GREETING: 'hello' },
          Resources: { CPU: 100, MemoryMB: 128 },
          Identity: { Env: true, File: true },
          Templates: [
            {
              EmbeddedTmpl: 'job {{ env "NOMAD_JOB_ID" }} in {{ env "NOMAD_NAMESPACE" }}\n',
              DestPath: 'local/about.txt',
              ChangeMode: 'noop',
            },
          ],
          KillTimeout: 5_000_000_000,
        },
      ],
    },
  ],
};

const TASK: Task = {
  Name: 'redis',
  Driver: 'raw_exec',
  Config: { command: '/bin/sleep', args: ['60'] },
  Env: null,
  Resources: { CPU: 100, MemoryMB: 300 },
  Identity: null,
  Identities: [],
  Templates: [],
  KillTimeout: 5_000_000_000,
};

/** Returns a valid canonical job with group `cache` and task `redis`, after `change` edits it. */
export function validJob(change: (job: Mutable<Job>) => void = () => {}): Job {
  const job: Mutable<Job> = structuredClone({
    ID: 'example',
    Name: 'example',
    Namespace: 'default',
    Type: 'service',
    Priority: 50,
    Datacenters: ['*'],
    TaskGroups: [{ Name: 'cache', Count: 1, Tasks: [TASK] }],
    ParentID: '',
    Stop: false,
    Status: 'pending',
    CreateIndex: 0,
    ModifyIndex: 0,
    JobModifyIndex: 0,
    SubmitTime: 0,
  }) as Mutable<Job>;
  change(job);
  return job;
}

/** Deep mutable view of a readonly structure, so that test cases can edit a copy in place. */
export type Mutable<T> = T extends readonly (infer E)[]
  ? Mutable<E>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

/** Returns the first task of the first group, for edits. */
export function firstTask(job: Mutable<Job>): Mutable<Task> {
  return job.TaskGroups[0]!.Tasks[0]!;
}
