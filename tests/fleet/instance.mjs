// One instance of the Redis fleet: a session sharing its token through Redis with apivideo-auth/share,
// driven by its parent over IPC. Its clock is Date.now() plus an offset the parent moves; it exits by
// itself when told to stop.
import { createClient } from 'redis'
import { createSession } from '../../dist/index.js'
import { shareTokens } from '../../dist/share.js'

const { REDIS_URL, STAND_IN_URL, API_KEY, CLAIM, TIMEOUT, OFFLINE_QUEUE, VICTIM, CALLERS } = process.env

// The docs' node-redis recipe: the store's calls wait for the connection, at most 1 s, so that a Redis that is down
// at start delays them by that much at most. The test turns the offline queue on for half the fleet in one scenario
// (commands then hang while Redis is down: the add-on bounds them by the timeout).
// Connection errors are ignored here: the session reports them as share-failed.
const redis = createClient({ url: REDIS_URL, disableOfflineQueue: OFFLINE_QUEUE !== '1' }).on('error', () => {})
const connected = redis.connect().catch(() => {}) // rejects only once destroyed
const ready = within(1_000, connected)
const store = {
  async get(key) {
    await ready
    return redis.get(key)
  },
  async set(key, value, ttlMs) {
    await ready
    return redis.set(key, value, { expiration: { type: 'PX', value: ttlMs } })
  },
  async claim(key, ttlMs) {
    await ready
    return (await redis.set(key, '1', { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK'
  },
}

/** Waits for `promise` (its failure included), at most `ms`; leaves no timer behind. */
function within(ms, promise) {
  let timer
  const timeUp = new Promise((resolve) => (timer = setTimeout(resolve, ms)))
  return Promise.race([promise, timeUp])
    .catch(() => {})
    .finally(() => clearTimeout(timer))
}

// What the parent wants to know: the keys used, the leases won, the events.
const keys = new Set()
let leasesWon = 0
let events = {}
const observed = {
  get: (key) => (keys.add(key), store.get(key)),
  set: (key, value, ttlMs) => (keys.add(key), store.set(key, value, ttlMs)),
  async claim(key, ttlMs) {
    const won = await store.claim(key, ttlMs)
    if (won) leasesWon++
    if (won && VICTIM === '1') {
      process.send({ claimed: key })
      await new Promise(() => {}) // holds the lease and never renews: the parent kills this process
    }
    return won
  },
}
if (CLAIM !== '1') delete observed.claim

let offset = 0
const session = createSession({
  apiKey: API_KEY,
  baseUrl: STAND_IN_URL,
  share: shareTokens(observed),
  timeout: Number(TIMEOUT),
  now: () => Date.now() + offset,
  onEvent,
})

/** Counts events by type, and store failures also by call (`share-failed:lease`). */
function onEvent(event) {
  const names = event.type === 'share-failed' ? [event.type, `${event.type}:${event.call}`] : [event.type]
  for (const name of names) events[name] = (events[name] ?? 0) + 1
}

/**
 * CALLERS concurrent token() calls, then one authorized request: what each got. Callers get the held token while it
 * is renewed in the background; a burst reports once that renewal and its store write are done (so that the next
 * instance the parent starts finds the token), with the token the session then holds.
 */
async function burst() {
  events = {}
  const results = await Promise.allSettled(Array.from({ length: Number(CALLERS) }, () => session.token()))
  const tokens = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
  const status = await session.fetch(`${STAND_IN_URL}/videos`).then(
    async (r) => (await r.body?.cancel(), r.status),
    () => 0,
  )
  await session.settled()
  const held = await session.token().catch(() => undefined)
  return {
    tokens: [...new Set(tokens)],
    held,
    failures: results.length - tokens.length,
    status,
    events,
    leasesWon,
    keys: [...keys],
  }
}

process.on('message', async ({ cmd, offset: moved }) => {
  if (cmd === 'burst') {
    offset = moved ?? offset
    process.send({ done: await burst() })
  } else if (cmd === 'connected') {
    await connected
    process.send({ connected: redis.isReady })
  } else if (cmd === 'exit') {
    redis.destroy()
    process.disconnect()
  }
})
process.send({ ready: true })
