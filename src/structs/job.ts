/**
 * A job in Nomad's JSON shape (PascalCase fields), after defaults are filled in. Durations are in
 * nanoseconds, as in Nomad's API.
 */
export type JobType = 'service' | 'batch';

/** Lifecycle of a job as the servers see it. */
export type JobStatus = 'pending' | 'running' | 'dead';

export interface Resources {
  /** CPU shares in MHz. */
  readonly CPU: number;
  readonly MemoryMB: number;
}

/** A workload identity that a task asks for (`identity` block). */
export interface WorkloadIdentity {
  /** `default` for the task's default identity. */
  readonly Name: string;
  readonly Audience: readonly string[];
  /** Expose the token to the task as NOMAD_TOKEN. */
  readonly Env: boolean;
  /** Write the token to secrets/nomad_token. */
  readonly File: boolean;
  /** Token lifetime in nanoseconds; 0 means no `exp` claim. */
  readonly TTL: number;
}

/** A `template` block: text rendered into the task's folder. */
export interface Template {
  readonly DestPath: string;
  readonly EmbeddedTmpl: string;
  readonly ChangeMode: 'noop' | 'restart' | 'signal';
  /** Load the rendered file as environment variables. */
  readonly Envvars: boolean;
}

export interface Task {
  readonly Name: string;
  readonly Driver: string;
  readonly Config: Readonly<Record<string, unknown>>;
  readonly Env: Readonly<Record<string, string>> | null;
  readonly Resources: Resources;
  /** The default workload identity; null when the task did not configure one. */
  readonly Identity: WorkloadIdentity | null;
  /** Additional named identities. */
  readonly Identities: readonly WorkloadIdentity[];
  readonly Templates: readonly Template[];
  /** Time between the stop signal and SIGKILL, in nanoseconds. */
  readonly KillTimeout: number;
}

export interface TaskGroup {
  readonly Name: string;
  readonly Count: number;
  readonly Tasks: readonly Task[];
}

export interface Job {
  readonly ID: string;
  readonly Name: string;
  readonly Namespace: string;
  readonly Type: JobType;
  /** 1 to 100; higher is scheduled first. */
  readonly Priority: number;
  readonly Datacenters: readonly string[];
  readonly TaskGroups: readonly TaskGroup[];
  /** Parent job of a child (dispatched or periodic) job; '' otherwise. */
  readonly ParentID: string;
  /** True once the job is stopped (deregistered without purge). */
  readonly Stop: boolean;
  readonly Status: JobStatus;
  /** Raft index of the job's creation, last change of any kind, and last change of its spec. */
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly JobModifyIndex: number;
  /** Unix time in nanoseconds when the job was submitted. */
  readonly SubmitTime: number;
}
