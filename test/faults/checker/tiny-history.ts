import type { History, Outcome, VariableOperation } from '../../../cluster/faults/history.js';
import type { Prng } from '../../sim/prng.js';

/**
 * Returns a random tiny history on one key, most of them not linearizable: random outputs drawn from few
 * values and indexes, so that the checkers meet every rule. Written values are unique, as the
 * fault suite writes them.
 */
export function randomHistory(random: Prng, maxOperations = 6, unknownRate = 0.15): History {
  const operations: VariableOperation[] = [];
  const count = random.between(1, maxOperations);
  const written: string[] = [];
  // Three client slots. A slot whose call times out gets a new process, as the fault suite does.
  const nextFree = [0, 0, 0];
  const processes = [0, 1, 2];
  for (let id = 0; id < count; id++) {
    const slot = random.int(nextFree.length);
    const process = processes[slot]!;
    const callNs = nextFree[slot]! + random.int(4);
    const roll = random.float();
    let outcome: Outcome = 'ok';
    if (roll < unknownRate) outcome = 'unknown';
    else if (roll < unknownRate + 0.07) outcome = 'fail';
    const returnNs = outcome === 'unknown' ? Number.POSITIVE_INFINITY : callNs + random.int(6);
    nextFree[slot] = Number.isFinite(returnNs) ? returnNs + 1 : callNs + 1;
    if (outcome === 'unknown') processes[slot] = 3 + id;
    const common = { id, process, key: 'k', callNs, returnNs, outcome };
    const ok = outcome === 'ok';
    const index = random.between(1, 4);
    const kind = random.pick(['get', 'get', 'put', 'cas', 'cas', 'delete'] as const);
    const value = `v${id}`;
    switch (kind) {
      case 'get': {
        const read = random.chance(0.25) || written.length === 0 ? null : random.pick(written);
        operations.push({
          ...common,
          kind,
          input: null,
          output: ok ? { value: read, index: read === null ? null : index } : null,
        });
        break;
      }
      case 'put':
        written.push(value);
        operations.push({ ...common, kind, input: { value }, output: ok ? { index } : null });
        break;
      case 'cas': {
        written.push(value);
        const succeeded = random.chance(0.5);
        const input = { value, casIndex: random.between(0, 4) };
        operations.push({
          ...common,
          kind,
          input,
          output: ok ? { succeeded, index: succeeded ? index : null } : null,
        });
        break;
      }
      case 'delete': {
        const casIndex = random.chance(0.5) ? random.between(0, 4) : null;
        const succeeded = casIndex === null || random.chance(0.5);
        operations.push({ ...common, kind, input: { casIndex }, output: ok ? { succeeded } : null });
        break;
      }
    }
  }
  return { operations };
}
