// Retry-After: bounded, parsed strictly, and never a lockout longer than an hour.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, clock, failure, withRandom } from './helpers/index.mjs'

// ---------------------------------------------------------------------------------------------
const retryAfter = suite('Retry-After is bounded and parsed strictly')

const HOUR = 3_600_000

for (const [what, value] of [
  ['an epoch mistaken for seconds (1e10)', '10000000000'],
  ['400 digits (Infinity)', '9'.repeat(400)],
]) {
  retryAfter(`Retry-After of ${what}: the lockout ends within an hour`, async () => {
    const time = clock()
    const standIn = createStandIn({ apiKeys: [KEY], now: time.now })
    standIn.fail('/auth/api-key', { status: 429, headers: { 'retry-after': value } })
    const session = createSession({ apiKey: KEY, fetch: standIn.fetch, now: time.now, retries: 0 })
    const error = await failure(session.token())
    assert.is(error.code, 'RATE_LIMITED')
    assert.ok(error.retryAfter === undefined || error.retryAfter <= 3600, `retryAfter ${error.retryAfter} s`)
    time.tick(HOUR + 1)
    assert.type(await session.token({ forceRefresh: true }), 'string')
  })
}

retryAfter('a lockout never outlasts an hour, even when the clock goes back a day after it began', async () => {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [KEY], now: time.now })
  standIn.fail('/auth/api-key', { status: 429, headers: { 'retry-after': '60' } })
  const session = createSession({ apiKey: KEY, fetch: standIn.fetch, now: time.now, retries: 0 })
  assert.is((await failure(session.token())).code, 'RATE_LIMITED')
  time.tick(-24 * HOUR)
  time.tick(2 * 60_000)
  assert.type(await session.token({ forceRefresh: true }), 'string')
  assert.is(standIn.requests.length, 2)
})

retryAfter('Retry-After "5, 5" (two headers) is not a number nor a date: retryAfter undefined', async () => {
  const headers = new Headers([
    ['content-type', 'application/json'],
    ['retry-after', '5'],
    ['retry-after', '5'],
  ])
  const fetch = async () => new Response('{}', { status: 429, headers })
  const error = await failure(authenticate(KEY, { fetch }))
  assert.is(error.code, 'RATE_LIMITED')
  assert.is(error.retryAfter, undefined, `retryAfter ${error.retryAfter}`)
})

retryAfter('Retry-After "5, 5" in a session falls back to the normal backoff, not 0', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  standIn.fail('/auth/api-key', {
    status: 429,
    headers: [
      ['retry-after', '5'],
      ['retry-after', '5'],
    ],
  })
  const events = []
  await withRandom(0.01, async () => {
    const session = createSession({ apiKey: KEY, fetch: standIn.fetch, retries: 1, onEvent: (e) => events.push(e) })
    assert.type(await session.token(), 'string')
  })
  const retrying = events.find((e) => e.type === 'retrying')
  assert.ok(retrying, 'one retry')
  assert.ok(retrying.delayMs > 0, `the retry waited the backoff, got delayMs ${retrying.delayMs}`)
})

retryAfter.run()
