import { type KeyObject, randomUUID, sign } from 'node:crypto';
import { deriveSigningKey, generateRootKey, type SigningKey } from '../../src/keyring/index.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Job, Task, WorkloadIdentity } from '../../src/structs/job.js';

// Builders of signing keys, jobs and allocations for the identity tests, and a raw node:crypto
// signer for tokens that Signet's own signer would never produce.

/** A fixed signing time, Unix milliseconds (2026-01-01T00:00:00Z). */
export const NOW_MS = 1_767_225_600_000;

export function makeSigningKey(): SigningKey {
  const { meta, material } = generateRootKey(NOW_MS * 1_000_000);
  return deriveSigningKey(meta.KeyID, material);
}

/** Returns a key lookup over `keys` that counts its calls. */
export function keyLookup(...keys: SigningKey[]): {
  key: (kid: string) => Promise<SigningKey | null>;
  calls: string[];
} {
  const byId = new Map(keys.map((key) => [key.keyId, key]));
  const calls: string[] = [];
  return {
    calls,
    key: async (kid) => {
      calls.push(kid);
      return byId.get(kid) ?? null;
    },
  };
}

export function makeTask(name: string, identity: WorkloadIdentity | null = null): Task {
  return {
    Name: name,
    Driver: 'mock',
    Config: {},
    Env: null,
    Resources: { CPU: 100, MemoryMB: 64 },
    Identity: identity,
    Identities: [],
    Templates: [],
    KillTimeout: 5_000_000_000,
  };
}

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    ID: 'web',
    Name: 'web',
    Namespace: 'default',
    Type: 'service',
    Priority: 50,
    Datacenters: ['dc1'],
    TaskGroups: [{ Name: 'frontend', Count: 1, Tasks: [makeTask('server')] }],
    ParentID: '',
    Stop: false,
    Status: 'running',
    CreateIndex: 10,
    ModifyIndex: 10,
    JobModifyIndex: 10,
    SubmitTime: NOW_MS * 1_000_000,
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
    JobVersion: 10,
    TaskGroup: 'frontend',
    TaskResources: { server: { CPU: 100, MemoryMB: 64 } },
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'running',
    ClientDescription: '',
    TaskStates: {},
    SignedIdentities: {},
    SigningKeyID: '',
    PreviousAllocation: '',
    CreateIndex: 11,
    ModifyIndex: 11,
    AllocModifyIndex: 11,
    CreateTime: NOW_MS * 1_000_000,
    ModifyTime: NOW_MS * 1_000_000,
    ...overrides,
  };
}

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs any header and payload with an Ed25519 key through node:crypto alone. */
export function signRaw(header: unknown, payload: unknown, privateKey: KeyObject): string {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = sign(null, Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Decodes the payload of a compact JWS without checking anything. */
export function payloadOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Decodes the header of a compact JWS without checking anything. */
export function headerOf(token: string): Record<string, unknown> {
  const part = token.split('.')[0] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
