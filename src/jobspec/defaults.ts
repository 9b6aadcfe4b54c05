/**
 * Every default that canonicalization fills in, with Nomad's values (Canonicalize in its api package,
 * and in nomad/structs for Datacenters). Durations are in nanoseconds, as in Nomad's JSON.
 */
export const JOB_DEFAULTS = {
  Namespace: 'default',
  Type: 'service',
  Priority: 50,
  /** `*` places the job in every datacenter, as Nomad (1.5 and later) does when none are listed. */
  Datacenters: ['*'],
  Count: 1,
  CPU: 100,
  MemoryMB: 300,
  KillTimeout: 5_000_000_000,
  TemplateChangeMode: 'restart',
  IdentityName: 'default',
  /** Audience of the default identity, which Nomad always sets to this value. */
  DefaultIdentityAudience: 'nomadproject.io',
} as const;

/** Limits of Nomad's job validation that Signet keeps. */
export const JOB_LIMITS = {
  MinPriority: 1,
  MaxPriority: 100,
  MaxIdLength: 128,
  MinCPU: 1,
  MinMemoryMB: 10,
} as const;
