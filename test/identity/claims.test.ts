import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_IDENTITY, identityClaims } from '../../src/identity/index.js';
import { makeAlloc, makeJob, makeTask, NOW_MS } from './fixtures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW_S = NOW_MS / 1000;

describe('identityClaims', () => {
  test('normal job, default identity', () => {
    const alloc = makeAlloc({ Namespace: 'prod' });
    const { jti, ...claims } = identityClaims({
      alloc,
      job: makeJob({ Namespace: 'prod' }),
      task: makeTask('server'),
      region: 'global',
      issuer: null,
      now: NOW_MS + 999,
    });

    assert.match(jti, UUID);
    assert.deepEqual(claims, {
      nomad_namespace: 'prod',
      nomad_job_id: 'web',
      nomad_allocation_id: alloc.ID,
      nomad_task: 'server',
      aud: ['nomadproject.io'],
      sub: 'global:prod:web:frontend:server:default',
      iat: NOW_S,
      nbf: NOW_S,
    });
    assert.equal(Object.hasOwn(claims, 'exp'), false);
    assert.equal(Object.hasOwn(claims, 'iss'), false);
  });

  test('child job names its parent', () => {
    const claims = identityClaims({
      alloc: makeAlloc({ JobID: 'batch/dispatch-1767225600-0a1b2c3d' }),
      job: makeJob({ ID: 'batch/dispatch-1767225600-0a1b2c3d', ParentID: 'batch' }),
      task: makeTask('server'),
      region: 'eu',
      now: NOW_MS,
    });
    assert.equal(claims.nomad_job_id, 'batch');
    assert.equal(claims.sub, 'eu:default:batch:frontend:server:default');
  });

  test('default identity audience is forced', () => {
    const identity = { ...DEFAULT_IDENTITY, Audience: ['signet.io'], File: true };
    const claims = identityClaims({
      alloc: makeAlloc(),
      job: makeJob(),
      task: makeTask('server', identity),
      region: 'global',
      now: NOW_MS,
    });
    assert.deepEqual(claims.aud, ['nomadproject.io']);
  });

  test('named identity keeps its audience', () => {
    const claims = identityClaims({
      alloc: makeAlloc(),
      job: makeJob(),
      task: makeTask('server'),
      identity: { Name: 'vault_default', Audience: ['vault.io', 'other'], Env: false, File: false, TTL: 0 },
      region: 'global',
      now: NOW_MS,
    });
    assert.deepEqual(claims.aud, ['vault.io', 'other']);
    assert.equal(claims.sub, 'global:default:web:frontend:server:vault_default');
  });

  test('exp only with a TTL', () => {
    const base = { alloc: makeAlloc(), job: makeJob(), region: 'global', now: NOW_MS + 400 };
    const withTtl = identityClaims({
      ...base,
      task: makeTask('server', { ...DEFAULT_IDENTITY, TTL: 3_600_000_000_000 }),
    });
    assert.equal(withTtl.exp, NOW_S + 3600);

    // 1.7 s after a time 0.4 s into the second ends 2.1 s later, rounded down.
    const subSecond = identityClaims({
      ...base,
      task: makeTask('server', { ...DEFAULT_IDENTITY, TTL: 1_700_000_000 }),
    });
    assert.equal(subSecond.exp, NOW_S + 2);

    const noTtl = identityClaims({ ...base, task: makeTask('server', { ...DEFAULT_IDENTITY, TTL: 0 }) });
    assert.equal(Object.hasOwn(noTtl, 'exp'), false);
  });

  test('iss only with an issuer', () => {
    const base = {
      alloc: makeAlloc(),
      job: makeJob(),
      task: makeTask('server'),
      region: 'global',
      now: NOW_MS,
    };
    assert.equal(identityClaims({ ...base, issuer: 'https://signet.example' }).iss, 'https://signet.example');
    assert.equal(Object.hasOwn(identityClaims({ ...base, issuer: '' }), 'iss'), false);
    assert.equal(Object.hasOwn(identityClaims({ ...base, issuer: null }), 'iss'), false);
  });

  test('jti differs per call', () => {
    const input = {
      alloc: makeAlloc(),
      job: makeJob(),
      task: makeTask('server'),
      region: 'global',
      now: NOW_MS,
    };
    assert.notEqual(identityClaims(input).jti, identityClaims(input).jti);
  });
});
