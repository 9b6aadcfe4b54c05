import type { AgentConfig } from '../server/agent-config.js';
import { DriverError, type TaskDriver } from './drivers/driver.js';
import { MockDriver } from './drivers/mock.js';
import { RawExecDriver } from './drivers/raw-exec.js';

/**
 * Builds the client's task drivers, by name. raw_exec is always listed, so the node shows it as not
 * detected while the configuration leaves it off, as Nomad does. mock is listed only when
 * `plugin "mock" { config { enabled = true } }` enables it: Nomad ships no mock driver in
 * production builds, and a node that advertised one would attract jobs meant for tests.
 */
export function clientDrivers(config: Pick<AgentConfig, 'plugins'>): Map<string, TaskDriver> {
  const drivers = new Map<string, TaskDriver>();
  drivers.set('raw_exec', new RawExecDriver({ enabled: config.plugins.raw_exec.enabled }));
  if (config.plugins.mock.enabled) drivers.set('mock', new MockDriver());
  return drivers;
}

/**
 * Returns a stand-in for a driver that this client does not have. The scheduler places tasks only on
 * nodes whose driver is healthy, so this serves an allocation placed before the client restarted
 * with another configuration: its tasks fail with a Driver Failure event that names the driver.
 */
export function missingDriver(name: string): TaskDriver {
  const message = `driver ${JSON.stringify(name)} is not available on this client`;
  return {
    name,
    fingerprint: () => ({ Detected: false, Healthy: false, HealthDescription: message }),
    start: () => Promise.reject(new DriverError('DISABLED', name, message)),
    recover: () => Promise.resolve(null),
  };
}
