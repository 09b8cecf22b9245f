// One function per request type of the mix. Each sends exactly one request, tagged with its
// endpoint (per-endpoint latency in the summary) and a fixed `name` (no per-id URL cardinality),
// and checks its status. Bodies are discarded (options.discardResponseBodies) except on a small
// sample where the shape is checked too.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { BASE_URL, BODY_CHECK_RATIO, USER_COUNT, PASSWORD, emailFor } from './config.js';

export const rateLimited = new Counter('rate_limited');

const THEMES = ['light', 'dark', 'system'];
const LOGIN_EXPECTED = http.expectedStatuses(200, 429);

function params(user, endpoint, name, extra) {
  const sampled = Math.random() < BODY_CHECK_RATIO;
  const headers = { Authorization: `Bearer ${user.token}` };
  if (extra && extra.json) {
    headers['Content-Type'] = 'application/json';
  }
  if (extra && extra.headers) {
    Object.assign(headers, extra.headers);
  }
  const result = { headers, tags: { endpoint, name } };
  if (sampled) {
    result.responseType = 'text';
  }
  return result;
}

function sampledBody(response) {
  return typeof response.body === 'string' && response.body.length > 0;
}

function checkStatus(response, endpoint, statuses, bodyCheck) {
  const checks = {};
  checks[`${endpoint} status`] = (r) => statuses.includes(r.status);
  if (bodyCheck && sampledBody(response)) {
    checks[`${endpoint} body`] = (r) => r.status !== statuses[0] || bodyCheck(r.json());
  }
  return check(response, checks, { endpoint });
}

export function dashboard(user) {
  const response = http.get(
    `${BASE_URL}/v1/me/dashboard`,
    params(user, 'dashboard', 'GET /v1/me/dashboard'),
  );
  checkStatus(response, 'dashboard', [200], (body) =>
    Array.isArray(body.recent_events) && body.stats !== undefined && Array.isArray(body.recent_reports));
  return response;
}

export function me(user) {
  const response = http.get(`${BASE_URL}/v1/me`, params(user, 'me', 'GET /v1/me'));
  checkStatus(response, 'me', [200], (body) => body.id === user.id && body.prefs !== undefined);
  return response;
}

export function eventsPage(user) {
  const response = http.get(
    `${BASE_URL}/v1/me/events?limit=20`,
    params(user, 'events_page', 'GET /v1/me/events'),
  );
  checkStatus(response, 'events_page', [200], (body) => Array.isArray(body.items));
  return response;
}

export function publicProfile(user) {
  const id = 1 + Math.floor(Math.random() * USER_COUNT);
  const response = http.get(
    `${BASE_URL}/v1/users/${id}`,
    params(user, 'public_profile', 'GET /v1/users/{id}'),
  );
  checkStatus(response, 'public_profile', [200], (body) => body.id === id);
  return response;
}

export function patchProfile(user) {
  const bio = `bench vu ${exec.vu.idInTest} iteration ${exec.vu.iterationInScenario}`;
  const response = http.patch(
    `${BASE_URL}/v1/me`,
    JSON.stringify({ bio }),
    params(user, 'patch_profile', 'PATCH /v1/me', { json: true }),
  );
  checkStatus(response, 'patch_profile', [200]);
  return response;
}

export function putPrefs(user) {
  const prefs = Object.assign(
    { theme: 'system', locale: 'en', email_notifications: false, webhook_url: null },
    user.prefs || {},
  );
  prefs.theme = THEMES[Math.floor(Math.random() * THEMES.length)];
  const response = http.put(
    `${BASE_URL}/v1/me/prefs`,
    JSON.stringify(prefs),
    params(user, 'put_prefs', 'PUT /v1/me/prefs', { json: true }),
  );
  checkStatus(response, 'put_prefs', [200]);
  return response;
}

export function createReport(user) {
  const key = `bench-${exec.vu.idInTest}-${exec.vu.iterationInScenario}-${Date.now()}`;
  const response = http.post(
    `${BASE_URL}/v1/reports`,
    JSON.stringify({ kind: 'activity_pdf', days: 1 + Math.floor(Math.random() * 30) }),
    params(user, 'create_report', 'POST /v1/reports', {
      json: true,
      headers: { 'Idempotency-Key': key },
    }),
  );
  checkStatus(response, 'create_report', [202, 200, 201], (body) => typeof body.id === 'string');
  return response;
}

export function listReports(user) {
  const response = http.get(`${BASE_URL}/v1/reports`, params(user, 'list_reports', 'GET /v1/reports'));
  checkStatus(response, 'list_reports', [200]);
  return response;
}

export function login(user) {
  const response = http.post(
    `${BASE_URL}/v1/auth/login`,
    JSON.stringify({ email: emailFor(user.id), password: PASSWORD }),
    {
      headers: { 'Content-Type': 'application/json' },
      tags: { endpoint: 'login', name: 'POST /v1/auth/login' },
      responseCallback: LOGIN_EXPECTED,
    },
  );
  if (response.status === 429) {
    rateLimited.add(1, { endpoint: 'login' });
  }
  checkStatus(response, 'login', [200, 429]);
  return response;
}

export const REQUESTS = {
  dashboard,
  me,
  events_page: eventsPage,
  public_profile: publicProfile,
  patch_profile: patchProfile,
  put_prefs: putPrefs,
  create_report: createReport,
  list_reports: listReports,
  login,
};
