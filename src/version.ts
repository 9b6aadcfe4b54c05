/** The Signet release, reported by `signet version` and in logs. */
export const SIGNET_VERSION = '0.1.0';
