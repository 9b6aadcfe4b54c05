import { CIPHERTEXT_OVERHEAD_BYTES } from '../keyring/variable-crypto.js';

// Bounds on the jobs, evaluations, allocations and nodes that commands carry. They are Signet's own
// choices: generous for real workloads, and there so that one bad request cannot make every replica
// hold or loop over unbounded data. Raising one is compatible with old log entries; lowering one
// is not, because an entry that was valid when committed would stop decoding.
//
// NOTE: the Raft entry size limit (`maxEntryBytes`, 1 MiB by default) is tighter than the plan
// limits here. A plan with 10,000 allocations encodes to about 7 MiB in bench/state.ts, so it
// passes these checks, but a leader with that default drops the proposal.

/**
 * IDs of evaluations, allocations and nodes, and node secrets. Generated IDs are UUIDs; shorter
 * readable IDs are accepted so that tests and tools may use them.
 */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Job IDs: any text without a NUL character (the NUL separates the parts of a job key). */
export const MAX_JOB_ID_BYTES = 256;

/** Names: job, task group, task, driver, datacenter, node, node class, identity, attribute keys. */
export const MAX_NAME_BYTES = 256;

/** An allocation name is `JOB.GROUP[INDEX]`. */
export const MAX_ALLOC_NAME_BYTES = MAX_JOB_ID_BYTES + MAX_NAME_BYTES + 32;

/** Status descriptions, task event messages, attribute values and template paths. */
export const MAX_DESCRIPTION_BYTES = 4096;

/** Template bodies, environment values and strings inside a driver `Config`. */
export const MAX_TEXT_BYTES = 256 * 1024;

/** Entries of one map: Env, Attributes, Drivers, QueuedAllocations, TaskResources, TaskStates. */
export const MAX_MAP_ENTRIES = 1024;

/** Items of one list inside a job: task groups, tasks, datacenters, identities, templates, audiences. */
export const MAX_LIST_ITEMS = 256;

/** Nesting and size of a task's driver `Config`. */
export const CONFIG_RULES = Object.freeze({
  maxDepth: 16,
  maxEntries: MAX_MAP_ENTRIES,
  maxKeyBytes: MAX_NAME_BYTES,
  maxStringBytes: MAX_TEXT_BYTES,
});

/** Largest `Count` of a task group. */
export const MAX_GROUP_COUNT = 100_000;

/** CPU in MHz and memory in MB: Go's int32 range, so that sums over 100,000 allocations stay exact. */
export const MAX_RESOURCE = 2 ** 31 - 1;

/** Events per task state. A client with more sends the most recent ones. */
export const MAX_TASK_EVENTS = 64;

/** Allocations placed, and separately allocations stopped, by one plan-apply command. */
export const MAX_PLAN_ALLOCS = 50_000;

/** Evaluations carried by one command. */
export const MAX_COMMAND_EVALS = 10_000;

/** Allocation updates carried by one alloc-client-update command. */
export const MAX_CLIENT_UPDATES = 10_000;

/** Raft indexes and counters carried in rows: non-negative safe integers. */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/**
 * Bytes of one ACL policy's Rules. Hand-written policies are a few KiB, so 64 KiB leaves room for
 * large generated ones while keeping one policy far below the Raft entry limit.
 */
export const MAX_ACL_RULES_BYTES = 64 * 1024;

/** Tokens, policies, accessor IDs or policy names carried by one ACL command. */
export const MAX_ACL_COMMAND_ITEMS = 1024;

/** Policy names listed on one ACL token. */
export const MAX_TOKEN_POLICIES = 256;

/**
 * Sum of the UTF-8 lengths of a variable's item keys and values, as Nomad 1.5 and later count it
 * (16 KiB in 1.4). The writer checks it on the plaintext before encrypting, because the state
 * receives only ciphertext.
 */
export const MAX_VARIABLE_ITEMS_BYTES = 64 * 1024;

/**
 * Longest `Data` of a variable, in base64 characters: the encryption of the JSON of any item set
 * within MAX_VARIABLE_ITEMS_BYTES. JSON.stringify writes a control character as up to six bytes
 * (`\u0001`), and each item adds at most six bytes of quotes, colon and comma. That is at most six
 * per byte of its key, except for the one item whose key may be empty. Encryption adds 28 bytes of
 * nonce and tag, and base64 four characters per three bytes. 64 KiB of items without characters
 * to escape encode to about 87,400 characters.
 * NOTE: the worst case, 1,048,624 characters, is above the default Raft entry limit
 * (`maxEntryBytes`, 1 MiB), so the leader drops such a proposal even though the state accepts it.
 */
export const MAX_VARIABLE_DATA_CHARS =
  Math.ceil((2 + 6 + 12 * MAX_VARIABLE_ITEMS_BYTES + CIPHERTEXT_OVERHEAD_BYTES) / 3) * 4;
