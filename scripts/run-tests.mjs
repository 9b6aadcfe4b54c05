#!/usr/bin/env node
// Runs every test file under test/ with node:test and tsx.
// Node 20 does not expand globs in `--test`, and a run that finds no file
// exits 0, so this script lists the files itself and fails on an empty list.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function listTestFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...listTestFiles(path));
    else if (name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

const filters = process.argv.slice(2);
let files = listTestFiles('test');
if (filters.length > 0) files = files.filter((file) => filters.some((filter) => file.includes(filter)));
if (files.length === 0) {
  console.error(
    `no test files found under test/${filters.length ? ` whose path contains ${filters.join(' or ')}` : ''}. ` +
      'Filters match file paths (for example: scenarios, storage, simulation); to pick tests by name, run ' +
      'node --import tsx --test --test-name-pattern=NAME FILE',
  );
  process.exit(1);
}

const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
