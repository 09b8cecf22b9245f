// The bench scenario: the dashboard-heavy request mix of lib/mix.json against the public /v1 API.
//
// MODE=open   constant-arrival-rate (the open model: a slow server cannot slow the arrivals down,
//             so latency is not hidden by coordinated omission; late iterations are counted in
//             dropped_iterations). RATE per second for DURATION, PRE_VUS..MAX_VUS.
// MODE=closed ramping-vus (the closed model, for the saturation peak): ramp to VUS over RAMP, hold
//             for DURATION. Both come from lib/scenario.js, shared with ceiling.js.
// Tokens come from setup() (login of POOL_SIZE seeded users), or from TOKENS_FILE written by an
// earlier run's TOKENS_OUT so a search of many short runs does not log the pool in every time.
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { loginPool } from './lib/auth.js';
import { WEIGHTS, pickRequest } from './lib/mix.js';
import { REQUESTS } from './lib/requests.js';
import {
  MAX_ERROR_RATE,
  ONLY,
  P95_MS,
  SUMMARY_FILE,
  TOKENS_FILE,
  TOKENS_OUT,
} from './lib/config.js';
import { scenario } from './lib/scenario.js';

const PREISSUED = TOKENS_FILE
  ? new SharedArray('preissued users', () => JSON.parse(open(TOKENS_FILE)))
  : null;

// A threshold on each endpoint's submetric makes k6 keep it in the summary (per-endpoint
// latency and errors); `max>=0` always holds, so only the global thresholds can fail a run.
function endpointThresholds() {
  const thresholds = {};
  for (const name of Object.keys(WEIGHTS)) {
    thresholds[`http_req_duration{endpoint:${name}}`] = ['max>=0'];
    thresholds[`http_req_failed{endpoint:${name}}`] = ['rate>=0'];
  }
  return thresholds;
}

export const options = {
  scenarios: { mix: scenario() },
  discardResponseBodies: true,
  setupTimeout: __ENV.SETUP_TIMEOUT || '5m',
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'count'],
  // The `{scenario:mix}` submetrics leave out setup()'s logins, which are not part of the mix.
  thresholds: Object.assign(endpointThresholds(), {
    'http_req_failed{scenario:mix}': [`rate<${MAX_ERROR_RATE}`],
    'http_req_duration{scenario:mix}': [`p(95)<${P95_MS}`],
    'http_reqs{scenario:mix}': ['count>=0'],
    checks: [`rate>${1 - MAX_ERROR_RATE}`],
  }),
};

export function setup() {
  if (PREISSUED) {
    return { users: PREISSUED.map((user) => user) };
  }
  return { users: loginPool() };
}

export default function (data) {
  const users = data.users;
  // Spread the traffic over the pool: consecutive iterations belong to different users.
  const user = users[exec.scenario.iterationInTest % users.length];
  const name = pickRequest(ONLY);
  REQUESTS[name](user);
}

export function handleSummary(summary) {
  const outputs = {};
  if (SUMMARY_FILE) {
    const copy = Object.assign({}, summary);
    delete copy.setup_data; // tokens stay out of result files
    outputs[SUMMARY_FILE] = JSON.stringify(copy, null, 1);
  }
  if (TOKENS_OUT && summary.setup_data && summary.setup_data.users) {
    outputs[TOKENS_OUT] = JSON.stringify(summary.setup_data.users);
  }
  outputs.stdout = textLine(summary);
  return outputs;
}

function textLine(summary) {
  const metrics = summary.metrics;
  const duration = metrics.http_req_duration ? metrics.http_req_duration.values : {};
  const reqs = metrics.http_reqs ? metrics.http_reqs.values : { count: 0, rate: 0 };
  const failed = metrics.http_req_failed ? metrics.http_req_failed.values.rate : 0;
  const dropped = metrics.dropped_iterations ? metrics.dropped_iterations.values.count : 0;
  const fmt = (value) => (value === undefined ? '-' : value.toFixed(1));
  return (
    `requests=${reqs.count} rps=${fmt(reqs.rate)} p50=${fmt(duration['p(50)'])}ms ` +
    `p95=${fmt(duration['p(95)'])}ms p99=${fmt(duration['p(99)'])}ms ` +
    `errors=${(failed * 100).toFixed(2)}% dropped=${dropped}\n`
  );
}
