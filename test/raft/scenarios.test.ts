import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScenario } from './script/run.js';

/**
 * Scripted scenarios of the consensus core, one per rule of Raft: each file under testdata/ runs
 * as one test. UPDATE_TRANSCRIPTS=1 rewrites the recorded outputs; review the diff before committing.
 * TRACE_SCENARIOS=1 prints every command and its output while the scenarios run.
 */
const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const update = process.env.UPDATE_TRANSCRIPTS === '1';
const trace = process.env.TRACE_SCENARIOS === '1';

/**
 * Scenarios that fail because the core breaks their rule. Their transcripts record the correct
 * behaviour, so each one passes again once the core is fixed; then delete its line here.
 */
const KNOWN_CORE_BUGS: Readonly<Record<string, string>> = {};

const files = readdirSync(testdata)
  .filter((name) => name.endsWith('.txt'))
  .sort();

for (const file of files) {
  const name = basename(file, '.txt');
  const todo = KNOWN_CORE_BUGS[name];
  test(name, todo === undefined ? {} : { todo }, () => runScenario(join(testdata, file), { update, trace }));
}

test('every known core bug names an existing scenario', () => {
  const names = new Set(files.map((file) => basename(file, '.txt')));
  for (const name of Object.keys(KNOWN_CORE_BUGS)) assert.ok(names.has(name), `no scenario ${name}.txt`);
});
