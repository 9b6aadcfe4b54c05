import { createRequire } from 'node:module';

type HclModule = { parse(source: string): string };
let hcl: HclModule | undefined;

// js-hcl-parser compiles HashiCorp's HCL1 library, the grammar Nomad's agent configuration and ACL
// policies use; it also accepts the JSON form. It takes about 0.1 s to load, so load it on first use.
function load(): HclModule {
  hcl ??= createRequire(import.meta.url)('js-hcl-parser') as HclModule;
  return hcl;
}

const ERROR_PREFIX = 'unable to parse JSON: ';

/** Error raised for text that is neither valid HCL1 nor JSON; the message carries line and column. */
export class HclSyntaxError extends Error {
  override readonly name = 'HclSyntaxError';
}

/**
 * Parses HCL1 or JSON text into HCL1's generic structure, in which every block becomes an array of
 * objects (`ports { http = 1 }` gives `{ ports: [{ http: 1 }] }`).
 */
export function parseHcl(source: string, origin: string): Record<string, unknown> {
  const output = load().parse(source);
  if (output.startsWith(ERROR_PREFIX)) {
    throw new HclSyntaxError(`invalid syntax in ${origin}: ${output.slice(ERROR_PREFIX.length)}`);
  }
  const parsed: unknown = JSON.parse(output);
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HclSyntaxError(`invalid syntax in ${origin}: the top level must be a set of keys`);
  }
  return parsed as Record<string, unknown>;
}
