import type { Acl } from '../acl/index.js';

/** Names of the `Acl` methods that test a capability; each returns a boolean. */
type AclCheckName = {
  [K in keyof Acl]: Acl[K] extends (...args: never[]) => boolean ? K : never;
}[keyof Acl];

/** One capability test that an authorization predicate made and that failed. */
export type DeniedCheck = {
  readonly [K in AclCheckName]: { readonly method: K; readonly args: Parameters<Acl[K]> };
}[AclCheckName];

/**
 * Runs `allowed` against a view of `acl` that records every capability test returning false, and
 * returns those tests in call order. `allowed` must be a pure predicate over the ACL, as the
 * authorization predicates of the routes are, so running it a second time decides the same way.
 */
export function recordDeniedChecks(acl: Acl, allowed: (acl: Acl) => boolean): DeniedCheck[] {
  const denied: DeniedCheck[] = [];
  const recorder = new Proxy(acl, {
    get(target, property, receiver) {
      const member: unknown = Reflect.get(target, property, receiver);
      if (typeof member !== 'function') return member;
      return (...args: unknown[]): unknown => {
        // `this` must be the real Acl, whose private fields a proxy does not have.
        const result: unknown = member.apply(target, args);
        if (result === false) denied.push({ method: property, args } as DeniedCheck);
        return result;
      };
    },
  });
  allowed(recorder);
  return denied;
}

/**
 * Describes what a denied request lacked, such as `missing capability "read-job" in namespace
 * "default"` or `a management token is required`. The text names capabilities, and otherwise only
 * values that the request itself carried: a namespace is named when it is one of
 * `requestNamespaces`, and a check in another namespace, such as that of an evaluation read by ID,
 * reads `in the namespace of the requested object`, so a denial never reveals where an object
 * lives. Nothing about the token is named. Returns '' when no capability test failed (a predicate
 * that decides without the ACL), so the caller keeps the bare message.
 */
export function describeDeniedChecks(
  checks: readonly DeniedCheck[],
  requestNamespaces: ReadonlySet<string>,
): string {
  if (checks.length > 0 && checks.every((check) => check.method === 'isManagement')) {
    return 'a management token is required';
  }
  const inNamespace = (namespace: string): string => {
    if (namespace === '*') return 'in any namespace';
    if (requestNamespaces.has(namespace)) return `in namespace ${JSON.stringify(namespace)}`;
    return 'in the namespace of the requested object';
  };
  const merged = mergeNamespaceCapabilities(checks, inNamespace);
  if (merged !== null) return `missing ${merged}`;
  const descriptions = [...new Set(checks.map((check) => describeCheck(check, inNamespace)))];
  if (descriptions.length === 0) return '';
  if (descriptions.length === 1) return `missing ${descriptions[0]!}`;
  return `missing one of: ${descriptions.join('; ')}`;
}

/** Joins alternatives in one namespace (`submit-job` or `register-job`) into one description. */
function mergeNamespaceCapabilities(
  checks: readonly DeniedCheck[],
  inNamespace: (namespace: string) => string,
): string | null {
  if (checks.length < 2) return null;
  const namespaces = new Set<string>();
  const capabilities: string[] = [];
  for (const check of checks) {
    if (check.method !== 'allowNamespaceOperation') return null;
    namespaces.add(check.args[0]);
    if (!capabilities.includes(check.args[1])) capabilities.push(check.args[1]);
  }
  if (namespaces.size !== 1) return null;
  const list = capabilities.map((capability) => JSON.stringify(capability)).join(' or ');
  return `capability ${list} ${inNamespace([...namespaces][0]!)}`;
}

function describeCheck(check: DeniedCheck, inNamespace: (namespace: string) => string): string {
  switch (check.method) {
    case 'isManagement':
      return 'a management token';
    case 'allowNamespace':
      return `any capability ${inNamespace(check.args[0])}`;
    case 'allowNamespaceOperation':
      return `capability ${JSON.stringify(check.args[1])} ${inNamespace(check.args[0])}`;
    case 'allowVariableOperation':
      return `variables capability ${JSON.stringify(check.args[2])} on path ${JSON.stringify(check.args[1])} ${inNamespace(check.args[0])}`;
    case 'allowVariableSearch':
      return `a variables rule ${inNamespace(check.args[0])}`;
    case 'allowNodePool':
      return `any capability in node pool ${JSON.stringify(check.args[0])}`;
    case 'allowNodePoolOperation':
      return `capability ${JSON.stringify(check.args[1])} in node pool ${JSON.stringify(check.args[0])}`;
    case 'allowHostVolume':
      return `any capability on host volume ${JSON.stringify(check.args[0])}`;
    case 'allowHostVolumeOperation':
      return `capability ${JSON.stringify(check.args[1])} on host volume ${JSON.stringify(check.args[0])}`;
    case 'operatorOperation':
      return `operator capability ${JSON.stringify(check.args[0])}`;
    case 'sentinelOperation':
      return `sentinel capability ${JSON.stringify(check.args[0])}`;
    case 'agentRead':
      return 'agent:read';
    case 'agentWrite':
      return 'agent:write';
    case 'nodeRead':
      return 'node:read';
    case 'nodeWrite':
      return 'node:write';
    case 'operatorRead':
      return 'operator:read';
    case 'operatorWrite':
      return 'operator:write';
    case 'quotaRead':
      return 'quota:read';
    case 'quotaWrite':
      return 'quota:write';
    case 'pluginRead':
      return 'plugin:read';
    case 'pluginList':
      return 'plugin:list';
  }
}
