// Weighted choice over the request mix. The weights live in mix.json (shared with the Python
// harness); this module only turns them into a cumulative table and draws from it.
const MIX_FILE = JSON.parse(open('./mix.json'));

export const WEIGHTS = MIX_FILE.weights;

const NAMES = Object.keys(WEIGHTS);
const TOTAL = NAMES.reduce((sum, name) => sum + WEIGHTS[name], 0);
const CUMULATIVE = [];
{
  let running = 0;
  for (const name of NAMES) {
    running += WEIGHTS[name] / TOTAL;
    CUMULATIVE.push([running, name]);
  }
}

// Return the name of the next request type; `only` (comma list) restricts the draw to some types.
export function pickRequest(only) {
  if (only) {
    const allowed = only.split(',');
    return allowed[Math.floor(Math.random() * allowed.length)];
  }
  const draw = Math.random();
  for (const [edge, name] of CUMULATIVE) {
    if (draw < edge) {
      return name;
    }
  }
  return NAMES[NAMES.length - 1];
}
