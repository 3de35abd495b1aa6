// A simulated day (child process): one session against the stand-in, a burst of 20 concurrent `token()` calls
// every 5 s for 24 h, every auth answer held 50 ms. The time is simulated: the session and the stand-in read one
// clock, which this loop moves; an auth answer is held until that clock has moved 50 ms past its sending, so the
// whole day runs in seconds and no real timer decides anything. A burst "waited" when some of its calls had not
// resolved once the event loop settled, before the clock moved on: they were waiting on a renewal.
// It works with a session that renews on the caller's path (the caller at the due time waits for the round trip)
// and with one that renews in the background from the due time (its fetch is held the same 50 ms while callers get
// the token it holds); a session with `settled()` is awaited at the end of the day.
// Prints one JSON line: the bursts, those that waited after the first token, the longest wait, the day's auth
// requests, the least time left before expiry on any token served, and the events.
import { createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'

const DAY_MS = 24 * 3600 * 1000
const EVERY_MS = 5_000
const CALLERS = 20
const LATENCY_MS = 50
const LIFETIME_S = 3600
const START = 1_700_000_000_000
const KEY = 'bench-key'
const DAYS = 5 // each day draws its own renewal jitter: the figures are the worst day's, and each day's
// Turns of the event loop after each step of the clock: enough for an answer to be read and handed to callers.
const SETTLE_TURNS = 4

let time = START
const now = () => time
/** Auth answers on their way: when each is due, and what delivers it. */
const held = []

async function settle() {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise(setImmediate)
}

/** Moves the clock to `target`, stopping at each held answer's due time to deliver it and let it be read. */
async function advanceTo(target) {
  for (;;) {
    const next = held.reduce((first, h) => (first === undefined || h.at < first.at ? h : first), undefined)
    if (next === undefined || next.at > target) break
    time = Math.max(time, next.at)
    for (const h of held.filter((h) => h.at <= time)) {
      held.splice(held.indexOf(h), 1)
      h.deliver()
    }
    await settle()
  }
  time = Math.max(time, target)
}

/** Delivers what is still on its way, then waits (on the simulated clock) for the session's background work. */
async function endOfDay(session) {
  while (held.length) await advanceTo(Math.min(...held.map((h) => h.at)))
  const settled = session.settled?.() // 0.2.0's session has no settled()
  if (!settled) return 'none'
  let done = false
  settled.then(() => (done = true))
  for (let turn = 0; !done && turn < 1_000; turn++)
    await advanceTo(held.length ? Math.min(...held.map((h) => h.at)) : time + 1)
  return done ? 'resolved' : 'pending'
}

let unhandled = 0
process.on('unhandledRejection', () => unhandled++)

/** One day on a fresh session and stand-in. */
async function day() {
  time = START
  const standIn = createStandIn({ apiKeys: [KEY], now, expiresIn: LIFETIME_S, keepRequests: 0 })
  /** access token -> its expiry on the stand-in's clock, read from the answer that issued it */
  const expiries = new Map()

  /** The stand-in behind 50 ms of simulated latency: answered at once, handed over once the clock is 50 ms on. */
  async function slowFetch(request, init) {
    const sentAt = time
    const response = await standIn.fetch(request, init)
    if (response.status === 200) {
      const body = await response.clone().json()
      if (body.access_token) expiries.set(body.access_token, time + body.expires_in * 1000)
    }
    await new Promise((deliver) => held.push({ at: sentAt + LATENCY_MS, deliver }))
    return response
  }

  const events = {}
  const session = createSession({
    apiKey: KEY,
    fetch: slowFetch,
    now,
    onEvent: ({ type }) => (events[type] = (events[type] ?? 0) + 1),
  })
  const figures = { bursts: 0, waitedAfterFirstToken: 0, longestWaitMs: 0, leastLeftMs: Infinity, errors: 0 }
  let tokenServed = false
  let unknownTokens = 0

  for (let firedAt = START; firedAt < START + DAY_MS; firedAt += EVERY_MS) {
    await advanceTo(firedAt)
    figures.bursts++
    const afterFirstToken = tokenServed
    let pending = CALLERS
    const served = (token) => {
      pending--
      tokenServed = true
      if (afterFirstToken) figures.longestWaitMs = Math.max(figures.longestWaitMs, time - firedAt)
      const expiresAt = expiries.get(token)
      if (expiresAt === undefined) unknownTokens++
      else figures.leastLeftMs = Math.min(figures.leastLeftMs, expiresAt - time)
    }
    for (let i = 0; i < CALLERS; i++) session.token().then(served, () => (pending--, figures.errors++))
    await settle()
    if (pending > 0 && afterFirstToken) figures.waitedAfterFirstToken++
  }
  const settled = await endOfDay(session)
  const { auth, credentials } = standIn.counts
  return {
    ...figures,
    unknownTokens,
    auth,
    apiKeyRequests: credentials['api-key'],
    refreshRequests: credentials['refresh-token'],
    events,
    settled,
  }
}

const started = performance.now()
const days = []
for (let i = 0; i < DAYS; i++) days.push(await day())
const highest = (pick) => Math.max(...days.map(pick))
const lowest = (pick) => Math.min(...days.map(pick))
console.log(
  JSON.stringify({
    days: DAYS,
    bursts: days[0].bursts,
    callers: CALLERS,
    everyMs: EVERY_MS,
    latencyMs: LATENCY_MS,
    lifetimeS: LIFETIME_S,
    waitedAfterFirstToken: highest((d) => d.waitedAfterFirstToken),
    longestWaitMs: highest((d) => d.longestWaitMs),
    authMin: lowest((d) => d.auth),
    authMax: highest((d) => d.auth),
    leastLeftMs: lowest((d) => d.leastLeftMs),
    errors: highest((d) => d.errors),
    unknownTokens: highest((d) => d.unknownTokens),
    unhandled,
    perDay: days,
    realMs: Math.round(performance.now() - started),
  }),
)
