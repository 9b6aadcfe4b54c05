import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PriorityHeap } from '../../src/scheduler/priority-heap.js';

test('priority heap pops in sorted order', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 })), (values) => {
      // Pairs of (value, insertion order), so that FIFO among equal values is checked as well.
      const heap = new PriorityHeap<[number, number]>((a, b) => (a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1]));
      values.forEach((value, i) => {
        heap.push([value, i]);
      });
      const popped: Array<[number, number]> = [];
      for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item);

      const expected = values
        .map((value, i): [number, number] => [value, i])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      assert.deepEqual(popped, expected);
      assert.equal(heap.size, 0);
    }),
  );
});
