import { readFile } from 'node:fs/promises';
import { parseJobHcl } from '../jobspec/index.js';

/**
 * Reads a job file (`-` for stdin) and returns the job object to send as `{"Job": ...}`. JSON is
 * recognised by its content (a leading `{`, which HCL cannot start with) or forced with `asJson`;
 * it may be the bare job or the API body `{"Job": {...}}`. HCL is parsed here, as Nomad's CLI
 * does, so the server only ever receives JSON. Parse errors propagate with the file's name.
 */
export async function readJobFile(
  path: string,
  asJson: boolean,
  namespace: string | null = null,
): Promise<Record<string, unknown>> {
  const origin = path === '-' ? '<stdin>' : path;
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new Error(`cannot read job file ${origin}: ${reason}`);
  }
  if (asJson || text.trimStart().startsWith('{')) return jobFromJson(text, origin);
  return { ...parseJobHcl(text, origin, namespace === null ? {} : { namespace }) };
}

function jobFromJson(text: string, origin: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`Invalid JSON in job file ${origin}: ${(err as Error).message}`);
  }
  if (!isRecord(value)) throw new Error(`Invalid job file ${origin}: expected a JSON object`);
  if (isRecord(value.Job)) return value.Job;
  return value;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
