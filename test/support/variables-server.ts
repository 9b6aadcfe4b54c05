import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { identityClaims, signIdentity } from '../../src/identity/index.js';
import { keyEncryptionKey } from '../../src/keyring/index.js';
import { AclResolver } from '../../src/server/acl/acl-resolver.js';
import { ClientEndpoints } from '../../src/server/client-endpoints.js';
import type { ClientVariablesBackend } from '../../src/server/client-variables.js';
import { Authenticator } from '../../src/server/keyring/authenticator.js';
import { newRootKeyCommand } from '../../src/server/keyring/new-root-key.js';
import { ServerKeyring } from '../../src/server/keyring/server-keyring.js';
import { VariableOperations } from '../../src/server/variables/variable-operations.js';
import type { VariableDecrypted } from '../../src/server/variables/variable-shapes.js';
import type { AclPolicy } from '../../src/state/store.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Job } from '../../src/structs/job.js';
import { type ClientServer, startClientServer } from './client-server.js';
import { T0 } from './workload.js';

/**
 * A client RPC server that also serves `Variables.Read` and `Variables.List` through the real
 * server code. The Authenticator verifies workload identities signed with a root key from the
 * replicated state, and the AclResolver resolves policies from that state, with ACLs enabled.
 * VariableOperations encrypts and decrypts the variables.
 */
export interface VariablesServer extends ClientServer {
  /** The endpoints that serve the variable methods; `endpoints` serves the rest. */
  readonly variableEndpoints: ClientEndpoints;
  readonly keyring: ServerKeyring;
  readonly keyId: string;
  /** Writes a variable as `PUT /v1/var/:path` does. */
  putVariable(namespace: string, path: string, items: Record<string, string>): Promise<VariableDecrypted>;
  deleteVariable(namespace: string, path: string): Promise<void>;
  putPolicy(policy: Pick<AclPolicy, 'Name' | 'Rules' | 'JobACL'>): Promise<void>;
  createNamespace(name: string): Promise<void>;
  /** Signs the default identity of `task` in `alloc`, as the plan applier does. */
  sign(
    alloc: Pick<Allocation, 'ID' | 'Namespace' | 'TaskGroup'>,
    job: Pick<Job, 'ID' | 'ParentID'>,
    task: string,
  ): string;
  /**
   * Registers `job` and places `allocs`. The keys of each allocation's SignedIdentities name the
   * tasks to sign an identity for; their values are replaced by the signed tokens.
   */
  place(job: Job, allocs: Allocation[]): Promise<void>;
}

export async function startVariablesServer(): Promise<VariablesServer> {
  let endpoints: ClientEndpoints | null = null;
  const server = await startClientServer({
    handler: (method, body, context) => endpoints!.handle(method, body, context),
  });
  const { state, apply, logs } = server;
  const kek = keyEncryptionKey(randomBytes(32));
  const { command, meta } = newRootKeyCommand(kek, Date.now(), 'inactive');
  await apply(command);
  const keyring = new ServerKeyring({ state, kek, logger: logs.logger });

  const authenticator = new Authenticator({
    state,
    keyring,
    aclEnabled: true,
    now: Date.now,
    logger: logs.logger,
  });
  const resolver = new AclResolver({ state, enabled: true, now: Date.now, logger: logs.logger });
  const operations = new VariableOperations({
    state,
    keyring,
    apply,
    consistentRead: () => Promise.resolve(),
    now: Date.now,
    logger: logs.logger,
  });
  const backend: ClientVariablesBackend = {
    authenticate: (token) => authenticator.authenticate(token),
    resolveAcl: async (principal) => {
      await resolver.prepare(principal);
      return resolver.resolve(principal);
    },
    variables: operations,
  };
  endpoints = new ClientEndpoints({
    state,
    apply,
    consistentRead: () => Promise.resolve(),
    servers: () => [server.address],
    heartbeat: (nodeId) => Promise.resolve(server.heartbeats.heartbeat(nodeId)),
    variables: backend,
    newId: randomUUID,
    now: Date.now,
    logger: logs.logger,
  });

  const sign = (
    alloc: Pick<Allocation, 'ID' | 'Namespace' | 'TaskGroup'>,
    job: Pick<Job, 'ID' | 'ParentID'>,
    task: string,
  ): string => {
    const key = keyring.signingKey(meta.KeyID);
    assert.ok(key !== null, 'the root key should be usable');
    const claims = identityClaims({
      alloc,
      job,
      task: { Name: task, Identity: null },
      region: 'global',
      now: Date.now(),
    });
    return signIdentity(key, claims);
  };

  return {
    ...server,
    variableEndpoints: endpoints,
    keyring,
    keyId: meta.KeyID,
    async putVariable(namespace, path, items) {
      const result = await operations.write({ namespace, path, items, casIndex: null }, true);
      assert.ok(result.ok, `write of ${path} should succeed`);
      assert.ok(result.variable !== null, `write of ${path} should return the variable`);
      return result.variable;
    },
    async deleteVariable(namespace, path) {
      const result = await operations.delete({ namespace, path, casIndex: null }, true);
      assert.ok(result.ok, `delete of ${path} should succeed`);
    },
    async putPolicy(policy) {
      await apply({
        type: 'acl-policy-upsert',
        v: 1,
        policies: [{ Description: '', CreateIndex: 0, ModifyIndex: 0, ...policy }],
      });
    },
    async createNamespace(name) {
      await apply({ type: 'namespace-upsert', v: 1, namespace: { Name: name, Description: '', Meta: null } });
    },
    sign,
    async place(job, allocs) {
      await apply({
        type: 'job-register',
        v: 1,
        job,
        eval: {
          ID: randomUUID(),
          Namespace: job.Namespace,
          Priority: job.Priority,
          Type: job.Type,
          TriggeredBy: 'job-register',
          JobID: job.ID,
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
        },
      });
      const signed = allocs.map((alloc) => ({
        ...alloc,
        SignedIdentities: Object.fromEntries(
          Object.keys(alloc.SignedIdentities).map((task) => [task, sign(alloc, job, task)]),
        ),
        SigningKeyID: Object.keys(alloc.SignedIdentities).length > 0 ? meta.KeyID : '',
      }));
      await apply({ type: 'plan-apply', v: 2, place: signed, stop: [], evals: [], time: T0 });
    },
  };
}
