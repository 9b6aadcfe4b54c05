import type { Resources } from './job.js';

export type NodeStatus = 'initializing' | 'ready' | 'down' | 'disconnected';

export interface DriverInfo {
  readonly Detected: boolean;
  readonly Healthy: boolean;
}

/**
 * A client node in Nomad's JSON shape. `SecretID` authenticates the client agent: it is stored in
 * state but never returned by the HTTP API.
 */
export interface Node {
  readonly ID: string;
  readonly SecretID: string;
  readonly Name: string;
  readonly Datacenter: string;
  readonly NodeClass: string;
  readonly Status: NodeStatus;
  readonly StatusDescription: string;
  readonly SchedulingEligibility: 'eligible' | 'ineligible';
  /** Capacity the scheduler may place allocations into. */
  readonly NodeResources: Resources;
  readonly Drivers: Readonly<Record<string, DriverInfo>>;
  readonly Attributes: Readonly<Record<string, string>>;
  /** Unix time in seconds of the last status change, as Nomad reports it. */
  readonly StatusUpdatedAt: number;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}
