// Hot path (child process): cached session.token() against `async () => constant`, interleaved batches in one loop.
// Two more variants read a clock once, as any cache that checks expiry must: the floor for a cached token(). One
// reads `Date.now()`; the other reads the session's own default clock (`timeOrigin + performance.now()`, the origin
// read once, moved ahead when `Date.now()` gets ahead of it), which is what token() reads.
import { createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { median, rotate } from './lib.mjs'

const BATCH = 200_000
const ROUNDS = 40

const standIn = createStandIn()
const session = createSession({ apiKey: 'test-key', fetch: standIn.fetch })
const value = await session.token()
const origin = performance.timeOrigin
let lead = 0
/** The session's default clock, as src/index.ts writes it. */
function sessionClock() {
  const wall = Date.now()
  const monotonic = origin + performance.now()
  lead = Math.max(lead, wall - monotonic)
  return monotonic + lead
}
const VARIANTS = {
  token: session.token,
  constant: async () => value,
  clock: async () => (Date.now(), value),
  monotonic: async () => (sessionClock(), value),
}

/** The same loop for every variant: each iteration awaits one call. */
async function loop(fn, n) {
  const start = performance.now()
  for (let i = 0; i < n; i++) await fn()
  return performance.now() - start
}

const names = Object.keys(VARIANTS)
const times = Object.fromEntries(names.map((n) => [n, []]))
for (let round = -3; round < ROUNDS; round++) {
  for (const name of rotate(names, round + 3)) {
    const ms = await loop(VARIANTS[name], BATCH)
    if (round >= 0) times[name].push(ms)
  }
}
if (standIn.requests.length !== 1) throw new Error(`expected one request, saw ${standIn.requests.length}`)
const ops = (name) => BATCH / (median(times[name]) / 1000)
const over = (name, base) => median(times[name].map((t, i) => t / times[base][i]))
console.log(
  JSON.stringify({
    batch: BATCH,
    rounds: ROUNDS,
    ops: { token: ops('token'), constant: ops('constant'), clock: ops('clock'), monotonic: ops('monotonic') },
    ratio: over('token', 'constant'),
    clockRatio: over('clock', 'constant'),
    overClock: over('token', 'clock'),
    overMonotonic: over('token', 'monotonic'),
  }),
)
