import { type ApiClient, ApiError } from '../http/client.js';

/** Length of a full UUID; shorter identifiers are looked up as prefixes. */
const UUID_LENGTH = 36;

/**
 * Reads one object by full ID, or by ID prefix through its list endpoint, as Nomad's status
 * commands accept either. `itemPath` builds the read path from a full ID. Throws an Error naming
 * the identifier when nothing or more than one object matches.
 */
export async function findByPrefix<T>(
  client: ApiClient,
  options: {
    readonly id: string;
    /** Plural noun for messages, such as `allocations`. */
    readonly noun: string;
    readonly listPath: string;
    readonly itemPath: (id: string) => string;
    readonly query?: Readonly<Record<string, string>>;
  },
): Promise<T> {
  const { id, noun } = options;
  if (id.length >= UUID_LENGTH) {
    try {
      return (await client.get<T>(options.itemPath(id))).body;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw notFound(noun, id);
      throw err;
    }
  }
  const { body } = await client.get<{ ID: string }[]>(options.listPath, { ...options.query, prefix: id });
  if (body.length === 0) throw notFound(noun, id);
  if (body.length > 1) {
    const ids = body.map((row) => row.ID).join(', ');
    throw new Error(`Prefix "${id}" matched multiple ${noun} (${ids}); give more of the ID`);
  }
  return (await client.get<T>(options.itemPath(body[0]!.ID))).body;
}

function notFound(noun: string, id: string): Error {
  return new Error(`No ${noun} with prefix or id "${id}" found`);
}
