import { HclSyntaxError, parseHcl } from '../server/hcl.js';
import { parseGoDuration } from '../structs/go-duration.js';
import type { Job } from '../structs/job.js';
import { decodeJob } from './canonicalize-job.js';
import { blockBodies, type HclBody, labeledBlocks } from './hcl-blocks.js';
import { type HclBlockRules, JOB_RULES } from './hcl-rules.js';
import { JobValidationError } from './job-validation-error.js';
import { describe } from './json-fields.js';
import { type Place, ProblemList, withValidationProblems } from './problems.js';
import { listJobProblems } from './validate-job.js';

/**
 * Parses a jobspec in HCL1 (`job "example" { group "cache" { task "redis" { ... } } }`) into a
 * canonical, validated job, mapping Nomad's snake_case keys to its JSON fields (`memory` to
 * MemoryMB, `destination` to DestPath, durations such as `kill_timeout = "5s"` to nanoseconds).
 *
 * The JSON API ignores the Nomad fields that Signet does not implement, but this parser rejects
 * every key it does not map. A person wrote the file for Signet, and a block that silently does
 * nothing (a `constraint`, a `service`) would mislead them.
 *
 * Raises JobValidationError with code INVALID_SYNTAX and the line for text that does not parse,
 * and with code INVALID_JOB listing every problem for a job that parses but is invalid.
 * `origin` names the text in messages, usually the file name.
 */
export function parseJobHcl(
  text: string,
  origin: string,
  options: { readonly namespace?: string } = {},
): Job {
  const problems = new ProblemList();
  let input = jobInput(parseSyntax(text, origin), origin, problems);
  // Without a job block there is nothing to validate, and a list of missing fields would bury the cause.
  if (input === null) throw JobValidationError.fromProblems(problems.items);
  // As in Nomad, the namespace given to the CLI (-namespace, NOMAD_NAMESPACE) applies when the
  // job specification names none.
  if (options.namespace !== undefined && (input as Record<string, unknown>).Namespace === undefined) {
    input = { ...(input as Record<string, unknown>), Namespace: options.namespace };
  }

  const decodeProblems = new ProblemList();
  const job = decodeJob(input, decodeProblems);
  problems.addAll(decodeProblems.items);

  const all = withValidationProblems(problems.items, listJobProblems(job));
  if (all.length > 0) throw JobValidationError.fromProblems(all);
  return job;
}

const SYNTAX_POSITION = /At (\d+):(\d+): (.*)$/s;

function parseSyntax(text: string, origin: string): HclBody {
  try {
    return parseHcl(text, origin);
  } catch (err) {
    if (!(err instanceof HclSyntaxError)) throw err;
    const position = SYNTAX_POSITION.exec(err.message);
    if (position === null) throw new JobValidationError([err.message], { code: 'INVALID_SYNTAX' });

    const [, line, column, reason] = position;
    const problem = `${origin}: invalid HCL syntax at line ${line}, column ${column}: ${reason}`;
    throw new JobValidationError([problem], { code: 'INVALID_SYNTAX', line: Number(line) });
  }
}

/**
 * Finds the one `job` block and maps it to Nomad's JSON job, adding what is wrong to `problems`.
 * Returns null when there is no job block to map.
 */
function jobInput(root: HclBody, origin: string, problems: ProblemList): Record<string, unknown> | null {
  const place: Place = { field: 'job', label: '', path: '' };
  for (const key of Object.keys(root)) {
    if (key !== 'job')
      problems.add({ field: '', label: '', path: '' }, key, `${origin}: unknown top-level key "${key}"`);
  }

  const jobs = labeledBlocks(root.job ?? []);
  if (jobs === null) {
    problems.add(place, '', `${origin}: the job block needs its ID as a label: job "example" { ... }`);
    return null;
  }
  if (jobs.length !== 1) {
    problems.add(place, '', `${origin}: expected one job block, found ${jobs.length}`);
    if (jobs.length === 0) return null;
  }

  const [job] = jobs;
  // Nomad names the job after its label unless the block sets id or name.
  return { ID: job!.label, Name: job!.label, ...mapBody(job!.body, JOB_RULES, place, problems) };
}

/** Maps the keys of one block body to JSON fields, following its rules. */
function mapBody(
  body: HclBody,
  rules: HclBlockRules,
  place: Place,
  problems: ProblemList,
): Record<string, unknown> {
  const output: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const rule = Object.hasOwn(rules.keys, key) ? rules.keys[key] : undefined;
    const at: Place = { field: `${place.field}.${key}`, label: place.label, path: '' };
    if (rule === undefined) {
      const reason = rules.unsupported.includes(key) ? 'is not supported by Signet' : 'is not a known key';
      problems.add(at, '', `"${key}" in the ${rules.block} block ${reason}`);
      continue;
    }

    switch (rule.kind) {
      case 'value':
        output[rule.field] = value;
        break;
      case 'duration': {
        const nanoseconds = durationNanoseconds(value);
        if (nanoseconds === null) {
          problems.add(
            at,
            '',
            `${key}: invalid duration ${describe(value)}: expected a Go duration such as "5s" or "1h30m"`,
          );
        } else {
          output[rule.field] = nanoseconds;
        }
        break;
      }
      case 'strings-block': {
        const body = singleBlock(value, key, rules.block, at, problems);
        if (body !== null) output[rule.field] = stringSettings(body, key, at, problems);
        break;
      }
      case 'object-block': {
        const body = singleBlock(value, key, rules.block, at, problems);
        if (body !== null) output[rule.field] = body;
        break;
      }
      case 'block': {
        const body = singleBlock(value, key, rules.block, at, problems);
        if (body !== null) output[rule.field] = mapBody(body, rule.rules, at, problems);
        break;
      }
      case 'blocks': {
        const bodies = blockBodies(value);
        if (bodies === null) problems.add(at, '', `${key} must be a block: ${key} { ... }`);
        else output[rule.field] = bodies.map((item) => mapBody(item, rule.rules, at, problems));
        break;
      }
      case 'labeled': {
        const blocks = labeledBlocks(value);
        if (blocks === null) {
          problems.add(at, '', `each ${key} block needs a name as its label: ${key} "NAME" { ... }`);
          break;
        }
        output[rule.field] = blocks.map(({ label, body }) => {
          const inner: Place = {
            field: `${at.field}.${label}`,
            label: `${place.label === '' ? '' : `${place.label} `}${key} ${JSON.stringify(label)}`,
            path: '',
          };
          return { Name: label, ...mapBody(body, rule.rules, inner, problems) };
        });
        break;
      }
    }
  }
  return output;
}

function singleBlock(
  value: unknown,
  key: string,
  parent: string,
  at: Place,
  problems: ProblemList,
): HclBody | null {
  const bodies = blockBodies(value);
  if (bodies === null) {
    problems.add(at, '', `${key} must be a block: ${key} { ... }`);
    return null;
  }
  if (bodies.length !== 1) {
    problems.add(
      at,
      '',
      `the ${key} block appears ${bodies.length} times in the ${parent} block, expected at most once`,
    );
    return null;
  }
  return bodies[0]!;
}

/** Reads `env { PORT = 8080 }`: Nomad's HCL parser turns number and boolean values into strings. */
function stringSettings(
  body: HclBody,
  key: string,
  at: Place,
  problems: ProblemList,
): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      settings[name] = String(value);
    } else {
      problems.add(at, name, `${key}: ${name} must be a string, got ${describe(value)}`);
    }
  }
  return settings;
}

function durationNanoseconds(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const milliseconds = parseGoDuration(value);
  if (milliseconds === null) return null;
  const nanoseconds = Math.round(milliseconds * 1e6);
  return Number.isSafeInteger(nanoseconds) ? nanoseconds : null;
}
