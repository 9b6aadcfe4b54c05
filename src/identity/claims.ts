/**
 * Claims of a workload identity token, with Nomad's names. The four `nomad_*` claims say whose
 * identity it is; the registered JWT claims (RFC 7519) follow Nomad 1.7 and later.
 */
export interface IdentityClaims {
  readonly nomad_namespace: string;
  /** The job's id, or its parent's id for a dispatched or periodic child job. */
  readonly nomad_job_id: string;
  readonly nomad_allocation_id: string;
  readonly nomad_task: string;
  /** Seconds since the Unix epoch. */
  readonly iat: number;
  readonly nbf: number;
  /** Present only when the identity has a TTL. */
  readonly exp?: number;
  readonly aud: readonly string[];
  /** `REGION:NAMESPACE:JOB:GROUP:TASK:IDENTITY`. */
  readonly sub: string;
  /** A fresh UUID for each signature. */
  readonly jti: string;
  /** Present only when the server sets `oidc_issuer`. */
  readonly iss?: string;
}
