import { isRecord } from './json-fields.js';

/** The body of one block in HCL1's generic structure. */
export type HclBody = Readonly<Record<string, unknown>>;

/**
 * Returns the bodies of a block key. HCL1 gives a list of objects, one per block, and the JSON
 * form of HCL may give a single object. Returns null for a value that is not a block.
 */
export function blockBodies(value: unknown): HclBody[] | null {
  if (isRecord(value)) return [value];
  if (Array.isArray(value) && value.every(isRecord)) return value;
  return null;
}

export interface LabeledBlock {
  readonly label: string;
  readonly body: HclBody;
}

/**
 * Returns the blocks of a labeled block key in source order: `task "redis" { ... }` is
 * `[{ redis: [{ ... }] }]` in HCL1's generic structure. Returns null when a block has no label.
 */
export function labeledBlocks(value: unknown): LabeledBlock[] | null {
  const outer = blockBodies(value);
  if (outer === null) return null;

  const blocks: LabeledBlock[] = [];
  for (const item of outer) {
    for (const [label, inner] of Object.entries(item)) {
      const bodies = blockBodies(inner);
      if (bodies === null) return null;
      for (const body of bodies) blocks.push({ label, body });
    }
  }
  return blocks;
}
