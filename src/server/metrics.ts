import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Raft progress that the driver reports after each ready batch. */
export interface RaftStatus {
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly isLeader: boolean;
}

/** Bucket bounds in seconds for the time from a proposal to its commit on the leader. */
const APPEND_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Bucket bounds in seconds for one synced storage save. */
const FSYNC_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];
/** Resolution of the event-loop delay sampler; finer sampling costs more timer wake-ups. */
const EVENT_LOOP_RESOLUTION_MS = 10;

const NANOSECONDS_PER_SECOND = 1e9;
const NANOSECONDS_PER_MILLISECOND = 1e6;

/**
 * The metrics of one server, on a registry of its own so that several servers in one process
 * (tests) keep separate values. Every series carries the label `node` with the node name.
 *
 * Event-loop lag covers the time since the previous scrape: each call of `json()` or
 * `prometheus()` reads the delay histogram and resets it, so two scrapers share one window.
 */
export class ServerMetrics {
  readonly #registry = new Registry();
  readonly #term: Gauge;
  readonly #commitIndex: Gauge;
  readonly #appliedIndex: Gauge;
  readonly #lastIndex: Gauge;
  readonly #isLeader: Gauge;
  readonly #leaderChanges: Counter;
  readonly #appendSeconds: Histogram;
  readonly #fsyncSeconds: Histogram;
  readonly #proposalsWaiting: Gauge;
  readonly #eventLoopLag: Gauge<'quantile'>;
  readonly #eventLoopLagMax: Gauge;
  readonly #eventLoopDelay: IntervalHistogram;

  constructor(nodeName: string) {
    this.#registry.setDefaultLabels({ node: nodeName });
    const registers = [this.#registry];

    this.#term = new Gauge({ name: 'signet_raft_term', help: 'Current Raft term', registers });
    this.#commitIndex = new Gauge({
      name: 'signet_raft_commit_index',
      help: 'Highest log index known to be committed',
      registers,
    });
    this.#appliedIndex = new Gauge({
      name: 'signet_raft_applied_index',
      help: 'Highest log index applied to the state machine',
      registers,
    });
    this.#lastIndex = new Gauge({
      name: 'signet_raft_last_index',
      help: 'Index of the last entry in the local log',
      registers,
    });
    this.#isLeader = new Gauge({
      name: 'signet_raft_is_leader',
      help: '1 while this server is the leader, else 0',
      registers,
    });
    this.#leaderChanges = new Counter({
      name: 'signet_raft_leader_changes_total',
      help: 'Times this server saw a new leader (including itself)',
      registers,
    });
    this.#appendSeconds = new Histogram({
      name: 'signet_raft_append_seconds',
      help: 'Time from a proposal to its commit, measured on the leader',
      buckets: APPEND_BUCKETS_SECONDS,
      registers,
    });
    this.#fsyncSeconds = new Histogram({
      name: 'signet_raft_fsync_seconds',
      help: 'Time of one synced save of Raft state and entries to storage',
      buckets: FSYNC_BUCKETS_SECONDS,
      registers,
    });
    this.#proposalsWaiting = new Gauge({
      name: 'signet_raft_proposals_waiting',
      help: 'Proposals accepted by this server and not yet committed or rejected',
      registers,
    });
    this.#eventLoopLag = new Gauge({
      name: 'signet_event_loop_lag_seconds',
      help: 'Event-loop delay percentiles since the previous scrape',
      labelNames: ['quantile'],
      registers,
    });
    this.#eventLoopLagMax = new Gauge({
      name: 'signet_event_loop_lag_max_seconds',
      help: 'Largest event-loop delay since the previous scrape',
      registers,
    });

    // The sampler's timer is unreferenced in Node, so an enabled monitor does not keep the process alive.
    this.#eventLoopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    this.#eventLoopDelay.enable();
  }

  /** Content-Type of `prometheus()` output (text exposition format 0.0.4). */
  get contentType(): string {
    return this.#registry.contentType;
  }

  setRaftStatus(status: RaftStatus): void {
    this.#term.set(status.term);
    this.#commitIndex.set(status.commitIndex);
    this.#appliedIndex.set(status.appliedIndex);
    this.#lastIndex.set(status.lastIndex);
    this.#isLeader.set(status.isLeader ? 1 : 0);
  }

  leaderChanged(): void {
    this.#leaderChanges.inc();
  }

  observeAppend(seconds: number): void {
    this.#appendSeconds.observe(seconds);
  }

  observeFsync(seconds: number): void {
    this.#fsyncSeconds.observe(seconds);
  }

  setProposalsWaiting(count: number): void {
    this.#proposalsWaiting.set(count);
  }

  /** Renders every series in the Prometheus text format. */
  async prometheus(): Promise<string> {
    this.#sampleEventLoop();
    return this.#registry.metrics();
  }

  /**
   * Renders every series as JSON in the layout of Nomad's `/v1/metrics`: `Gauges` with `Value`,
   * `Counters` with `Count`, and `Samples` (histograms) with `Count`, `Sum`, `Mean` and cumulative
   * `Buckets` keyed by upper bound.
   */
  async json(): Promise<Record<string, unknown>> {
    this.#sampleEventLoop();
    const gauges: Record<string, unknown>[] = [];
    const counters: Record<string, unknown>[] = [];
    const samples: Record<string, unknown>[] = [];

    for (const metric of await this.#registry.getMetricsAsJSON()) {
      // prom-client 15.1.3 types `type` as a numeric enum, but at run time it is the string name.
      const type = String(metric.type);
      if (type === 'gauge') {
        for (const { value, labels } of metric.values)
          gauges.push({ Name: metric.name, Value: value, Labels: labels });
      } else if (type === 'counter') {
        for (const { value, labels } of metric.values)
          counters.push({ Name: metric.name, Count: value, Labels: labels });
      } else if (type === 'histogram') {
        samples.push(histogramSample(metric.name, metric.values));
      }
    }
    return { Timestamp: new Date().toISOString(), Gauges: gauges, Counters: counters, Samples: samples };
  }

  /** Stops the event-loop sampler; the values stay readable. */
  close(): void {
    this.#eventLoopDelay.disable();
  }

  #sampleEventLoop(): void {
    const delay = this.#eventLoopDelay;
    const hasSamples = delay.count > 0;
    this.#eventLoopLag.set({ quantile: '0.5' }, hasSamples ? lagSeconds(delay.percentile(50)) : 0);
    this.#eventLoopLag.set({ quantile: '0.99' }, hasSamples ? lagSeconds(delay.percentile(99)) : 0);
    this.#eventLoopLagMax.set(hasSamples ? lagSeconds(delay.max) : 0);
    delay.reset();
  }
}

/**
 * Converts one sample of the delay monitor to lag in seconds. Each sample is the whole time
 * between two sampler wake-ups (checked on Node 20.20: an idle loop reads about 10 ms at a 10 ms
 * resolution), so the resolution is subtracted to leave the delay itself.
 */
function lagSeconds(sampleNanoseconds: number): number {
  const lagNanoseconds = sampleNanoseconds - EVENT_LOOP_RESOLUTION_MS * NANOSECONDS_PER_MILLISECOND;
  return Math.max(0, lagNanoseconds) / NANOSECONDS_PER_SECOND;
}

interface HistogramValue {
  readonly value: number;
  readonly labels: Record<string, string | number | undefined>;
  readonly metricName?: string;
}

/** Folds prom-client's flat histogram series (`_bucket`, `_sum`, `_count`) into one sample. */
function histogramSample(name: string, values: readonly HistogramValue[]): Record<string, unknown> {
  let count = 0;
  let sum = 0;
  let labels: Record<string, unknown> = {};
  const buckets: Record<string, number> = {};
  for (const entry of values) {
    if (entry.metricName === `${name}_count`) {
      count = entry.value;
    } else if (entry.metricName === `${name}_sum`) {
      sum = entry.value;
      const { le: _bound, ...rest } = entry.labels;
      labels = rest;
    } else if (entry.metricName === `${name}_bucket`) {
      buckets[String(entry.labels.le)] = entry.value;
    }
  }
  return {
    Name: name,
    Count: count,
    Sum: sum,
    Mean: count > 0 ? sum / count : 0,
    Buckets: buckets,
    Labels: labels,
  };
}
