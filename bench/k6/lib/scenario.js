// The one scenario every bench script runs, so the mix and the framework ceiling are driven
// alike (named `mix` in both, so the harness reads their summaries the same way):
// MODE=open   constant-arrival-rate at RATE per second for DURATION, PRE_VUS..MAX_VUS;
// MODE=closed ramping-vus to VUS over RAMP, then held for DURATION.
const MODE = __ENV.MODE || 'open';
const DURATION = __ENV.DURATION || '30s';
const GRACEFUL_STOP = __ENV.GRACEFUL_STOP || '5s';

export function scenario() {
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
