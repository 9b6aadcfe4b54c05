/**
 * Threshold a figure must reach. Ratio targets compare Signet ÷ the reference measured in the same
 * run. `at-least` and `below` targets compare Signet's own figure with a fixed number in the row's
 * unit, for figures whose bound is not another system's.
 */
export type Target =
  | { readonly kind: 'ratio-at-least'; readonly value: number; readonly label?: string }
  | { readonly kind: 'ratio-at-most'; readonly value: number; readonly label?: string }
  | { readonly kind: 'at-least'; readonly value: number; readonly label?: string }
  | { readonly kind: 'below'; readonly value: number; readonly label?: string };

/** `yes` or `no` when a target applies and both sides were measured; `—` otherwise. */
export type Meets = 'yes' | 'no' | '—';

/** One line of the benchmark table, with the raw numbers behind it. */
export interface BenchRow {
  readonly figure: string;
  /** Signet's figure in `unit`, or null when it was not measured. */
  readonly signet: number | null;
  /** The reference's figure in `unit`, or null when there is none or it was not measured. */
  readonly reference: number | null;
  /** Name of the reference, such as `etcd 3.4.23` or `openssl speed ed25519`. */
  readonly referenceName: string | null;
  /** signet ÷ reference, or null unless both were measured. */
  readonly ratio: number | null;
  readonly target: Target | null;
  readonly meets: Meets;
  readonly unit: string;
  /** Reason a figure is missing, or a qualifier of the figure, shown in the table. */
  readonly note: string | null;
  /** Everything measured for the row, for bench-results.json. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface RowInput {
  readonly figure: string;
  readonly unit: string;
  readonly signet: number | null;
  readonly reference?: number | null;
  readonly referenceName?: string | null;
  readonly target?: Target | null;
  readonly note?: string | null;
  readonly raw?: Readonly<Record<string, unknown>>;
}

/** Signet ÷ reference, or null when either is missing or the reference is not positive. */
export function ratioOf(signet: number | null, reference: number | null): number | null {
  if (signet === null || reference === null || !(reference > 0)) return null;
  return signet / reference;
}

/** Judges a row against its target; a missing figure, reference or target gives `—`. */
export function meetsTarget(target: Target | null, signet: number | null, ratio: number | null): Meets {
  if (target === null || signet === null) return '—';
  switch (target.kind) {
    case 'at-least':
      return signet >= target.value ? 'yes' : 'no';
    case 'below':
      return signet < target.value ? 'yes' : 'no';
    case 'ratio-at-least':
      if (ratio === null) return '—';
      return ratio >= target.value ? 'yes' : 'no';
    case 'ratio-at-most':
      if (ratio === null) return '—';
      return ratio <= target.value ? 'yes' : 'no';
  }
}

/** Builds a row and derives its ratio and verdict, so that no benchmark computes them its own way. */
export function makeRow(input: RowInput): BenchRow {
  const reference = input.reference ?? null;
  const target = input.target ?? null;
  const ratio = ratioOf(input.signet, reference);
  return {
    figure: input.figure,
    signet: input.signet,
    reference,
    referenceName: input.referenceName ?? null,
    ratio,
    target,
    meets: meetsTarget(target, input.signet, ratio),
    unit: input.unit,
    note: input.note ?? null,
    raw: input.raw ?? {},
  };
}

/** Builds a row that no benchmark measures yet, which shows the target and no number. */
export function notMeasuredRow(
  figure: string,
  unit: string,
  target: Target | null,
  referenceName: string | null,
) {
  return makeRow({ figure, unit, signet: null, referenceName, target, note: 'not measured yet' });
}
