import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../dist/index.js'
import { shareTokens } from '../dist/share.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, json, tokenBody } from './helpers/index.mjs'

/**
 * An API of fixed windows of `windowMs` on its own clock (`serverNow`), as api.video's: `limit` calls a window, the
 * rate-limit headers on every answer, the Retry-After written by `retryAfter(end, at)` (whole seconds up by default).
 * `penaltyMs`: a 429 also locks every call out that long, and its Retry-After says so. Counts what it took and
 * refused.
 */
function windowed({ limit, windowMs, serverNow = Date.now, penaltyMs = 0, retryAfter = secondsTo }) {
  const used = new Map()
  const seen = { ok: 0, tooMany: 0 }
  let lockedUntil = -Infinity
  const fetch = async (request) => {
    if (new URL(request.url).pathname.startsWith('/auth/')) return json(200, tokenBody(1))
    const at = serverNow()
    const window = Math.floor(at / windowMs)
    const count = used.get(window) ?? 0
    const tooMany = at < lockedUntil || count >= limit
    if (tooMany && penaltyMs > 0 && at >= lockedUntil) lockedUntil = at + penaltyMs
    const end = tooMany && penaltyMs > 0 ? lockedUntil : (window + 1) * windowMs
    const headers = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(tooMany ? 0 : Math.max(0, limit - count - 1)),
      'x-ratelimit-retry-after': retryAfter(end, at),
    }
    if (tooMany) {
      seen.tooMany++
      return json(429, { type: 'https://docs.api.video/reference/too-many-requests', status: 429 }, headers)
    }
    used.set(window, count + 1)
    seen.ok++
    return json(200, {}, headers)
  }
  return { fetch, seen }
}

/** api.video's form: the whole seconds to `end`, counted up, at least 1. */
const secondsTo = (end, at) => String(Math.max(1, Math.ceil((end - at) / 1000)))
/** The standard header's other form: the HTTP date of `end`, to the second. */
const dateOf = (end) => new Date(Math.ceil(end / 1000) * 1000).toUTCString()

/** Resolves `phaseMs` into the next window of `windowMs` of real time. */
const toPhase = (windowMs, phaseMs) =>
  new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + phaseMs))

const reads = (session, n) => Promise.all(Array.from({ length: n }, () => session.fetch('/videos')))
const statuses = (responses) => responses.map((r) => r.status)

const clocks = suite('session.fetch: pacing by clocks and windows that are not the timers')

clocks(
  'a clock slower than the timers: a held call goes when the clock says the window ended, not before',
  async () => {
    // Half speed (in fractions of a ms, so that it never stands still): a timer runs out while the clock, the
    // stand-in's too, says half the wait is left.
    const start = Date.now()
    const now = () => start + (Date.now() - start) / 2
    const standIn = createStandIn({ apiKeys: [KEY], now, rateLimits: { reads: 2, windowMs: 1_000 } })
    const session = createSession({ apiKey: KEY, fetch: standIn.fetch, now })
    assert.equal(statuses(await reads(session, 6)), Array(6).fill(200))
    assert.is(standIn.counts.rateLimited, 0, 'no call went before its window')
  },
)

clocks(
  'a session clock 300 ms ahead of the server: the windows stay whole seconds, with at most one 429',
  async () => {
    const api = windowed({ limit: 5, windowMs: 2_000 })
    const session = createSession({ apiKey: KEY, fetch: api.fetch, now: () => Date.now() + 300 })
    await new Promise((resolve) => setTimeout(resolve, 2_500 - (Date.now() % 2_000)))
    assert.equal(statuses(await reads(session, 20)), Array(20).fill(200))
    assert.ok(api.seen.tooMany <= 1, `${api.seen.tooMany} 429s`)
  },
)

clocks("a Retry-After that is an HTTP date keeps the window's end on its second: no 429", async () => {
  const api = windowed({ limit: 4, windowMs: 2_000, retryAfter: dateOf })
  const session = createSession({ apiKey: KEY, fetch: api.fetch })
  assert.equal(statuses(await reads(session, 14)), Array(14).fill(200))
  assert.is(api.seen.tooMany, 0)
})

clocks(
  "a 429's Retry-After that outlasts the window (a penalty) is waited whole: the call is sent again once",
  async () => {
    const api = windowed({ limit: 2, windowMs: 1_000, penaltyMs: 3_000 })
    const session = createSession({ apiKey: KEY, fetch: api.fetch })
    const other = createSession({ apiKey: KEY, fetch: api.fetch })
    // Early in a window, so that the three calls below are all of it.
    await new Promise((resolve) => setTimeout(resolve, 1_050 - (Date.now() % 1_000)))
    // The session's first answer says when the window ends; another spends the rest, and the session's next call gets
    // a 429 whose Retry-After is the penalty's, past that end.
    assert.is((await session.fetch('/videos')).status, 200)
    assert.is((await other.fetch('/videos')).status, 200)
    assert.is((await session.fetch('/videos')).status, 200, 'sent again after the 429 it got')
    assert.is(api.seen.tooMany, 1, 'one 429: the resend waited for the penalty, not for the window')
  },
)

clocks.run()

const edges = suite("session.fetch: pacing's edges (slow tokens and answers, Retry-After dates)")

edges("the first call's window is placed from when it went, after its token: not a second early", async () => {
  // An auth request of 1.2 s; the server takes the first call 10 ms into a window of 2 s, budget 1.
  const api = windowed({ limit: 1, windowMs: 2_000 })
  const slowAuth = async (request) => {
    if (new URL(request.url).pathname.startsWith('/auth/')) await new Promise((r) => setTimeout(r, 1_200))
    return api.fetch(request)
  }
  const session = createSession({ apiKey: KEY, fetch: slowAuth })
  await toPhase(2_000, 2_000 + 10 - 1_200)
  for (let i = 0; i < 2; i++) assert.is((await session.fetch('/videos')).status, 200)
  assert.is(api.seen.tooMany, 0, 'the second call waited for the window to end')
})

edges("calls held for a window's slow first answer are counted by the fleet when they go", async () => {
  const api = windowed({ limit: 10, windowMs: 2_000 })
  let slowNext = false
  const fetch = async (request) => {
    const answer = await api.fetch(request)
    const slow = slowNext && !new URL(request.url).pathname.startsWith('/auth/')
    if (slow) slowNext = false
    await new Promise((r) => setTimeout(r, slow ? 1_500 : 20))
    return answer
  }
  const data = new Map()
  let increments = 0
  const store = {
    get: async (key) => data.get(key) ?? null,
    set: async (key, value) => void data.set(key, value),
    claim: async () => true,
    increment: async (key) => {
      increments++
      data.set(key, (data.get(key) ?? 0) + 1)
      return data.get(key)
    },
  }
  const session = createSession({ apiKey: KEY, fetch, share: shareTokens(store) })
  // A window that leaves the budget short (4 of 10 left), then the next one, whose first answer takes 1.5 s.
  await toPhase(2_000, 100)
  await reads(session, 6)
  await toPhase(2_000, 150)
  const before = increments
  slowNext = true
  assert.equal(statuses(await reads(session, 5)), Array(5).fill(200))
  assert.is(increments - before, 5, 'each of the 5 calls was counted')
})

edges('a clock that steps back 20 s: the next wait is for the window, not for 20 s more', async () => {
  const api = windowed({ limit: 3, windowMs: 2_000 })
  let offset = 0
  const waits = []
  const session = createSession({
    apiKey: KEY,
    fetch: api.fetch,
    now: () => Date.now() - offset,
    onEvent: (e) => e.type === 'rate-limit-wait' && waits.push(e.delayMs),
  })
  await toPhase(2_000, 50)
  await reads(session, 2)
  offset = 20_000
  await reads(session, 1)
  assert.is((await session.fetch('/videos')).status, 200)
  assert.is(waits.length, 1)
  assert.ok(waits[0] <= 2_000, `a wait of ${waits[0]} ms`)
})

edges('a Retry-After date a fraction of a second past what may be waited: one 429, never a burst', async () => {
  let lockedUntil = 0
  let tooMany = 0
  const fetch = async (request) => {
    if (new URL(request.url).pathname.startsWith('/auth/')) return json(200, tokenBody(1))
    await new Promise((r) => setTimeout(r, 20))
    if (Date.now() >= lockedUntil) return json(200, {})
    tooMany++
    return json(429, {}, { 'retry-after': new Date(lockedUntil).toUTCString() })
  }
  const session = createSession({ apiKey: KEY, fetch, rateLimitWait: 4_500 })
  await session.token()
  // A lock-out to a whole second about 4.3 s away: more than the 4.5 s a call may wait, counted up to seconds.
  await toPhase(1_000, 700)
  lockedUntil = Math.ceil(Date.now() / 1_000) * 1_000 + 4_000
  assert.is((await session.fetch('/videos')).status, 429, 'returned as it came')
  assert.is(tooMany, 1)
})

edges.run()
