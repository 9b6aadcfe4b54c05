import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskState } from '../structs/allocation.js';
import type { ClientAllocation } from './client-allocation.js';

/** State that the client keeps about one task across its own restarts. */
export interface TaskRecord {
  readonly state: TaskState;
  /** The driver's handle state (`TaskHandle.state()`), which `recover` re-attaches to; null once dead or before start. */
  readonly handle: unknown;
}

/** State that the client keeps about one allocation across its own restarts. */
export interface AllocRecord {
  readonly alloc: ClientAllocation;
  readonly tasks: Readonly<Record<string, TaskRecord>>;
}

/** Version of the record format, so that a later format can read or reject older files. */
const RECORD_VERSION = 1;
const UUID_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/i;

/**
 * The client's local state: one JSON file per allocation in `DATA_DIR/client/allocs/`, written to
 * a temporary name, fsynced and renamed, so a crash leaves the old or the new record, never half
 * of one. Nomad keeps the same facts in a BoltDB file; a file per allocation keeps each write
 * small and independent. Writes of one allocation are applied in call order. A record contains
 * the allocation's workload identity tokens (SignedIdentities), so its file is owner-only (0600).
 */
export class LocalStateStore {
  readonly #dir: string;
  readonly #writes = new Map<string, Promise<void>>();
  #dirMade: Promise<unknown> | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Reads every record. `unreadable` lists the IDs of allocations whose file exists but cannot be
   * read: the client ran them, so it must never start them again.
   */
  async loadAll(): Promise<{ records: AllocRecord[]; unreadable: { id: string; reason: string }[] }> {
    await this.#makeDir();
    const records: AllocRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const name of (await readdir(this.#dir)).sort()) {
      const match = UUID_FILE.exec(name);
      if (match === null) continue;
      const id = match[1]!;
      try {
        records.push(parseRecord(await readFile(join(this.#dir, name), 'utf8'), id));
      } catch (err) {
        unreadable.push({ id, reason: (err as Error).message });
      }
    }
    return { records, unreadable };
  }

  /** Writes the record of `record.alloc.ID`, after any earlier write of the same allocation. */
  save(record: AllocRecord): Promise<void> {
    const id = record.alloc.ID;
    const text = `${JSON.stringify({ version: RECORD_VERSION, ...record })}\n`;
    return this.#enqueue(id, () => this.#write(id, text));
  }

  /** Deletes the record of an allocation, after any earlier write of it. */
  remove(id: string): Promise<void> {
    return this.#enqueue(id, () => rm(this.#file(id), { force: true }));
  }

  /** Resolves once every write started so far has finished. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#writes.values()]);
  }

  #enqueue(id: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#writes.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#writes.set(id, next);
    const forget = (): void => {
      if (this.#writes.get(id) === next) this.#writes.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  #makeDir(): Promise<unknown> {
    this.#dirMade ??= mkdir(this.#dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      this.#dirMade = null;
      throw err;
    });
    return this.#dirMade;
  }

  async #write(id: string, text: string): Promise<void> {
    await this.#makeDir();
    const file = this.#file(id);
    const temporary = `${file}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      // The record contains the tasks' workload identity tokens. open() applies its mode only when
      // it creates the file, so a temporary file left by a crash keeps its mode unless set here.
      await handle.chmod(0o600);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  }

  #file(id: string): string {
    return join(this.#dir, `${id}.json`);
  }
}

function parseRecord(text: string, id: string): AllocRecord {
  const value = JSON.parse(text) as Record<string, unknown>;
  if (value.version !== RECORD_VERSION) {
    throw new Error(
      `unsupported record version ${JSON.stringify(value.version)}, expected ${RECORD_VERSION}`,
    );
  }
  const alloc = value.alloc as ClientAllocation | undefined;
  const tasks = value.tasks as Record<string, TaskRecord> | undefined;
  if (typeof alloc !== 'object' || alloc === null || alloc.ID !== id) {
    throw new Error(`the record does not hold allocation ${id}`);
  }
  if (typeof tasks !== 'object' || tasks === null) throw new Error('the record has no tasks map');
  return { alloc: withIdentityFields(alloc), tasks };
}

/**
 * Records written before allocations carried workload identities lack SignedIdentities and
 * SigningKeyID. They read as unsigned, as the servers read such allocations, so a task whose
 * identity block requests a token fails with a clear event instead of a TypeError.
 */
function withIdentityFields(alloc: ClientAllocation): ClientAllocation {
  const partial = alloc as Partial<Pick<ClientAllocation, 'SignedIdentities' | 'SigningKeyID'>>;
  if (typeof partial.SignedIdentities === 'object' && partial.SignedIdentities !== null) return alloc;
  return { ...alloc, SignedIdentities: {}, SigningKeyID: partial.SigningKeyID ?? '' };
}
