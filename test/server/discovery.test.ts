import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAddress } from '../../src/rpc/transport.js';
import { joinAddress } from '../../src/server/addresses.js';
import { nextReconcileAction, type ReconcileView } from '../../src/server/autopilot.js';
import {
  foundingVoters,
  type Introduction,
  PeerDirectory,
  parseIntroduction,
} from '../../src/server/peer-directory.js';

function intro(id: number, fields: Partial<Introduction> = {}): Introduction {
  return {
    id,
    name: `s${id}`,
    rpcAddr: `127.0.0.1:${5000 + id}`,
    httpAddr: `127.0.0.1:${6000 + id}`,
    pristine: true,
    bootstrapExpect: 3,
    peers: [],
    ...fields,
  };
}

describe('parseIntroduction', () => {
  test('accepts a well-formed introduction', () => {
    const value = intro(7, { peers: [{ id: 8, name: 's8', rpcAddr: 'host-a:1', httpAddr: 'host-a:2' }] });
    assert.deepEqual(parseIntroduction(value, checkAddress), value);
  });

  test('rejects each malformed field with its name', () => {
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...intro(1), id: 0 }, /field id/],
      [{ ...intro(1), id: 2 ** 60 }, /field id/],
      [{ ...intro(1), name: '' }, /field name/],
      [{ ...intro(1), rpcAddr: 'x'.repeat(300) }, /field rpcAddr/],
      [{ ...intro(1), pristine: 'yes' }, /pristine/],
      [{ ...intro(1), bootstrapExpect: -1 }, /bootstrapExpect/],
      [{ ...intro(1), peers: 'none' }, /peers/],
      [{ ...intro(1), peers: Array.from({ length: 300 }, (_, i) => intro(i + 2)) }, /peers/],
      [{ ...intro(1), peers: [{ id: 'x' }] }, /introduction peer: field id/],
      [{ ...intro(1), rpcAddr: '1.2.3.256:80' }, /field rpcAddr: invalid server address/],
      [{ ...intro(1), httpAddr: '[1.2.3.4]:80' }, /field httpAddr: invalid server address/],
      [
        { ...intro(1), peers: [{ ...intro(2), rpcAddr: '999999999999:80' }] },
        /introduction peer: field rpcAddr/,
      ],
    ];
    for (const [value, reason] of cases) {
      const result = parseIntroduction(value, checkAddress);
      assert.equal(typeof result, 'string', JSON.stringify(value)?.slice(0, 80));
      assert.match(result as string, reason);
    }
  });
});

describe('PeerDirectory', () => {
  test('returns the addresses of servers it did not know yet', () => {
    const directory = new PeerDirectory();
    const first = directory.learn(intro(1, { peers: [intro(2), intro(3)] }), 0);
    assert.deepEqual(first.sort(), ['127.0.0.1:5002', '127.0.0.1:5003']);
    directory.learn(intro(2), 1);
    assert.deepEqual(directory.learn(intro(1, { peers: [intro(2), intro(3)] }), 2), ['127.0.0.1:5003']);
    assert.equal(directory.get(2)?.name, 's2');
    assert.equal(directory.all().length, 2);
  });
});

describe('foundingVoters', () => {
  test('only the lowest id founds, once bootstrap_expect pristine servers know each other', () => {
    const all = [intro(5), intro(9), intro(3)];
    assert.deepEqual(foundingVoters(intro(3), all), [3, 5, 9]);
    assert.equal(foundingVoters(intro(5), all), null);
    assert.equal(foundingVoters(intro(9), all), null);
  });

  test('waits until enough servers are known', () => {
    assert.equal(foundingVoters(intro(1), [intro(2)]), null);
    assert.deepEqual(foundingVoters(intro(1, { bootstrapExpect: 1 }), []), [1]);
    assert.equal(foundingVoters(intro(1, { bootstrapExpect: 0 }), []), null, '0 only joins');
  });

  test('no founding beside a member', () => {
    const all = [intro(2), intro(3), intro(4, { pristine: false })];
    assert.equal(foundingVoters(intro(1), all), null);
    assert.equal(foundingVoters(intro(1, { pristine: false }), [intro(2), intro(3)]), null);
  });

  test('ignores servers that expect a different cluster size', () => {
    const all = [intro(2, { bootstrapExpect: 5 }), intro(3)];
    assert.equal(foundingVoters(intro(1), all), null);
    assert.deepEqual(foundingVoters(intro(1), [...all, intro(4)]), [1, 3, 4]);
  });
});

describe('nextReconcileAction', () => {
  const info = (id: number) => ({
    id,
    name: `s${id}`,
    rpcAddr: `127.0.0.1:${5000 + id}`,
    httpAddr: `127.0.0.1:${6000 + id}`,
  });
  const base: ReconcileView = {
    selfId: 1,
    membership: { voters: [1, 2, 3], learners: [], removed: [] },
    commit: 10,
    progress: [
      { id: 2, match: 10 },
      { id: 3, match: 10 },
    ],
    live: [info(1), info(2), info(3)],
    recorded: [info(1), info(2), info(3)],
    pristine: [],
  };

  test('does nothing when membership and records match', () => {
    assert.equal(nextReconcileAction(base), null);
  });

  test('records a server whose address changed, before anything else', () => {
    const moved = { ...info(2), rpcAddr: '127.0.0.1:9999' };
    assert.deepEqual(nextReconcileAction({ ...base, live: [info(1), moved, info(3), info(4)] }), {
      kind: 'record-server',
      server: moved,
    });
  });

  test('pristine server joins, then promoted', () => {
    const view = {
      ...base,
      live: [...base.live, info(4)],
      recorded: [...base.recorded, info(4)],
      pristine: [4],
    };
    assert.deepEqual(nextReconcileAction(view), { kind: 'add-learner', id: 4 });
    const learning: ReconcileView = {
      ...view,
      membership: { voters: [1, 2, 3], learners: [4], removed: [] },
      progress: [...base.progress, { id: 4, match: 6 }],
    };
    assert.equal(nextReconcileAction(learning), null);
    assert.deepEqual(
      nextReconcileAction({ ...learning, progress: [...base.progress, { id: 4, match: 10 }] }),
      { kind: 'promote', id: 4 },
    );
  });

  test('server of another cluster ignored', () => {
    assert.equal(nextReconcileAction({ ...base, live: [...base.live, info(4)] }), null);
  });

  test('promotes only a learner that is connected', () => {
    const view: ReconcileView = {
      ...base,
      membership: { voters: [1, 2, 3], learners: [4], removed: [] },
      progress: [...base.progress, { id: 4, match: 10 }],
      recorded: [...base.recorded, info(4)],
    };
    assert.equal(nextReconcileAction(view), null);
    assert.deepEqual(nextReconcileAction({ ...view, live: [...base.live, info(4)] }), {
      kind: 'promote',
      id: 4,
    });
  });

  test('never brings back a removed server', () => {
    const view: ReconcileView = {
      ...base,
      membership: { voters: [1, 2], learners: [], removed: [3] },
      recorded: [info(1), info(2)],
      pristine: [3],
    };
    assert.equal(nextReconcileAction(view), null);
  });
});

describe('joinAddress', () => {
  test('adds the default RPC port to a bare host only', () => {
    assert.equal(joinAddress('10.0.0.2', 4647), '10.0.0.2:4647');
    assert.equal(joinAddress('10.0.0.2:5000', 4647), '10.0.0.2:5000');
    assert.equal(joinAddress('server-1', 4647), 'server-1:4647');
    assert.equal(joinAddress('[::1]:5000', 4647), '[::1]:5000');
    assert.equal(joinAddress('[::1]', 4647), '[::1]:4647');
  });
});
