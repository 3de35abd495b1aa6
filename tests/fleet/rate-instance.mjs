// One instance of the rate-limit fleet: a session on the stand-in, sharing its token and, with SHARE=1, its
// rate-limit budget through Redis (the docs' node-redis store, increment() included). At START_AT (epoch ms) it
// sends READS reads, CONCURRENCY at a time, and prints what it saw as one JSON line.
import { createClient } from 'redis'
import { createSession } from '../../dist/index.js'
import { shareTokens } from '../../dist/share.js'

const { REDIS_URL, STAND_IN_URL, API_KEY, SHARE, READS, CONCURRENCY, START_AT } = process.env

// INCR, and the TTL only on the key's first increment, in one step: the store's atomic counter.
const INCREMENT =
  "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n"
const redis = createClient({ url: REDIS_URL }).on('error', () => {})
await redis.connect()
const store = {
  get: (key) => redis.get(key),
  set: (key, value, ttlMs) => redis.set(key, value, { expiration: { type: 'PX', value: ttlMs } }),
  claim: async (key, ttlMs) =>
    (await redis.set(key, '1', { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK',
  increment: async (key, ttlMs) => Number(await redis.eval(INCREMENT, { keys: [key], arguments: [String(ttlMs)] })),
}

const waits = { 'too-many-requests': 0, 'budget-spent': 0 }
const failures = []
// The 429s this instance got in each of the stand-in's 1 s windows, by when each call was sent.
const tooManyByWindow = {}
async function countingFetch(request) {
  const sentAt = Date.now()
  const response = await fetch(request)
  const window = Math.floor(sentAt / 1_000)
  if (response.status === 429) tooManyByWindow[window] = (tooManyByWindow[window] ?? 0) + 1
  return response
}
const session = createSession({
  apiKey: API_KEY,
  baseUrl: STAND_IN_URL,
  fetch: countingFetch,
  share: SHARE === '1' ? shareTokens(store) : undefined,
  onEvent(event) {
    if (event.type === 'rate-limit-wait') waits[event.reason]++
    if (event.type === 'share-failed') failures.push(`${event.call}: ${event.error.message}`)
  },
})

await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(START_AT) - Date.now())))
const statuses = {}
let left = Number(READS)
async function caller() {
  while (left-- > 0) {
    const response = await session.fetch('/videos').catch(() => undefined)
    const status = response?.status ?? 0
    statuses[status] = (statuses[status] ?? 0) + 1
    await response?.body?.cancel()
  }
}
await Promise.all(Array.from({ length: Number(CONCURRENCY) }, caller))
const finishedAt = Date.now()
await session.settled()
console.log(JSON.stringify({ statuses, waits, failures, finishedAt, tooManyByWindow }))
redis.destroy()
