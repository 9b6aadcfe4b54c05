import type { NodeId } from '../../src/raft/types.js';
import type { Prng } from './prng.js';

export type PartitionKind = 'symmetric' | 'asymmetric' | 'bridge';

export const PARTITION_KINDS: readonly PartitionKind[] = ['symmetric', 'asymmetric', 'bridge'];

/** A partition as blocked one-way links, with a description for traces. */
export interface Partition {
  readonly kind: PartitionKind;
  readonly description: string;
  readonly links: readonly (readonly [NodeId, NodeId])[];
}

/**
 * Draws a partition of `kind` over `ids`, or null when there are too few servers for that kind.
 * `leader` (0 when unknown) is often put where it hurts most: alone in the minority, or cut off
 * on one side.
 */
export function drawPartition(
  kind: PartitionKind,
  ids: readonly NodeId[],
  leader: NodeId,
  rng: Prng,
): Partition | null {
  if (ids.length < 2) return null;
  switch (kind) {
    case 'symmetric':
      return symmetric(ids, leader, rng);
    case 'asymmetric':
      return asymmetric(ids, leader, rng);
    case 'bridge':
      return ids.length < 3 ? null : bridge(ids, rng);
  }
}

/** Two sides that cannot talk: a minority and a majority. */
function symmetric(ids: readonly NodeId[], leader: NodeId, rng: Prng): Partition {
  let order = rng.shuffled(ids);
  if (leader !== 0 && ids.includes(leader) && rng.chance(0.5))
    order = [leader, ...order.filter((id) => id !== leader)];
  const minoritySize = rng.between(1, Math.max(1, Math.floor((ids.length - 1) / 2)));
  const minority = order.slice(0, minoritySize);
  const majority = order.slice(minoritySize);
  return {
    kind: 'symmetric',
    description: `symmetric {${minority.join(',')}} | {${majority.join(',')}}`,
    links: cut(minority, majority),
  };
}

/** Cuts one server off in one direction: it cannot send to some others, or cannot hear them. */
function asymmetric(ids: readonly NodeId[], leader: NodeId, rng: Prng): Partition {
  const center = leader !== 0 && ids.includes(leader) && rng.chance(0.6) ? leader : rng.pick(ids);
  const others = ids.filter((id) => id !== center);
  const cutOff = rng.chance(0.5) ? others : rng.shuffled(others).slice(0, rng.between(1, others.length));
  const outbound = rng.chance(0.5);
  const links = cutOff.map((id) => (outbound ? ([center, id] as const) : ([id, center] as const)));
  return {
    kind: 'asymmetric',
    description: outbound
      ? `asymmetric ${center} -/-> {${cutOff.join(',')}}`
      : `asymmetric {${cutOff.join(',')}} -/-> ${center}`,
    links,
  };
}

/** Two sides that cannot talk, and one server that talks to both. */
function bridge(ids: readonly NodeId[], rng: Prng): Partition {
  const [middle, ...rest] = rng.shuffled(ids);
  const split = rng.between(1, rest.length - 1);
  const left = rest.slice(0, split);
  const right = rest.slice(split);
  return {
    kind: 'bridge',
    description: `bridge {${left.join(',')}} - ${middle} - {${right.join(',')}}`,
    links: cut(left, right),
  };
}

function cut(a: readonly NodeId[], b: readonly NodeId[]): (readonly [NodeId, NodeId])[] {
  const links: (readonly [NodeId, NodeId])[] = [];
  for (const x of a) {
    for (const y of b) links.push([x, y], [y, x]);
  }
  return links;
}
