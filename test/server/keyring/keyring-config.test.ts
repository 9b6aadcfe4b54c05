import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AgentConfigError,
  type AgentConfigInput,
  parseAgentConfig,
  resolveAgentConfig,
} from '../../../src/server/agent-config.js';

const BASE: AgentConfigInput = {
  data_dir: '/tmp/signet',
  server: { enabled: true, encrypt: randomBytes(32).toString('base64') },
};

function resolve(input: AgentConfigInput) {
  return resolveAgentConfig([BASE, input]);
}

function assertConfigError(input: AgentConfigInput, field: string): void {
  assert.throws(
    () => resolve(input),
    (err: unknown) => err instanceof AgentConfigError && err.field === field,
  );
}

describe('keyring configuration', () => {
  test('defaults follow Nomad', () => {
    const config = resolve({});
    assert.equal(config.region, 'global');
    assert.equal(config.server.rootKeyRotationThresholdMs, 720 * 3_600_000);
    assert.equal(config.server.rootKeyGcThresholdMs, 3_600_000);
    assert.equal(config.server.rootKeyGcIntervalMs, 600_000);
    assert.equal(config.server.oidcIssuer, null);
  });

  test('HCL fields are read in Nomad names', () => {
    const input = parseAgentConfig(
      `
region = "eu-west"
server {
  root_key_rotation_threshold = "48h"
  root_key_gc_threshold       = "30m"
  root_key_gc_interval        = "1m30s"
  oidc_issuer                 = "https://signet.example.com/cluster-1"
}
`,
      'server.hcl',
    );
    const config = resolve(input);
    assert.equal(config.region, 'eu-west');
    assert.equal(config.server.rootKeyRotationThresholdMs, 48 * 3_600_000);
    assert.equal(config.server.rootKeyGcThresholdMs, 30 * 60_000);
    assert.equal(config.server.rootKeyGcIntervalMs, 90_000);
    assert.equal(config.server.oidcIssuer, 'https://signet.example.com/cluster-1');
  });

  test('invalid durations are rejected with the field name', () => {
    for (const [key, value] of [
      ['root_key_rotation_threshold', '30d'],
      ['root_key_rotation_threshold', '0'],
      ['root_key_gc_threshold', '-1h'],
      ['root_key_gc_interval', 'often'],
    ] as const) {
      assertConfigError({ server: { [key]: value } }, `server.${key}`);
    }
  });

  test('oidc_issuer must be a plain http(s) URL', () => {
    assert.equal(
      resolve({ server: { oidc_issuer: 'http://127.0.0.1:4646' } }).server.oidcIssuer,
      'http://127.0.0.1:4646',
    );
    for (const issuer of [
      'signet.example.com',
      'ftp://signet.example.com',
      'https://signet.example.com/',
      'https://signet.example.com?tenant=1',
      'https://signet.example.com#top',
      'https://user:secret@signet.example.com',
      '',
    ]) {
      assertConfigError({ server: { oidc_issuer: issuer } }, 'server.oidc_issuer');
    }
  });

  test('region must fit in the sub claim', () => {
    for (const region of ['', 'eu:west', 'eu west', 'x'.repeat(129)]) {
      assertConfigError({ region }, 'region');
    }
  });

  test('a wrong type names the field', () => {
    assert.throws(
      () => parseAgentConfig('server { root_key_gc_interval = 600 }', 'server.hcl'),
      (err: unknown) => err instanceof AgentConfigError && err.field === 'server.root_key_gc_interval',
    );
  });
});
