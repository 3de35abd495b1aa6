// The fleet's count at its edges: calls that failed, refusals that come late, calls in flight across window starts,
// and what a share's window() may give. Each on a fake clock through `now`, with the share's answers in hand.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../dist/index.js'
import { KEY, json, tokenBody } from './helpers/index.mjs'

const START = 1_800_000_000_000 - 500

/** A signal that ends a call the code under test would hold for good: a failure, not a hang. */
const bounded = () => ({ signal: AbortSignal.timeout(3_000) })

/** Turns of the event loop, so that what the session started has run. */
const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

/**
 * An API on a fake clock (`time.t`): every resource answer says a limit of 10 with 4 left, the window ending on the
 * next whole second. `holdNext()` holds the next resource answer until `release()`; `failNext(n)` fails the next n.
 */
function api(time) {
  const sent = []
  const gates = []
  let hold = false
  let failing = 0
  const fetch = async (request) => {
    if (new URL(request.url).pathname.startsWith('/auth/')) return json(200, tokenBody(1))
    if (failing > 0) {
      failing--
      throw new TypeError('fetch failed')
    }
    sent.push(time.t)
    if (hold) {
      hold = false
      await new Promise((resolve) => gates.push(resolve))
    }
    const end = Math.floor(time.t / 1000) * 1000 + 1000
    const seconds = String(Math.max(1, Math.ceil((end - time.t) / 1000)))
    const headers = { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '4', 'x-ratelimit-retry-after': seconds }
    return json(200, {}, headers)
  }
  return {
    fetch,
    sent,
    holdNext: () => (hold = true),
    failNext: (n) => (failing = n),
    release: () => gates.splice(0).forEach((open) => open()),
  }
}

/** A share whose counts wait for the test: `takes` holds each with its window and `resolve`. */
function heldShare({ window } = {}) {
  const takes = []
  const share = () => ({
    renew: (renewHere) => renewHere(),
    settled: async () => {},
    take: (kind, counted) => new Promise((resolve) => takes.push({ window: counted, resolve })),
    ...(window && { window: async () => window }),
  })
  const allow = (answer = true) => takes.splice(0).forEach((take) => take.resolve(answer))
  return { share, takes, allow }
}

function sessionOn(time, share, options = {}) {
  const server = api(time)
  const waits = []
  const session = createSession({
    apiKey: KEY,
    fetch: server.fetch,
    share,
    now: () => time.t,
    onEvent: (event) => event.type === 'rate-limit-wait' && waits.push(event),
    ...options,
  })
  return { session, server, waits }
}

/** A session whose first call has had its answer and its count: the window ends at START + 500. */
async function answered() {
  const time = { t: START }
  const held = heldShare()
  const parts = sessionOn(time, held.share)
  await parts.session.fetch('/videos', bounded())
  await turns()
  held.allow()
  return { time, ...held, ...parts }
}

const edges = suite("session.fetch: the fleet's count at its edges")

edges('calls that failed before any answer said the window are not counted; the one answered is', async () => {
  const time = { t: START }
  const { share, takes, allow } = heldShare()
  const { session, server } = sessionOn(time, share)
  server.failNext(5)
  for (let i = 0; i < 5; i++) await session.fetch('/videos', bounded()).catch(() => {})
  assert.is((await session.fetch('/videos', bounded())).status, 200)
  await turns()
  assert.is(takes.length, 1, 'one count: the call that reached the API')
  assert.is(takes[0].window.endsAt, START + 500)
  allow()
  assert.is(server.sent.length, 1)
})

edges('a refusal of the window that has ended since does not spend the one that began', async () => {
  const { time, takes, allow, session, waits } = await answered()
  time.t = START + 499
  const late = session.fetch('/videos', bounded())
  await turns()
  const [stale] = takes.splice(0)
  assert.is(stale.window.endsAt, START + 500, 'counted in the window about to end')
  time.t = START + 500
  const next = session.fetch('/videos', bounded())
  await turns()
  allow()
  assert.is((await next).status, 200)
  stale.resolve(false)
  await turns()
  // The refused call looks again in the window that began, and so does the next call: neither waits for its end.
  const after = session.fetch('/videos', bounded())
  await turns()
  allow()
  await turns()
  allow()
  assert.equal([(await late).status, (await after).status], [200, 200])
  assert.equal(waits, [], 'no call waited for the window that began to end')
})

edges('a call refused or aborted while the next window began is no longer carried into it', async () => {
  const { time, takes, allow, session, server } = await answered()
  time.t = START + 499
  const controller = new AbortController()
  const aborted = session.fetch('/videos', { signal: controller.signal }).catch((error) => error.name)
  await turns()
  assert.is(takes.length, 1, 'its count is pending')
  // The next window: its first call goes, and its answer is held.
  time.t = START + 500
  server.holdNext()
  const first = session.fetch('/videos', bounded())
  await turns()
  takes.splice(1).forEach((take) => take.resolve(true))
  await turns()
  controller.abort()
  assert.is(await aborted, 'AbortError')
  // Until the window's first answer, no other call of it goes.
  const second = session.fetch('/videos', bounded())
  await turns()
  allow()
  await turns()
  assert.is(server.sent.length, 2, 'the first call of each window only')
  server.release()
  assert.is((await first).status, 200)
  await turns()
  allow()
  assert.is((await second).status, 200)
})

edges('a call in flight across window starts is counted in the window after it was sent, not in each', async () => {
  const { time, takes, allow, session, server } = await answered()
  server.holdNext()
  const long = session.fetch('/videos', bounded())
  await turns()
  allow()
  const counted = []
  for (let window = 1; window <= 3; window++) {
    time.t = START + window * 1000 - 500
    const call = session.fetch('/videos', bounded())
    await turns()
    counted.push(...takes.map((take) => take.window.endsAt))
    allow()
    assert.is((await call).status, 200)
  }
  server.release()
  assert.is((await long).status, 200)
  // Each window's own call, and the long call once more, in the first window after it was sent.
  assert.equal(counted, [START + 1_500, START + 1_500, START + 2_500, START + 3_500])
})

edges("what a share's window() gives is taken only if it is a window; none of it holds a call", async () => {
  const at = START
  for (const window of [
    { limit: 0, endsAt: at + 500, windowMs: 1_000 },
    { limit: 5, endsAt: at + 500, windowMs: 0 },
    { limit: 5, endsAt: at + 500 },
    { limit: 5, endsAt: String(at + 500), windowMs: 1_000 },
    { limit: 5, endsAt: at + 500, windowMs: 3_600_000 },
    { limit: 5, endsAt: at + 5_000, windowMs: 1_000 },
    { limit: 1.5, endsAt: at + 500, windowMs: 1_000 },
    'a window',
    null,
  ]) {
    const time = { t: at }
    const { share, takes, allow } = heldShare({ window })
    const { session } = sessionOn(time, share, { rateLimitWait: 500 })
    const call = session.fetch('/videos', { signal: AbortSignal.timeout(2_000) })
    assert.is((await call).status, 200, JSON.stringify(window))
    await turns()
    // Counted only once its answer said the window (a limit of 10), never in what window() gave.
    assert.equal(
      takes.map((take) => take.window.limit),
      [10],
      JSON.stringify(window),
    )
    allow()
  }
})

edges.run()
