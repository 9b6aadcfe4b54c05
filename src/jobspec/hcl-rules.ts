/**
 * Mapping of one HCL key onto Nomad's JSON job: the JSON field it fills and how its value converts.
 * - `value`: an attribute, copied as is (canonicalization checks its type).
 * - `duration`: a Go duration string (`"5s"`), converted to nanoseconds.
 * - `strings-block`: a block of string settings (`env { K = "v" }`), in which numbers and booleans become strings.
 * - `object-block`: a block copied as a JSON object (`config`, whose contents belong to the driver).
 * - `block`: a nested block that may appear once.
 * - `blocks`: a nested block that may repeat, giving a list.
 * - `labeled`: a repeatable block whose label is the element's Name (`group "cache"`).
 */
export type HclKeyRule =
  | { readonly kind: 'value' | 'duration' | 'strings-block' | 'object-block'; readonly field: string }
  | { readonly kind: 'block' | 'blocks' | 'labeled'; readonly field: string; readonly rules: HclBlockRules };

export interface HclBlockRules {
  /** Block name in messages. */
  readonly block: string;
  readonly keys: Readonly<Record<string, HclKeyRule>>;
  /** Keys that Nomad's jobspec has at this level and Signet does not implement. */
  readonly unsupported: readonly string[];
}

// Nomad's jobspec keys come from the hcl tags of its api package (api/jobs.go, api/tasks.go,
// api/resources.go) on the main branch after 1.11.0-rc.1.

const RESOURCES: HclBlockRules = {
  block: 'resources',
  keys: { cpu: { kind: 'value', field: 'CPU' }, memory: { kind: 'value', field: 'MemoryMB' } },
  unsupported: ['cores', 'memory_max', 'disk', 'network', 'device', 'numa', 'secrets', 'iops'],
};

// change_mode and change_signal pass through: canonicalization ignores them, as Signet never
// renews a token. filepath passes through for canonicalization to reject.
const IDENTITY: HclBlockRules = {
  block: 'identity',
  keys: {
    name: { kind: 'value', field: 'Name' },
    aud: { kind: 'value', field: 'Audience' },
    env: { kind: 'value', field: 'Env' },
    file: { kind: 'value', field: 'File' },
    ttl: { kind: 'duration', field: 'TTL' },
    change_mode: { kind: 'value', field: 'ChangeMode' },
    change_signal: { kind: 'value', field: 'ChangeSignal' },
    filepath: { kind: 'value', field: 'Filepath' },
  },
  unsupported: ['service_name', 'extra_claims'],
};

// source and change_signal pass through for canonicalization to report what Signet cannot honour.
const TEMPLATE: HclBlockRules = {
  block: 'template',
  keys: {
    data: { kind: 'value', field: 'EmbeddedTmpl' },
    destination: { kind: 'value', field: 'DestPath' },
    change_mode: { kind: 'value', field: 'ChangeMode' },
    change_signal: { kind: 'value', field: 'ChangeSignal' },
    env: { kind: 'value', field: 'Envvars' },
    source: { kind: 'value', field: 'SourcePath' },
  },
  unsupported: [
    'change_script',
    'once',
    'splay',
    'perms',
    'uid',
    'gid',
    'left_delimiter',
    'right_delimiter',
    'vault_grace',
    'wait',
    'error_on_missing_key',
  ],
};

const TASK: HclBlockRules = {
  block: 'task',
  keys: {
    driver: { kind: 'value', field: 'Driver' },
    config: { kind: 'object-block', field: 'Config' },
    env: { kind: 'strings-block', field: 'Env' },
    resources: { kind: 'block', field: 'Resources', rules: RESOURCES },
    kill_timeout: { kind: 'duration', field: 'KillTimeout' },
    identity: { kind: 'blocks', field: 'Identities', rules: IDENTITY },
    template: { kind: 'blocks', field: 'Templates', rules: TEMPLATE },
  },
  unsupported: [
    'user',
    'lifecycle',
    'constraint',
    'affinity',
    'service',
    'restart',
    'meta',
    'logs',
    'artifact',
    'vault',
    'consul',
    'dispatch_payload',
    'volume_mount',
    'csi_plugin',
    'leader',
    'shutdown_delay',
    'kill_signal',
    'kind',
    'scaling',
    'secret',
    'action',
    'schedule',
  ],
};

const GROUP: HclBlockRules = {
  block: 'group',
  keys: {
    count: { kind: 'value', field: 'Count' },
    task: { kind: 'labeled', field: 'Tasks', rules: TASK },
  },
  unsupported: [
    'constraint',
    'affinity',
    'spread',
    'volume',
    'restart',
    'disconnect',
    'reschedule',
    'ephemeral_disk',
    'update',
    'migrate',
    'network',
    'meta',
    'service',
    'shutdown_delay',
    'max_run_duration',
    'stop_after_client_disconnect',
    'max_client_disconnect',
    'scaling',
    'consul',
    'prevent_reschedule_on_lost',
  ],
};

/** Rules of the `job` block, whose label is the job's ID. */
export const JOB_RULES: HclBlockRules = {
  block: 'job',
  keys: {
    id: { kind: 'value', field: 'ID' },
    name: { kind: 'value', field: 'Name' },
    namespace: { kind: 'value', field: 'Namespace' },
    type: { kind: 'value', field: 'Type' },
    priority: { kind: 'value', field: 'Priority' },
    datacenters: { kind: 'value', field: 'Datacenters' },
    group: { kind: 'labeled', field: 'TaskGroups', rules: GROUP },
  },
  unsupported: [
    'region',
    'all_at_once',
    'node_pool',
    'constraint',
    'affinity',
    'update',
    'multiregion',
    'spread',
    'periodic',
    'parameterized',
    'reschedule',
    'migrate',
    'meta',
    'ui',
  ],
};
