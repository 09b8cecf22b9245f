// The framework ceiling: one unauthenticated GET of a minimal app (bench_harness/ceiling_apps.py),
// driven exactly like the mix (mixed.js): MODE=open is constant-arrival-rate at RATE for DURATION,
// MODE=closed ramps to VUS over RAMP and holds for DURATION. No setup(), no tokens.
//
// The scenario is named `mix` like mixed.js's, so the harness reads both summaries alike
// (the `{scenario:mix}` submetrics and the raw points of that scenario).
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, MAX_ERROR_RATE, P95_MS, SUMMARY_FILE } from './lib/config.js';

const MODE = __ENV.MODE || 'open';
const DURATION = __ENV.DURATION || '30s';
const GRACEFUL_STOP = __ENV.GRACEFUL_STOP || '5s';
const PATH = __ENV.CEILING_PATH || '/';

function scenario() {
  if (MODE === 'closed') {
    const vus = parseInt(__ENV.VUS || '32', 10);
    return {
      executor: 'ramping-vus',
      startVUs: 1,
      stages: [
        { duration: __ENV.RAMP || '5s', target: vus },
        { duration: DURATION, target: vus },
      ],
      gracefulRampDown: GRACEFUL_STOP,
      gracefulStop: GRACEFUL_STOP,
    };
  }
  const rate = parseInt(__ENV.RATE || '20', 10);
  return {
    executor: 'constant-arrival-rate',
    rate,
    timeUnit: '1s',
    duration: DURATION,
    preAllocatedVUs: parseInt(__ENV.PRE_VUS || String(Math.max(5, Math.ceil(rate / 5))), 10),
    maxVUs: parseInt(__ENV.MAX_VUS || String(Math.max(20, rate * 2)), 10),
    gracefulStop: GRACEFUL_STOP,
  };
}

export const options = {
  scenarios: { mix: scenario() },
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'count'],
  thresholds: {
    'http_req_duration{endpoint:ceiling}': ['max>=0'],
    'http_req_failed{endpoint:ceiling}': ['rate>=0'],
    'http_req_failed{scenario:mix}': [`rate<${MAX_ERROR_RATE}`],
    'http_req_duration{scenario:mix}': [`p(95)<${P95_MS}`],
    'http_reqs{scenario:mix}': ['count>=0'],
    checks: [`rate>${1 - MAX_ERROR_RATE}`],
  },
};

const PARAMS = { tags: { endpoint: 'ceiling', name: `GET ${PATH}` } };

export default function () {
  const response = http.get(`${BASE_URL}${PATH}`, PARAMS);
  check(response, { 'ceiling status': (r) => r.status === 200 }, { endpoint: 'ceiling' });
}

export function handleSummary(summary) {
  const outputs = {};
  if (SUMMARY_FILE) {
    outputs[SUMMARY_FILE] = JSON.stringify(summary, null, 1);
  }
  const reqs = summary.metrics.http_reqs ? summary.metrics.http_reqs.values : { count: 0 };
  outputs.stdout = `ceiling requests=${reqs.count}\n`;
  return outputs;
}
