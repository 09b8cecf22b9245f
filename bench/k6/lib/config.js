// Everything a run can change comes from the environment (the harness sets it; defaults suit a
// local `make up`). Durations are k6 strings ("30s"), rates are iterations (= requests) per second.
export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8000').replace(/\/$/, '');
export const POOL_SIZE = parseInt(__ENV.POOL_SIZE || '20', 10);
export const USER_COUNT = parseInt(__ENV.USER_COUNT || __ENV.POOL_SIZE || '20', 10);
export const FIRST_USER_ID = parseInt(__ENV.FIRST_USER_ID || '1', 10);
export const EMAIL_TEMPLATE = __ENV.EMAIL_TEMPLATE || 'user{id}@example.com';
export const PASSWORD = __ENV.PASSWORD || 'seed-password-for-bench';
export const TOKENS_FILE = __ENV.TOKENS_FILE || '';
export const TOKENS_OUT = __ENV.TOKENS_OUT || '';
export const SUMMARY_FILE = __ENV.SUMMARY_FILE || '';
export const ONLY = __ENV.ONLY || '';
export const BODY_CHECK_RATIO = parseFloat(__ENV.BODY_CHECK_RATIO || '0.02');
export const P95_MS = parseFloat(__ENV.P95_MS || '200');
export const MAX_ERROR_RATE = parseFloat(__ENV.MAX_ERROR_RATE || '0.01');

export function emailFor(userId) {
  return EMAIL_TEMPLATE.replace('{id}', String(userId));
}
