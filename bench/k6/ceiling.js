// The framework ceiling: one unauthenticated GET of a minimal app (bench_harness/ceiling_apps.py),
// driven exactly like the mix (mixed.js): MODE=open is constant-arrival-rate at RATE for DURATION,
// MODE=closed ramps to VUS over RAMP and holds for DURATION. No setup(), no tokens.
//
// The scenario is named `mix` like mixed.js's, so the harness reads both summaries alike
// (the `{scenario:mix}` submetrics and the raw points of that scenario).
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, MAX_ERROR_RATE, P95_MS, SUMMARY_FILE } from './lib/config.js';
import { scenario } from './lib/scenario.js';

const PATH = __ENV.CEILING_PATH || '/';

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
