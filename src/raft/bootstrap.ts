import type { DurableState, NodeId } from './types.js';

/**
 * Initial durable state of a server that founds a cluster. Every founding server persists the
 * same first entry, a configuration naming all founders as voters at index 1 in term 1, so their
 * logs agree from the start and no election is needed to learn the membership.
 * A server that joins later starts from `emptyState()` and learns everything from the leader.
 */
export function bootstrapState(voters: readonly NodeId[]): DurableState {
  const unique = [...new Set(voters)];
  if (unique.length === 0 || unique.length !== voters.length) {
    throw new Error(`invalid bootstrap voters [${voters.join(', ')}]: expected distinct ids`);
  }
  for (const id of unique) {
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new Error(`invalid bootstrap voter id ${id}: node ids are positive integers`);
    }
  }
  return {
    hardState: { term: 1, vote: 0, commit: 0 },
    snapshot: null,
    entries: [
      {
        kind: 'config',
        term: 1,
        index: 1,
        membership: { voters: [...unique].sort((a, b) => a - b), learners: [], removed: [] },
      },
    ],
  };
}

export function emptyState(): DurableState {
  return { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: null, entries: [] };
}
