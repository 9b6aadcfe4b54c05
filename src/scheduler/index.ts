export { allocName, allocNameIndex } from './alloc-name.js';
export { type ComputePlanInput, computePlan } from './compute-plan.js';
export { matchesDatacenter } from './datacenter-glob.js';
export { SchedulerError, type SchedulerErrorCode } from './errors.js';
export {
  EvalBroker,
  type EvalBrokerOptions,
  type EvalBrokerStats,
  type EvalDelivery,
} from './eval-broker.js';
export { evaluatePlan, type PlanEvaluation, type PlanStateView } from './evaluate-plan.js';
export { InFlightPlans } from './in-flight-plans.js';
export { isEmptyPlan, type PlacementMetrics, type Plan, planNodeIds, type StopDiff } from './plan.js';
export { PlanQueue, type QueuedPlan } from './plan-queue.js';
export { ALLOC_LOST, ALLOC_NOT_NEEDED } from './reconcile.js';
