import type { Allocation } from '../structs/allocation.js';
import type { Node } from '../structs/node.js';
import type { PlanStateView } from './evaluate-plan.js';
import type { Plan } from './plan.js';

/**
 * The state the plan applier evaluates the next plan against: the newest applied state, plus the
 * accepted plans that it has proposed to Raft but not yet seen applied. Without those, two plans
 * committed back to back could each fit a node on its own and overfill it together.
 *
 * A plan stays here from its proposal until its Raft entry is applied or its proposal fails. For a
 * moment both the state and this list may contain it, which changes nothing, because stops and
 * placements are matched by allocation ID.
 */
export class InFlightPlans implements PlanStateView {
  readonly #state: PlanStateView;
  readonly #plans: Plan[] = [];

  constructor(state: PlanStateView) {
    this.#state = state;
  }

  /** Number of plans proposed and not yet applied. */
  get size(): number {
    return this.#plans.length;
  }

  /** Records an accepted plan once it is proposed to Raft. */
  add(plan: Plan): void {
    this.#plans.push(plan);
  }

  /** Forgets a plan once its entry is applied to the state, or its proposal failed. */
  remove(plan: Plan): void {
    const index = this.#plans.indexOf(plan);
    if (index !== -1) this.#plans.splice(index, 1);
  }

  /** Node status comes from the state alone, because plans never change a node. */
  node(id: string): Node | null {
    return this.#state.node(id);
  }

  allocsByNode(id: string): readonly Allocation[] {
    const allocs = this.#state.allocsByNode(id);
    if (this.#plans.length === 0) return allocs;

    const byId = new Map(allocs.map((alloc) => [alloc.ID, alloc]));
    for (const plan of this.#plans) {
      for (const diff of plan.NodeUpdate[id] ?? []) {
        const alloc = byId.get(diff.ID);
        if (alloc !== undefined) byId.set(diff.ID, { ...alloc, DesiredStatus: 'stop' });
      }
      for (const alloc of plan.NodeAllocation[id] ?? []) byId.set(alloc.ID, alloc);
    }
    return [...byId.values()];
  }
}
