import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AGENT_DEFAULTS,
  AgentConfigError,
  type AgentConfigInput,
  parseAgentConfig,
  resolveAgentConfig,
} from '../../src/server/agent-config.js';
import { HclSyntaxError } from '../../src/server/hcl.js';

const KEY = randomBytes(32).toString('base64');

const HCL = `
name     = "server-1"
data_dir = "/var/lib/signet"
bind_addr = "127.0.0.1"
log_level = "debug"

ports {
  http = 5646
  rpc  = 5647
}

server {
  enabled          = true
  bootstrap_expect = 3
  encrypt          = "${KEY}"
  server_join {
    retry_join = ["10.0.0.2", "10.0.0.3:5647"]
  }
}

acl {
  enabled = true
}
`;

describe('parseAgentConfig', () => {
  test('HCL and JSON give the same input', () => {
    const fromHcl = parseAgentConfig(HCL, 'server.hcl');
    const json = JSON.stringify({
      name: 'server-1',
      data_dir: '/var/lib/signet',
      bind_addr: '127.0.0.1',
      log_level: 'debug',
      ports: { http: 5646, rpc: 5647 },
      server: {
        enabled: true,
        bootstrap_expect: 3,
        encrypt: KEY,
        server_join: { retry_join: ['10.0.0.2', '10.0.0.3:5647'] },
      },
      acl: { enabled: true },
    });
    assert.deepEqual(parseAgentConfig(json, 'server.json'), fromHcl);
  });

  test('resolved file keeps every field', () => {
    const config = resolveAgentConfig([parseAgentConfig(HCL, 'server.hcl')]);
    assert.equal(config.name, 'server-1');
    assert.equal(config.dataDir, '/var/lib/signet');
    assert.equal(config.bindAddr, '127.0.0.1');
    assert.deepEqual(config.ports, { http: 5646, rpc: 5647 });
    assert.equal(config.server.enabled, true);
    assert.equal(config.server.bootstrapExpect, 3);
    assert.equal(config.server.encrypt, KEY);
    assert.deepEqual(config.server.retryJoin, ['10.0.0.2', '10.0.0.3:5647']);
    assert.equal(config.acl.enabled, true);
    assert.equal(config.logLevel, 'debug');
  });

  const invalid: [string, string, string][] = [
    ['unknown key', 'nmae = "x"', 'nmae'],
    ['unknown nested key', 'ports { htp = 1 }', 'ports.htp'],
    ['wrong type', 'ports { http = "4646" }', 'ports.http'],
    ['repeated block', 'acl { enabled = true }\nacl { enabled = false }', 'acl'],
    ['list of numbers', 'server { server_join { retry_join = [1] } }', 'server.server_join.retry_join'],
  ];
  for (const [name, text, field] of invalid) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => parseAgentConfig(text, 'agent.hcl'),
        (error: unknown) =>
          error instanceof AgentConfigError && error.field === field && error.message.includes(field),
      );
    });
  }

  test('syntax error names line and column', () => {
    assert.throws(
      () => parseAgentConfig('ports {\n  http = \n', 'agent.hcl'),
      (error: unknown) => error instanceof HclSyntaxError && /agent\.hcl: At \d+:\d+/.test(error.message),
    );
  });
});

describe('resolveAgentConfig', () => {
  test('defaults live in one place', () => {
    const config = resolveAgentConfig([{ data_dir: '/tmp/x' }]);
    assert.equal(config.bindAddr, AGENT_DEFAULTS.bindAddr);
    assert.deepEqual(config.ports, { http: 4646, rpc: 4647 });
    assert.equal(config.server.enabled, false);
    assert.equal(config.server.bootstrapExpect, AGENT_DEFAULTS.bootstrapExpect);
    assert.equal(config.logLevel, 'info');
    assert.ok(config.name.length > 0, 'name defaults to the host name');
  });

  test('later inputs override earlier ones', () => {
    const file: AgentConfigInput = {
      data_dir: '/a',
      ports: { http: 5000, rpc: 5001 },
      server: { bootstrap_expect: 3 },
    };
    const flags: AgentConfigInput = {
      data_dir: '/b',
      ports: { http: 6000 },
      server: { bootstrap_expect: 5 },
    };
    const config = resolveAgentConfig([file, flags]);
    assert.equal(config.dataDir, '/b');
    assert.deepEqual(config.ports, { http: 6000, rpc: 5001 });
    assert.equal(config.server.bootstrapExpect, 5);
  });

  const invalid: [string, AgentConfigInput, string][] = [
    ['missing data_dir', {}, 'data_dir'],
    ['bad bind_addr', { data_dir: '/d', bind_addr: 'localhost' }, 'bind_addr'],
    ['port zero', { data_dir: '/d', ports: { http: 0 } }, 'ports.http'],
    ['port too high', { data_dir: '/d', ports: { rpc: 70000 } }, 'ports.rpc'],
    ['same ports', { data_dir: '/d', ports: { http: 5000, rpc: 5000 } }, 'ports'],
    ['unknown log level', { data_dir: '/d', log_level: 'loud' }, 'log_level'],
    ['zero heartbeat_grace', { data_dir: '/d', server: { heartbeat_grace: '0s' } }, 'server.heartbeat_grace'],
    [
      'bad min_heartbeat_ttl',
      { data_dir: '/d', server: { min_heartbeat_ttl: 'soon' } },
      'server.min_heartbeat_ttl',
    ],
    [
      'negative bootstrap_expect',
      { data_dir: '/d', server: { bootstrap_expect: -1 } },
      'server.bootstrap_expect',
    ],
    [
      'fractional bootstrap_expect',
      { data_dir: '/d', server: { bootstrap_expect: 1.5 } },
      'server.bootstrap_expect',
    ],
    ['server without key', { data_dir: '/d', server: { enabled: true } }, 'server.encrypt'],
    ['short key', { data_dir: '/d', server: { enabled: true, encrypt: 'c2hvcnQ=' } }, 'server.encrypt'],
    [
      'bad join address',
      { data_dir: '/d', server: { server_join: { retry_join: ['host:99999'] } } },
      'server.server_join.retry_join',
    ],
  ];
  for (const [name, input, field] of invalid) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => resolveAgentConfig([input]),
        (error: unknown) => error instanceof AgentConfigError && error.field === field,
      );
    });
  }

  test('key error does not echo the key', () => {
    const wrong = randomBytes(16).toString('base64');
    assert.throws(
      () => resolveAgentConfig([{ data_dir: '/d', server: { enabled: true, encrypt: wrong } }]),
      (error: unknown) => error instanceof AgentConfigError && !error.message.includes(wrong),
    );
  });
});

describe('client and plugin blocks', () => {
  const CLIENT_HCL = `
data_dir   = "/var/lib/signet"
datacenter = "east"

client {
  enabled           = true
  servers           = ["10.0.0.1", "10.0.0.2:5647"]
  node_class        = "batch"
  cpu_total_compute = 8000
  memory_total_mb   = 2048
}

plugin "raw_exec" {
  config {
    enabled = true
  }
}

plugin "mock" {
  config {
    enabled = false
  }
}
`;

  test('HCL and JSON give the same input', () => {
    const json = JSON.stringify({
      data_dir: '/var/lib/signet',
      datacenter: 'east',
      client: {
        enabled: true,
        servers: ['10.0.0.1', '10.0.0.2:5647'],
        node_class: 'batch',
        cpu_total_compute: 8000,
        memory_total_mb: 2048,
      },
      plugin: { raw_exec: { config: { enabled: true } }, mock: { config: { enabled: false } } },
    });
    assert.deepEqual(parseAgentConfig(json, 'client.json'), parseAgentConfig(CLIENT_HCL, 'client.hcl'));
  });

  test('resolved client keeps every field', () => {
    const config = resolveAgentConfig([parseAgentConfig(CLIENT_HCL, 'client.hcl')]);
    assert.equal(config.datacenter, 'east');
    assert.equal(config.client.enabled, true);
    assert.deepEqual(config.client.servers, ['10.0.0.1:4647', '10.0.0.2:5647']);
    assert.equal(config.client.nodeClass, 'batch');
    assert.equal(config.client.cpuTotalComputeMhz, 8000);
    assert.equal(config.client.memoryTotalMb, 2048);
    assert.deepEqual(config.plugins, { raw_exec: { enabled: true }, mock: { enabled: false } });
  });

  test('drivers are off by default', () => {
    const config = resolveAgentConfig([{ data_dir: '/d' }]);
    assert.deepEqual(config.plugins, { raw_exec: { enabled: false }, mock: { enabled: false } });
    assert.equal(config.client.enabled, false);
    assert.equal(config.datacenter, AGENT_DEFAULTS.datacenter);
    assert.equal(config.client.cpuTotalComputeMhz, null);
  });

  const invalidFiles: [string, string, string][] = [
    ['unknown plugin', 'plugin "docker" { config { enabled = true } }', 'plugin.docker'],
    [
      'unknown plugin option',
      'plugin "raw_exec" { config { enabeld = true } }',
      'plugin.raw_exec.config.enabeld',
    ],
    [
      'repeated plugin',
      'plugin "mock" { config { enabled = true } }\nplugin "mock" { config { enabled = false } }',
      'plugin.mock',
    ],
    ['plugin without name', 'plugin { config { enabled = true } }', 'plugin.config'],
    ['servers as a string', 'client { servers = "10.0.0.1" }', 'client.servers'],
    ['unknown client key', 'client { server = ["10.0.0.1"] }', 'client.server'],
  ];
  for (const [name, text, field] of invalidFiles) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => parseAgentConfig(text, 'client.hcl'),
        (error: unknown) =>
          error instanceof AgentConfigError && error.field === field && error.message.includes(field),
      );
    });
  }

  const invalidInputs: [string, AgentConfigInput, string][] = [
    ['client without servers', { data_dir: '/d', client: { enabled: true } }, 'client.servers'],
    ['bad server address', { data_dir: '/d', client: { servers: ['host:0'] } }, 'client.servers'],
    [
      'zero cpu_total_compute',
      { data_dir: '/d', client: { cpu_total_compute: 0 } },
      'client.cpu_total_compute',
    ],
    [
      'fractional memory_total_mb',
      { data_dir: '/d', client: { memory_total_mb: 1.5 } },
      'client.memory_total_mb',
    ],
    ['empty datacenter', { data_dir: '/d', datacenter: '' }, 'datacenter'],
  ];
  for (const [name, input, field] of invalidInputs) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => resolveAgentConfig([input]),
        (error: unknown) => error instanceof AgentConfigError && error.field === field,
      );
    });
  }
});
