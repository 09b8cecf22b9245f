// Token issuing for setup(): log in a pool of seeded users through the public API, spread over the
// pool, honouring 429 with Retry-After, and keep each user's prefs so PUT /v1/me/prefs can send
// them back unchanged except for the theme (the seeded webhook/email settings stay as they were).
import http from 'k6/http';
import { sleep } from 'k6';
import { BASE_URL, POOL_SIZE, FIRST_USER_ID, PASSWORD, emailFor } from './config.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const BATCH = 8;
const MAX_ATTEMPTS = 8;

function loginBatch(userIds) {
  const requests = userIds.map((id) => ({
    method: 'POST',
    url: `${BASE_URL}/v1/auth/login`,
    body: JSON.stringify({ email: emailFor(id), password: PASSWORD }),
    params: { headers: JSON_HEADERS, responseType: 'text', tags: { endpoint: 'setup_login' } },
  }));
  return http.batch(requests);
}

function retryAfterSeconds(response) {
  const header = response.headers['Retry-After'];
  const seconds = header ? parseFloat(header) : NaN;
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0.2), 10) : 1;
}

export function loginPool() {
  const users = [];
  let pending = [];
  for (let i = 0; i < POOL_SIZE; i += 1) {
    pending.push(FIRST_USER_ID + i);
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS && pending.length > 0; attempt += 1) {
    const retry = [];
    let wait = 0;
    for (let start = 0; start < pending.length; start += BATCH) {
      const chunk = pending.slice(start, start + BATCH);
      const responses = loginBatch(chunk);
      responses.forEach((response, index) => {
        if (response.status === 200) {
          users.push({
            id: chunk[index],
            token: response.json('access_token'),
            expires_in: response.json('expires_in'),
          });
        } else if (response.status === 429 || response.status >= 500 || response.status === 0) {
          retry.push(chunk[index]);
          wait = Math.max(wait, retryAfterSeconds(response));
        } else {
          console.warn(`login of user ${chunk[index]} failed with ${response.status}`);
        }
      });
    }
    pending = retry;
    if (pending.length > 0) {
      sleep(wait);
    }
  }
  if (users.length === 0) {
    throw new Error(`no user of the pool could log in at ${BASE_URL}`);
  }
  return users.map(withPrefs);
}

function withPrefs(user) {
  const response = http.get(`${BASE_URL}/v1/me`, {
    headers: { Authorization: `Bearer ${user.token}` },
    responseType: 'text',
    tags: { endpoint: 'setup_me' },
  });
  const prefs = response.status === 200 ? response.json('prefs') : null;
  return { id: user.id, token: user.token, expires_in: user.expires_in, prefs: prefs || null };
}
