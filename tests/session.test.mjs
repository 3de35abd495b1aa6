import { suite } from 'uvu'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as assert from 'uvu/assert'
import { createSession, isApiVideoAuthError } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import {
  KEY,
  clock,
  failure,
  json,
  scripted,
  sessionOnStandIn,
  settle,
  tokenBody,
  withRandom,
} from './helpers/index.mjs'

const HOUR = 3_600_000
const MARGIN = 300_000

const cache = suite('session: lazy cache and renewal rule')

cache('nothing is sent until the first token()', async () => {
  const { paths } = sessionOnStandIn()
  await Promise.resolve()
  assert.equal(paths(), [])
})

cache('a fresh token is served from memory', async () => {
  const { session, paths, time } = sessionOnStandIn()
  const first = await session.token()
  time.tick(HOUR - 2 * MARGIN)
  assert.is(await session.token(), first)
  assert.is(await session.authorization(), `Bearer ${first}`)
  assert.equal(paths(), ['/auth/api-key'])
})

cache('due at refreshMargin before expiry (no jitter drawn), renewed through /auth/refresh', async () => {
  await withRandom(0, async () => {
    const { session, paths, time, types } = sessionOnStandIn()
    const first = await session.token()
    time.tick(HOUR - MARGIN - 1)
    assert.is(await session.token(), first)
    time.tick(1)
    // Due: served while it is renewed in the background.
    assert.is(await session.token(), first)
    await session.settled()
    const second = await session.token()
    assert.is.not(second, first)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.equal(types(), ['authenticated', 'refreshed'])
  })
})

cache('jitter moves the due point by up to +50% of the margin', async () => {
  await withRandom(0.999999, async () => {
    const { session, paths, time } = sessionOnStandIn()
    await session.token()
    time.tick(HOUR - 1.5 * MARGIN - 10)
    await session.token()
    assert.is(paths().length, 1)
    time.tick(20)
    await session.token()
    await session.settled()
    assert.is(paths().length, 2)
  })
})

cache('the margin never exceeds half the lifetime', async () => {
  await withRandom(0.5, async () => {
    const { session, paths, time } = sessionOnStandIn({ refreshMargin: 50 * 60_000 }, { expiresIn: 600 })
    await session.token()
    time.tick(299_999)
    await session.token()
    assert.is(paths().length, 1)
    time.tick(1)
    await session.token()
    await session.settled()
    assert.is(paths().length, 2)
  })
})

cache('the latest refresh token is used each time (rotation)', async () => {
  const { session, paths, time, types } = sessionOnStandIn()
  for (let i = 0; i < 4; i++) {
    await session.token()
    time.tick(HOUR)
  }
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/refresh', '/auth/refresh'])
  assert.not.ok(types().includes('refresh-rejected'))
})

cache('invalidate() drops the token; the refresh token is kept', async () => {
  const { session, paths } = sessionOnStandIn()
  const first = await session.token()
  session.invalidate()
  assert.is.not(await session.token(), first)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

cache('invalidate(token) drops the cached token only if it is still that token', async () => {
  const { session, paths } = sessionOnStandIn()
  const first = await session.token()
  session.invalidate('some-other-token')
  assert.is(await session.token(), first)
  session.invalidate(first)
  const second = await session.token()
  assert.is.not(second, first)
  session.invalidate(first)
  assert.is(await session.token(), second)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

cache('forceRefresh renews a fresh token', async () => {
  const { session, paths } = sessionOnStandIn()
  const first = await session.token()
  const [a, b] = await Promise.all([session.token({ forceRefresh: true }), session.token({ forceRefresh: true })])
  assert.is(a, b)
  assert.is.not(a, first)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

cache('a clock that jumps back before the send time drops the token', async () => {
  const { session, paths, time, types } = sessionOnStandIn()
  await session.token()
  time.tick(-60_000)
  await session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  assert.ok(types().includes('clock-jumped'))
})

cache('expiresAt counts from the send time, so latency shortens the life', async () => {
  const time = clock()
  let seen
  const fetch = async () => {
    time.tick(5_000)
    return new Response(JSON.stringify({ access_token: 'a', refresh_token: 'r', expires_in: 3600 }), { status: 200 })
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now, onEvent: (e) => (seen = e) })
  const start = time.now()
  await session.token()
  assert.is(seen.expiresAt, start + HOUR)
})

cache.run()

const flight = suite('session: one request for many callers')

flight('1,000 concurrent cold callers make one request', async () => {
  const { session, paths } = sessionOnStandIn()
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers at renewal time make one refresh', async () => {
  const { session, paths, time } = sessionOnStandIn()
  await session.token()
  time.tick(HOUR - 1_000)
  const tokens = await Promise.all(Array.from({ length: 500 }, () => session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight('a failed renewal is forgotten at once', async () => {
  const { session, standIn, paths, latest } = sessionOnStandIn({ retries: 0 })
  standIn.fail('/auth/api-key', { status: 403 })
  const errors = await Promise.allSettled([session.token(), session.token()])
  assert.ok(errors.every((r) => r.status === 'rejected' && r.reason.code === 'ACCESS_DENIED'))
  assert.is(await session.token(), latest())
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
})

flight('mixed aborts: aborted callers reject with their reason, the others get the token', async () => {
  const { session, standIn, paths } = sessionOnStandIn()
  standIn.fail('/auth/api-key', { delay: 30 })
  const controllers = Array.from({ length: 100 }, () => new AbortController())
  const calls = controllers.map((c, i) => session.token(i % 2 ? { signal: c.signal } : undefined))
  controllers.forEach((c, i) => i % 4 === 1 && c.abort(new Error(`stop ${i}`)))
  const results = await Promise.allSettled(calls)
  results.forEach((r, i) => {
    if (i % 4 === 1) assert.is(r.reason.message, `stop ${i}`)
    else assert.is(r.status, 'fulfilled')
  })
  assert.equal(paths(), ['/auth/api-key'])
})

flight('an already aborted signal rejects at once, even with a cached token', async () => {
  const { session } = sessionOnStandIn()
  await session.token()
  const reason = new Error('gone')
  assert.is(await failure(session.token({ signal: AbortSignal.abort(reason) })), reason)
})

flight('a caller that aborts does not cancel a refresh in flight', async () => {
  const { session, standIn, paths, time } = sessionOnStandIn()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { delay: 30 })
  const controller = new AbortController()
  const aborted = session.token({ signal: controller.signal })
  const patient = session.token()
  controller.abort()
  assert.is((await failure(aborted)).name, 'AbortError')
  const fresh = await patient
  time.tick(60_000)
  assert.is(await session.token(), fresh)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight.run()

const faults = suite('session: faults, retries and stale tokens')

faults('5xx, resets and stalls are retried, then succeed', async () => {
  const { session, standIn, paths, events, latest } = sessionOnStandIn({ timeout: 50 })
  standIn.fail('/auth/api-key', { status: 503 }, { networkError: true })
  assert.is(await session.token(), latest())
  assert.is(paths().length, 3)
  const retries = events.filter((e) => e.type === 'retrying')
  assert.equal(
    retries.map((e) => e.code),
    ['SERVER_ERROR', 'NETWORK_ERROR'],
  )
  assert.ok(retries[0].delayMs <= 250 && retries[1].delayMs <= 500)
  const stalled = sessionOnStandIn({ timeout: 20, retries: 1 })
  stalled.standIn.fail('/auth/api-key', { delay: 1_000 })
  assert.is(await stalled.session.token(), stalled.latest())
  assert.equal(
    stalled.events.filter((e) => e.type === 'retrying').map((e) => e.code),
    ['TIMEOUT'],
  )
})

faults('retries are bounded: retries + 1 attempts, then the error', async () => {
  const { session, standIn, paths, types } = sessionOnStandIn({ retries: 1 })
  standIn.fail('/auth/api-key', { status: 500 }, { status: 502 }, { status: 503 })
  const error = await failure(session.token())
  assert.is(error.code, 'SERVER_ERROR')
  assert.is(error.status, 502)
  assert.is(paths().length, 2)
  assert.equal(types(), ['retrying', 'renewal-failed'])
})

for (const [fault, code] of [
  [{ status: 400 }, 'INVALID_CREDENTIALS'],
  [{ status: 403 }, 'ACCESS_DENIED'],
  [{ status: 200, body: { access_token: 'x' } }, 'INVALID_RESPONSE'],
]) {
  faults(`${code} is never retried`, async () => {
    const { session, standIn, paths } = sessionOnStandIn({ retries: 5 })
    standIn.fail('/auth/api-key', fault)
    assert.is((await failure(session.token())).code, code)
    assert.is(paths().length, 1)
  })
}

faults('a short Retry-After is honoured', async () => {
  const { session, standIn, events, paths, latest } = sessionOnStandIn()
  standIn.fail('/auth/api-key', { status: 429, headers: { 'x-ratelimit-retry-after': '0.02' } })
  assert.is(await session.token(), latest())
  assert.is(events.find((e) => e.type === 'retrying').delayMs, 20)
  assert.is(paths().length, 2)
})

faults('a 429 without Retry-After backs off like other retryable failures', async () => {
  const { session, standIn, events, latest } = sessionOnStandIn()
  standIn.fail('/auth/api-key', { status: 429 })
  assert.is(await session.token(), latest())
  assert.ok(events.find((e) => e.type === 'retrying').delayMs <= 250)
})

faults('a long Retry-After fails at once, and blocks requests until it has passed', async () => {
  const { session, standIn, paths, time, latest } = sessionOnStandIn()
  standIn.fail('/auth/api-key', { status: 429, headers: { 'retry-after': '60' } })
  const first = await failure(session.token())
  assert.is(first.code, 'RATE_LIMITED')
  assert.is(first.retryAfter, 60)
  time.tick(20_000)
  const second = await failure(session.token())
  assert.is(second.code, 'RATE_LIMITED')
  assert.is(second.retryAfter, 40)
  assert.is(paths().length, 1)
  time.tick(40_000)
  assert.is(await session.token(), latest())
  assert.is(paths().length, 2)
})

faults('a rejected refresh token falls back to the key in the same renewal', async () => {
  const { session, standIn, paths, time, types, latest } = sessionOnStandIn()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { status: 401 })
  assert.is(await session.token(), latest())
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/api-key'])
  assert.equal(types(), ['authenticated', 'refresh-rejected', 'authenticated'])
})

faults('a refresh that failed otherwise is not reused: the next attempt uses the key', async () => {
  const { session, standIn, paths, time, latest } = sessionOnStandIn()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { networkError: true })
  assert.is(await session.token(), latest())
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/api-key'])
})

faults('a 429 on /auth/refresh keeps the refresh token: it was turned away, not spent', async () => {
  const { session, standIn, paths, time, latest } = sessionOnStandIn()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { status: 429, headers: { 'retry-after': '0' } })
  assert.is(await session.token(), latest())
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/refresh'])
})

faults('a failed background renewal keeps serving the held token, and tries again after a pause', async () => {
  const { session, standIn, paths, time, events } = sessionOnStandIn({ retries: 0 })
  const first = await session.token()
  time.tick(HOUR - MARGIN)
  standIn.fail('/auth/refresh', { status: 503 })
  assert.is(await session.token(), first)
  await session.settled()
  const stale = events.find((e) => e.type === 'served-stale')
  assert.is(stale.code, 'SERVER_ERROR')
  assert.is(stale.expiresAt, time.now() + MARGIN)
  // Within the pause after a failure, no new renewal starts: an outage is not hit on every call.
  time.tick(14_999)
  assert.is(await session.token(), first)
  await session.settled()
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  time.tick(1)
  assert.is(await session.token(), first)
  await session.settled()
  assert.is.not(await session.token(), first)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/api-key'])
})

faults('a token inside the hard window (30 s or less left) is never served: the caller gets the error', async () => {
  const { session, standIn, time } = sessionOnStandIn({ retries: 0 })
  await session.token()
  time.tick(HOUR - 30_000)
  standIn.fail('/auth/refresh', { status: 503 })
  standIn.fail('/auth/api-key', { status: 503 })
  assert.is((await failure(session.token())).code, 'SERVER_ERROR')
})

faults('a throwing onEvent does not break the session', async () => {
  const { session, latest } = sessionOnStandIn({
    onEvent: () => {
      throw new Error('listener bug')
    },
  })
  assert.is(await session.token(), latest())
})

faults.run()

const checks = suite('session: options')

checks('bad options throw a TypeError naming the option, never its value', () => {
  const secretKey = 'sk_SECRETVALUE'
  const cases = [
    [null, /options/],
    [{ apiKey: 42 }, /apiKey/],
    [{ apiKey: ` ${secretKey}` }, /apiKey/],
    [{ apiKey: `${secretKey}\n` }, /apiKey/],
    [{ apiKey: secretKey, baseUrl: 'http://ws.api.video' }, /baseUrl/],
    [{ apiKey: secretKey, refreshMargin: -1 }, /refreshMargin/],
    [{ apiKey: secretKey, retries: -1 }, /retries/],
    [{ apiKey: secretKey, retries: 1.5 }, /retries/],
    [{ apiKey: secretKey, timeout: 0 }, /timeout/],
    [{ apiKey: secretKey, timeout: -5 }, /timeout/],
    [{ apiKey: secretKey, fetch: 42 }, /fetch/],
    [{ apiKey: secretKey, now: 'now' }, /now/],
    [{ apiKey: secretKey, onEvent: {} }, /onEvent/],
  ]
  for (const [options, name] of cases) {
    try {
      createSession(options)
      assert.unreachable(`accepted ${String(name)}`)
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, name)
      assert.not.match(error.message + error.stack, 'SECRETVALUE')
    }
  }
})

checks('token() checks its options', async () => {
  const { session } = sessionOnStandIn()
  assert.instance(await failure(session.token('x')), TypeError)
  assert.instance(await failure(session.token({ signal: 'x' })), TypeError)
})

checks('invalidate() with a token that is not a string is a TypeError naming token, never its value', async () => {
  const { session, paths } = sessionOnStandIn()
  const first = await session.token()
  assert.throws(
    () => session.invalidate(918273645),
    (error) => error instanceof TypeError && /\btoken\b/.test(error.message) && !error.message.includes('918273645'),
  )
  assert.is(await session.token(), first, 'the cached token was not dropped')
  assert.equal(paths(), ['/auth/api-key'])
})

checks('the session object is frozen and has only methods', () => {
  const { session } = sessionOnStandIn()
  assert.ok(Object.isFrozen(session))
  assert.equal(Object.keys(session).sort(), [
    'authorization',
    'fetch',
    'invalidate',
    'settled',
    'token',
    'tokenWithExpiry',
  ])
  assert.ok(isApiVideoAuthError.length === 1)
})

checks.run()

// ---------------------------------------------------------------------------------------------
const listener = suite('session: an async onEvent cannot crash the process')

listener('an onEvent returning a rejected promise causes no unhandledRejection', async () => {
  const unhandled = []
  const record = (reason) => unhandled.push(reason)
  process.on('unhandledRejection', record)
  try {
    const standIn = createStandIn({ apiKeys: [KEY] })
    const session = createSession({
      apiKey: KEY,
      fetch: standIn.fetch,
      onEvent: async () => {
        throw new Error('listener failed')
      },
    })
    assert.type(await session.token(), 'string')
    assert.type(await session.token({ forceRefresh: true }), 'string')
    for (let turn = 0; turn < 5; turn++) await settle()
  } finally {
    process.off('unhandledRejection', record)
  }
  assert.is(unhandled.length, 0, `unhandled: ${unhandled.map(String).join(', ')}`)
})

listener.run()

// ---------------------------------------------------------------------------------------------
const sharedSignal = suite('session: one AbortSignal shared by many callers')

/** Counts the 'abort' listeners currently on `signal` (by listener identity), and the most seen at once. */
function countListeners(signal) {
  const live = new Set()
  const count = { max: 0, live }
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  signal.addEventListener = (type, fn, options) => {
    if (type === 'abort') {
      live.add(fn)
      count.max = Math.max(count.max, live.size)
    }
    return add(type, fn, options)
  }
  signal.removeEventListener = (type, fn, options) => {
    if (type === 'abort') live.delete(fn)
    return remove(type, fn, options)
  }
  return count
}

sharedSignal(
  '50 concurrent token() callers with one signal during one renewal: at most 1 abort listener',
  async () => {
    let release
    const gate = new Promise((resolve) => (release = resolve))
    const { fetch, requests } = scripted(async (_, n) => (await gate, json(200, tokenBody(n))))
    const session = createSession({ apiKey: KEY, fetch })
    const controller = new AbortController()
    const count = countListeners(controller.signal)
    const calls = Array.from({ length: 50 }, () => session.token({ signal: controller.signal }).catch((e) => e))
    await settle()
    const most = count.max
    release()
    assert.ok(most <= 1, `${most} abort listeners on the shared signal`)
    assert.equal(await Promise.all(calls), Array(50).fill('access-1'))
    assert.is(requests.length, 1)
    assert.is(count.live.size, 0, 'no listener left behind')
  },
)

sharedSignal('regression: aborting the shared signal stops every waiting caller', async () => {
  let release
  const gate = new Promise((resolve) => (release = resolve))
  const { fetch } = scripted(async (_, n) => (await gate, json(200, tokenBody(n))))
  const session = createSession({ apiKey: KEY, fetch })
  const controller = new AbortController()
  const reason = new Error('shutdown')
  const calls = Array.from({ length: 20 }, () => session.token({ signal: controller.signal }).catch((e) => e))
  await settle()
  controller.abort(reason)
  assert.equal(await Promise.all(calls), Array(20).fill(reason))
  release()
  assert.is(await session.token(), 'access-1', 'the shared renewal went on')
})

sharedSignal('once a renewal settles, no signal that waited on it is kept', async () => {
  // The session may keep a caller's signal only while the caller waits: GC must be free to take it afterwards.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc')
  let release
  const gate = new Promise((resolve) => (release = resolve))
  const { fetch } = scripted(async (_, n) => (await gate, json(200, tokenBody(n))))
  const session = createSession({ apiKey: KEY, fetch })
  const refs = []
  // Made in a function of its own, so that no variable of this test still holds the last signal.
  const caller = () => {
    const { signal } = new AbortController()
    refs.push(new WeakRef(signal))
    return session.token({ signal })
  }
  const calls = Array.from({ length: 200 }, caller)
  await settle()
  release()
  assert.equal(await Promise.all(calls.splice(0)), Array(200).fill('access-1'))
  // WeakRefs are cleared by a collection after the task that last read them.
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  const alive = refs.filter((ref) => ref.deref() !== undefined).length
  assert.is(alive, 0, `${alive} of 200 signals still referenced after the renewal`)
  assert.is(await session.token(), 'access-1')
})

sharedSignal.run()

const background = suite('session: renewal in the background')

/** A stand-in whose auth answers are held until `release()`: a renewal in flight for as long as a test needs. */
function heldAnswers(options = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [KEY], now: time.now })
  const held = []
  const fetch = (request) => {
    if (!new URL(request.url).pathname.startsWith('/auth/')) return standIn.fetch(request)
    const answer = standIn.fetch(request)
    return new Promise((resolve) => held.push(() => resolve(answer)))
  }
  const events = []
  const session = createSession({ apiKey: KEY, fetch, now: time.now, onEvent: (e) => events.push(e), ...options })
  const release = async () => {
    await settle()
    for (const next of held.splice(0)) next()
    await settle()
  }
  const auth = () => standIn.requests.filter((r) => r.path.startsWith('/auth/')).map((r) => r.path)
  return { session, time, release, held, events, auth }
}

background('from the due time, 20 callers get the held token at once while one renewal runs', async () => {
  const { session, time, release, held, auth } = heldAnswers()
  const first = session.token()
  await release()
  const token = await first
  time.tick(HOUR - MARGIN * 0.5)
  let answered = 0
  const burst = Array.from({ length: 20 }, () => session.token().then((t) => (answered++, t)))
  await settle()
  // Every caller answered while the renewal's answer is still held.
  assert.is(answered, 20)
  assert.equal(new Set(await Promise.all(burst)), new Set([token]))
  assert.is(held.length, 1)
  await release()
  await session.settled()
  assert.is.not(await session.token(), token)
  assert.equal(auth(), ['/auth/api-key', '/auth/refresh'])
})

background(
  'inside the hard window callers wait for the renewal, and share it with the one in the background',
  async () => {
    const { session, time, release, held } = heldAnswers()
    const first = session.token()
    await release()
    const token = await first
    time.tick(HOUR - MARGIN * 0.5)
    assert.is(await session.token(), token)
    time.tick(MARGIN * 0.5 - 30_000)
    let answered = false
    const waiting = session.token().then((t) => ((answered = true), t))
    await settle()
    assert.not.ok(answered)
    assert.is(held.length, 1)
    await release()
    assert.is.not(await waiting, token)
  },
)

background('a background renewal that fails rejects nobody and leaves no unhandled rejection', async () => {
  const unhandled = []
  const onUnhandled = (reason) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    const { session, standIn, time, types } = sessionOnStandIn({ retries: 1 })
    const token = await session.token()
    time.tick(HOUR - MARGIN)
    standIn.fail('/auth/refresh', { status: 503 })
    standIn.fail('/auth/api-key', { status: 503 }, { status: 503 })
    assert.is(await session.token(), token)
    await session.settled()
    await settle()
    assert.equal(unhandled, [])
    assert.ok(types().includes('renewal-failed'))
    assert.is(await session.token(), token)
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

background('tokenWithExpiry gives the token and the expiry it is served with', async () => {
  const { session, time } = sessionOnStandIn()
  const start = time.now()
  const { token, expiresAt } = await session.tokenWithExpiry()
  assert.is(token, await session.token())
  assert.is(expiresAt, start + HOUR)
  assert.equal(Object.keys(await session.tokenWithExpiry()).sort(), ['expiresAt', 'token'])
})

background(
  'settled() resolves at once when nothing runs, and after the background renewal when one does',
  async () => {
    const { session, time, release, auth } = heldAnswers()
    await session.settled()
    const first = session.token()
    await release()
    await first
    time.tick(HOUR - MARGIN * 0.5)
    await session.token()
    let settled = false
    const done = session.settled().then(() => (settled = true))
    await settle()
    assert.not.ok(settled)
    await release()
    await done
    assert.equal(auth(), ['/auth/api-key', '/auth/refresh'])
  },
)

background('each renewal starts with a renewal-started event that says whether callers wait for it', async () => {
  const { session, time, release, events } = heldAnswers()
  const first = session.token()
  await release()
  await first
  time.tick(HOUR - MARGIN * 0.5)
  await session.token()
  await release()
  await session.settled()
  const starts = events.filter((e) => e.type === 'renewal-started')
  assert.equal(
    starts.map((e) => e.background),
    [false, true],
  )
  assert.equal(
    events.map((e) => e.type),
    ['renewal-started', 'authenticated', 'renewal-started', 'refreshed'],
  )
})

background.run()
