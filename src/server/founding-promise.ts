import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NodeId } from '../raft/types.js';

/**
 * A pristine server's promise to let one founder, and only that one, found the cluster with it.
 *
 * A founder writes the founding membership only after every other founder it names has promised
 * it, and a server promises a single founder for good (the promise is on disk before it is
 * given, so a restart cannot give a second one). Two founders whose sets share a server can
 * therefore never both found, whatever each of them saw during discovery; the Raft log never
 * starts with two different founding entries at index 1.
 */
export class FoundingPromise {
  readonly #file: string;
  #founder: NodeId | null;
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(file: string, founder: NodeId | null) {
    this.#file = file;
    this.#founder = founder;
  }

  static async load(file: string): Promise<FoundingPromise> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new FoundingPromise(file, null);
      throw err;
    }
    const founder = Number(text.trim());
    if (!/^[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(founder) || founder < 1) {
      throw new Error(
        `invalid founding promise ${JSON.stringify(text.trim().slice(0, 40))} in ${file}: expected a server id; delete the file only if this server never took part in a cluster`,
      );
    }
    return new FoundingPromise(file, founder);
  }

  /** The founder promised to, or null. */
  get founder(): NodeId | null {
    return this.#founder;
  }

  /** Promises `founder`, durably. Returns false when another founder was promised already. */
  give(founder: NodeId): Promise<boolean> {
    // One write at a time, so that the promise on disk and the one in memory are the same.
    const result = this.#writes.then(() => this.#give(founder));
    this.#writes = result.catch(() => undefined);
    return result;
  }

  async #give(founder: NodeId): Promise<boolean> {
    if (this.#founder !== null) return this.#founder === founder;
    await mkdir(dirname(this.#file), { recursive: true });
    const temporary = `${this.#file}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${founder}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.#file);
    const folder = await open(dirname(this.#file), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    this.#founder = founder;
    return true;
  }
}
