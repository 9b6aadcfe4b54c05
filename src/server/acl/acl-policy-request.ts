import {
  type JobAcl,
  PolicyError,
  PolicyParserError,
  parsePolicyOffThread,
  validateJobAcl,
} from '../../acl/index.js';
import { ACL_POLICY_NAME_PATTERN } from '../../state/acl-fields.js';
import { MAX_POLICY_DESCRIPTION_BYTES } from '../../state/acl-policies.js';
import { MAX_ACL_RULES_BYTES } from '../../state/limits.js';
import type { AclPolicy } from '../../state/store.js';
import { RequestError } from '../request-error.js';

/** A policy to create or replace, as a client sends it. */
export interface AclPolicyRequest {
  readonly name: string;
  readonly description: string;
  /** Policy text in HCL or JSON. */
  readonly rules: string;
  /** The workloads the policy applies to, or null. */
  readonly jobAcl: JobAcl | null;
}

/**
 * Checks a policy request and returns the row to propose. The rules must parse in strict mode, so
 * a misspelt key is rejected now instead of granting nothing later. They parse on the parser
 * worker thread, because 64 KiB of rules take about 0.2 s. Throws RequestError 400 naming the
 * problem (the parser's message places it by line, block or field), or 500 when the parser worker
 * fails.
 */
export async function checkedAclPolicy(request: AclPolicyRequest): Promise<AclPolicy> {
  const { name } = request;
  if (!ACL_POLICY_NAME_PATTERN.test(name)) {
    throw new RequestError(
      400,
      `invalid ACL policy name ${JSON.stringify(name.slice(0, 160))}: expected 1 to 128 letters, digits or "-"`,
    );
  }
  const descriptionBytes = Buffer.byteLength(request.description, 'utf8');
  if (descriptionBytes > MAX_POLICY_DESCRIPTION_BYTES) {
    throw new RequestError(
      400,
      `invalid ACL policy ${name}: description too long (${descriptionBytes} bytes, at most ${MAX_POLICY_DESCRIPTION_BYTES})`,
    );
  }
  const rulesBytes = Buffer.byteLength(request.rules, 'utf8');
  if (rulesBytes > MAX_ACL_RULES_BYTES) {
    throw new RequestError(
      400,
      `invalid ACL policy ${name}: rules of ${rulesBytes} bytes are above the limit of ${MAX_ACL_RULES_BYTES}`,
    );
  }
  try {
    await parsePolicyOffThread(request.rules, 'strict');
  } catch (err) {
    if (err instanceof PolicyError) throw new RequestError(400, `invalid ACL policy ${name}: ${err.message}`);
    if (err instanceof PolicyParserError) {
      throw new RequestError(500, `failed to check the rules of ACL policy ${name}: ${err.message}`);
    }
    throw err;
  }
  const jobAcl = request.jobAcl;
  const problems = validateJobAcl(jobAcl);
  if (problems.length > 0) {
    throw new RequestError(400, `invalid ACL policy ${name}: invalid JobACL: ${problems.join('; ')}`);
  }
  return {
    Name: name,
    Description: request.description,
    Rules: request.rules,
    JobACL: jobAcl,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}
