import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession, isApiVideoAuthError } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, clock, failure } from './helpers.mjs'

const HOUR = 3_600_000
const MARGIN = 300_000

/** A session on a stand-in sharing one fake clock; `paths()` lists the auth requests made. */
function setup(options = {}, standInOptions = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [KEY], now: time.now, ...standInOptions })
  const events = []
  const session = createSession({
    apiKey: KEY,
    fetch: standIn.fetch,
    now: time.now,
    onEvent: (e) => events.push(e),
    ...options,
  })
  const paths = () => standIn.requests.map((r) => r.path)
  return { time, standIn, session, events, paths, types: () => events.map((e) => e.type) }
}

function withRandom(value, run) {
  const original = Math.random
  Math.random = () => value
  return Promise.resolve(run()).finally(() => (Math.random = original))
}

const cache = suite('session: lazy cache and renewal rule')

cache('nothing is sent until the first token()', async () => {
  const { paths } = setup()
  await Promise.resolve()
  assert.equal(paths(), [])
})

cache('a fresh token is served from memory', async () => {
  const { session, paths, time } = setup()
  const first = await session.token()
  time.tick(HOUR - 2 * MARGIN)
  assert.is(await session.token(), first)
  assert.is(await session.authorization(), `Bearer ${first}`)
  assert.equal(paths(), ['/auth/api-key'])
})

cache('due at refreshMargin before expiry (no jitter drawn), renewed through /auth/refresh', async () => {
  await withRandom(0, async () => {
    const { session, paths, time, types } = setup()
    const first = await session.token()
    time.tick(HOUR - MARGIN - 1)
    assert.is(await session.token(), first)
    time.tick(1)
    const second = await session.token()
    assert.is.not(second, first)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.equal(types(), ['authenticated', 'refreshed'])
  })
})

cache('jitter moves the due point by up to +50% of the margin', async () => {
  await withRandom(0.999999, async () => {
    const { session, paths, time } = setup()
    await session.token()
    time.tick(HOUR - 1.5 * MARGIN - 10)
    await session.token()
    assert.is(paths().length, 1)
    time.tick(20)
    await session.token()
    assert.is(paths().length, 2)
  })
})

cache('the margin never exceeds half the lifetime', async () => {
  await withRandom(0.5, async () => {
    const { session, paths, time } = setup({ refreshMargin: 50 * 60_000 }, { expiresIn: 600 })
    await session.token()
    time.tick(299_999)
    await session.token()
    assert.is(paths().length, 1)
    time.tick(1)
    await session.token()
    assert.is(paths().length, 2)
  })
})

cache('the latest refresh token is used each time (rotation)', async () => {
  const { session, paths, time, types } = setup()
  for (let i = 0; i < 4; i++) {
    await session.token()
    time.tick(HOUR)
  }
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/refresh', '/auth/refresh'])
  assert.not.ok(types().includes('refresh-rejected'))
})

cache('invalidate() drops the token; the refresh token is kept', async () => {
  const { session, paths } = setup()
  const first = await session.token()
  session.invalidate()
  assert.is.not(await session.token(), first)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

cache('invalidate(token) drops the cached token only if it is still that token', async () => {
  const { session, paths } = setup()
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
  const { session, paths } = setup()
  const first = await session.token()
  const [a, b] = await Promise.all([session.token({ forceRefresh: true }), session.token({ forceRefresh: true })])
  assert.is(a, b)
  assert.is.not(a, first)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

cache('a clock that jumps back before the send time drops the token', async () => {
  const { session, paths, time, types } = setup()
  await session.token()
  time.tick(-60_000)
  await session.token()
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  assert.ok(types().includes('clock-jump'))
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
  const { session, paths } = setup()
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers at renewal time make one refresh', async () => {
  const { session, paths, time } = setup()
  await session.token()
  time.tick(HOUR - 1_000)
  const tokens = await Promise.all(Array.from({ length: 500 }, () => session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight('a failed renewal is forgotten at once', async () => {
  const { session, standIn, paths } = setup({ retries: 0 })
  standIn.fail('/auth/api-key', { status: 403 })
  const errors = await Promise.allSettled([session.token(), session.token()])
  assert.ok(errors.every((r) => r.status === 'rejected' && r.reason.code === 'ACCESS_DENIED'))
  assert.ok(await session.token())
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
})

flight('mixed aborts: aborted callers reject with their reason, the others get the token', async () => {
  const { session, standIn, paths } = setup()
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
  const { session } = setup()
  await session.token()
  const reason = new Error('gone')
  assert.is(await failure(session.token({ signal: AbortSignal.abort(reason) })), reason)
})

flight('a caller that aborts does not cancel a refresh in flight', async () => {
  const { session, standIn, paths, time } = setup()
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
  const { session, standIn, paths, events } = setup({ timeout: 50 })
  standIn.fail('/auth/api-key', { status: 503 }, { networkError: true })
  assert.ok(await session.token())
  assert.is(paths().length, 3)
  const retries = events.filter((e) => e.type === 'retry')
  assert.equal(
    retries.map((e) => e.code),
    ['SERVER_ERROR', 'NETWORK_ERROR'],
  )
  assert.ok(retries[0].delay <= 250 && retries[1].delay <= 500)
  const stalled = setup({ timeout: 20, retries: 1 })
  stalled.standIn.fail('/auth/api-key', { delay: 1_000 })
  assert.ok(await stalled.session.token())
  assert.equal(
    stalled.events.filter((e) => e.type === 'retry').map((e) => e.code),
    ['TIMEOUT'],
  )
})

faults('retries are bounded: retries + 1 attempts, then the error', async () => {
  const { session, standIn, paths, types } = setup({ retries: 1 })
  standIn.fail('/auth/api-key', { status: 500 }, { status: 502 }, { status: 503 })
  const error = await failure(session.token())
  assert.is(error.code, 'SERVER_ERROR')
  assert.is(error.status, 502)
  assert.is(paths().length, 2)
  assert.equal(types(), ['retry', 'failed'])
})

for (const [fault, code] of [
  [{ status: 400 }, 'INVALID_CREDENTIALS'],
  [{ status: 403 }, 'ACCESS_DENIED'],
  [{ status: 200, body: { access_token: 'x' } }, 'INVALID_RESPONSE'],
]) {
  faults(`${code} is never retried`, async () => {
    const { session, standIn, paths } = setup({ retries: 5 })
    standIn.fail('/auth/api-key', fault)
    assert.is((await failure(session.token())).code, code)
    assert.is(paths().length, 1)
  })
}

faults('a short Retry-After is honoured', async () => {
  const { session, standIn, events, paths } = setup()
  standIn.fail('/auth/api-key', { status: 429, headers: { 'x-ratelimit-retry-after': '0.02' } })
  assert.ok(await session.token())
  assert.is(events.find((e) => e.type === 'retry').delay, 20)
  assert.is(paths().length, 2)
})

faults('a 429 without Retry-After backs off like other retryable failures', async () => {
  const { session, standIn, events } = setup()
  standIn.fail('/auth/api-key', { status: 429 })
  assert.ok(await session.token())
  assert.ok(events.find((e) => e.type === 'retry').delay <= 250)
})

faults('a long Retry-After fails at once, and blocks requests until it has passed', async () => {
  const { session, standIn, paths, time } = setup()
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
  assert.ok(await session.token())
  assert.is(paths().length, 2)
})

faults('a rejected refresh token falls back to the key in the same renewal', async () => {
  const { session, standIn, paths, time, types } = setup()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { status: 401 })
  assert.ok(await session.token())
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/api-key'])
  assert.equal(types(), ['authenticated', 'refresh-rejected', 'authenticated'])
})

faults('a refresh that failed otherwise is not reused: the next attempt uses the key', async () => {
  const { session, standIn, paths, time } = setup()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { networkError: true })
  assert.ok(await session.token())
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/api-key'])
})

faults('a 429 on /auth/refresh keeps the refresh token: it was turned away, not spent', async () => {
  const { session, standIn, paths, time } = setup()
  await session.token()
  time.tick(HOUR - 1_000)
  standIn.fail('/auth/refresh', { status: 429, headers: { 'retry-after': '0' } })
  assert.ok(await session.token())
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/refresh'])
})

faults('a failed renewal serves the still-valid token, then tries again next call', async () => {
  const { session, standIn, paths, time, events } = setup({ retries: 0 })
  const first = await session.token()
  time.tick(HOUR - MARGIN)
  standIn.fail('/auth/refresh', { status: 503 })
  assert.is(await session.token(), first)
  const stale = events.find((e) => e.type === 'served-stale')
  assert.is(stale.code, 'SERVER_ERROR')
  assert.is(stale.expiresAt, time.now() + MARGIN)
  const next = await session.token()
  assert.is.not(next, first)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/api-key'])
})

faults('a token with 10 s or less left is never served: the caller gets the error', async () => {
  const { session, standIn, time } = setup({ retries: 0 })
  await session.token()
  time.tick(HOUR - 10_000)
  standIn.fail('/auth/refresh', { status: 503 })
  standIn.fail('/auth/api-key', { status: 503 })
  assert.is((await failure(session.token())).code, 'SERVER_ERROR')
})

faults('a throwing onEvent does not break the session', async () => {
  const { session } = setup({
    onEvent: () => {
      throw new Error('listener bug')
    },
  })
  assert.ok(await session.token())
})

faults.run()

const authorized = suite('session.fetch')

/** A fetch that records what reached the stand-in's protected paths, and may hold one path's first answer. */
function recording(standIn, hold) {
  const seen = []
  let release
  const gate = new Promise((resolve) => (release = resolve))
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    const { pathname } = new URL(request.url)
    if (pathname.startsWith('/auth/')) return standIn.handler(request)
    seen.push({
      path: pathname,
      authorization: request.headers.get('authorization'),
      keep: request.headers.get('x-keep'),
      body: await request.clone().text(),
    })
    if (pathname === hold && seen.filter((s) => s.path === hold).length === 1) {
      await gate
      return new Response(null, { status: 401 })
    }
    return standIn.handler(request)
  }
  return { fetch, seen, release }
}

authorized("adds the bearer token, replacing the caller's, keeping other headers", async () => {
  const time = clock()
  const standIn = createStandIn({ now: time.now })
  const { fetch, seen } = recording(standIn)
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  const token = await session.token()
  const first = await session.fetch('https://ws.api.video/videos', {
    headers: { authorization: 'Bearer stale', 'x-keep': '1' },
  })
  const second = await session.fetch(new Request('https://ws.api.video/players/1', { headers: { 'x-keep': '2' } }))
  assert.equal([first.status, second.status], [200, 200])
  assert.equal(
    seen.map((s) => [s.authorization, s.keep]),
    [
      [`Bearer ${token}`, '1'],
      [`Bearer ${token}`, '2'],
    ],
  )
})

authorized('a 401 renews once and replays the request with its body', async () => {
  const time = clock()
  const standIn = createStandIn({ now: time.now })
  const { fetch, seen } = recording(standIn)
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  const form = new FormData()
  form.set('field', 'form')
  for (const body of [
    'text',
    new TextEncoder().encode('bytes'),
    new TextEncoder().encode('buffer').buffer,
    new URLSearchParams('a=1'),
    new Blob(['blob']),
    form,
  ]) {
    // A 401 on a token younger than a minute renews at most once a minute: each round comes a minute later.
    time.tick(61_000)
    await session.token()
    standIn.revoke()
    const response = await session.fetch('https://ws.api.video/videos/vi1/source', { method: 'POST', body })
    assert.is(response.status, 200)
  }
  const bodies = seen.map((s) => s.body)
  assert.equal(bodies.slice(0, 10), [
    'text',
    'text',
    'bytes',
    'bytes',
    'buffer',
    'buffer',
    'a=1',
    'a=1',
    'blob',
    'blob',
  ])
  assert.match(bodies[10], 'form')
  assert.is(bodies[11].replace(/formdata-undici-\d+/g, ''), bodies[10].replace(/formdata-undici-\d+/g, ''))
  assert.is(standIn.requests.filter((r) => r.path === '/auth/refresh').length, 6)
})

authorized(
  "a Request input's own body is a stream, sent once: a 401 comes back as is, with no copy kept",
  async () => {
    // Replaying it meant a clone made up front, which kept every byte of an upload in memory until the end.
    const { session, standIn, paths } = setup()
    await session.token()
    standIn.revoke()
    const response = await session.fetch(new Request('https://ws.api.video/x', { method: 'PUT', body: 'payload' }))
    assert.is(response.status, 401)
    assert.equal(paths(), ['/auth/api-key', '/x'])
  },
)

authorized(
  'a FormData body is replayed with a boundary that matches its content-type: the server parses both',
  async () => {
    const { standIn } = setup()
    const time = clock()
    const parsed = []
    const fetch = async (request) => {
      if (new URL(request.url).pathname !== '/videos/vi1/source') return standIn.handler(request)
      parsed.push(
        await request.formData().then(
          (form) => form.get('field'),
          (error) => error.name,
        ),
      )
      return new Response(null, { status: parsed.length === 1 ? 401 : 200 })
    }
    const session = createSession({ apiKey: KEY, fetch, now: time.now })
    const form = new FormData()
    form.set('field', 'value')
    assert.is((await session.fetch('/videos/vi1/source', { method: 'POST', body: form })).status, 200)
    assert.equal(parsed, ['value', 'value'])
  },
)

authorized('a bodiless replay is a fresh request: headers the fetch function added are not sent twice', async () => {
  const { standIn } = setup()
  const time = clock()
  let n = 0
  const seen = []
  const fetch = async (request) => {
    request.headers.append('x-attempt', String(++n))
    if (request.url.includes('/auth/')) return standIn.handler(request)
    seen.push(request.headers.get('x-attempt'))
    return new Response(null, { status: seen.length === 1 ? 401 : 200 })
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  assert.is((await session.fetch('/videos')).status, 200)
  assert.equal(seen, ['2', '4'])
})

authorized(
  'the replay sends what the first send did: headers changed or read once after the call are not read again',
  async () => {
    const { standIn } = setup()
    const time = clock()
    const seen = []
    const fetch = async (request) => {
      if (request.url.includes('/auth/')) return standIn.handler(request)
      seen.push([request.method, request.headers.get('x-a'), await request.text()])
      return new Response(null, { status: seen.length % 2 === 1 ? 401 : 200 })
    }
    const session = createSession({ apiKey: KEY, fetch, now: time.now })
    // A Headers object the caller reuses and changes once the call is made.
    const headers = new Headers({ 'x-a': 'mine' })
    const pending = session.fetch('/videos', { method: 'DELETE', headers })
    headers.set('x-a', 'changed')
    assert.is((await pending).status, 200)
    // Headers from a generator, which can be read once.
    time.tick(61_000)
    const once = function* () {
      yield ['x-a', 'generated']
    }
    assert.is(
      (await session.fetch('/videos/vi1/source', { method: 'POST', headers: once(), body: 'text' })).status,
      200,
    )
    assert.equal(seen, [
      ['DELETE', 'mine', ''],
      ['DELETE', 'mine', ''],
      ['POST', 'generated', 'text'],
      ['POST', 'generated', 'text'],
    ])
  },
)

authorized('a 401 whose body has no cancel() (a minimal fetch) is still replayed, not a TypeError', async () => {
  const { standIn } = setup()
  const time = clock()
  let resources = 0
  const fetch = async (request) => {
    if (request.url.includes('/auth/')) return standIn.handler(request)
    if (++resources === 1) return { status: 401, headers: new Headers(), url: request.url, body: {} }
    return new Response('ok')
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  assert.is((await session.fetch('/videos')).status, 200)
})

authorized("an init signal of null drops the Request input's signal, as fetch does", async () => {
  const { session } = setup()
  const aborted = new Request('https://ws.api.video/videos', { signal: AbortSignal.abort() })
  assert.is((await session.fetch(aborted, { signal: null })).status, 200)
})

authorized('the URL and body are read when session.fetch is called, as fetch reads them', async () => {
  const time = clock()
  const standIn = createStandIn({ now: time.now })
  const sent = []
  const fetch = async (request) => {
    if (!request.url.includes('/auth/')) sent.push([request.url, await request.clone().text()])
    return standIn.handler(request)
  }
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  await session.token()
  const url = new URL('https://ws.api.video/videos/vi1/source')
  const body = new TextEncoder().encode('mine')
  const pending = session.fetch(url, { method: 'POST', body })
  url.host = 'evil.example'
  body.fill(65)
  assert.is((await pending).status, 200)
  assert.equal(sent, [['https://ws.api.video/videos/vi1/source', 'mine']])
})

authorized('50 concurrent 401s cause one renewal', async () => {
  const { session, standIn, paths } = setup()
  await session.token()
  standIn.revoke()
  const responses = await Promise.all(Array.from({ length: 50 }, () => session.fetch('https://ws.api.video/videos')))
  assert.ok(responses.every((r) => r.status === 200))
  assert.equal(
    paths().filter((p) => p.startsWith('/auth/')),
    ['/auth/api-key', '/auth/refresh'],
  )
})

authorized('bad input is a TypeError, and no token is requested for it', async () => {
  const { session, paths } = setup()
  for (const [input, init] of [
    [42],
    [undefined],
    [{ url: 'https://ws.api.video/videos' }],
    ['https://ws.api.video/videos', 'GET'],
  ]) {
    const error = await failure(session.fetch(input, init))
    assert.instance(error, TypeError)
    assert.match(error.message, /^(input|init) must be/)
  }
  assert.equal(paths(), [])
})

authorized('a second 401 is returned, not looped', async () => {
  const { session, standIn, paths } = setup()
  standIn.fail('/videos', { status: 401 }, { status: 401 }, { status: 401 })
  const response = await session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 401)
  assert.equal(paths(), ['/auth/api-key', '/videos', '/auth/refresh', '/videos'])
})

authorized('a stream body is sent once; its 401 is returned as is', async () => {
  const { session, standIn, paths } = setup()
  await session.token()
  standIn.revoke()
  const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('s')), c.close()) })
  const response = await session.fetch('https://ws.api.video/videos/vi1/source', {
    method: 'POST',
    body,
    duplex: 'half',
  })
  assert.is(response.status, 401)
  assert.equal(paths(), ['/auth/api-key', '/videos/vi1/source'])
})

authorized(
  'a 401 for a token already replaced renews nothing: the request is replayed with the new one',
  async () => {
    const time = clock()
    const standIn = createStandIn({ now: time.now })
    const { fetch, seen, release } = recording(standIn, '/late')
    const session = createSession({ apiKey: KEY, fetch, now: time.now })
    const first = await session.token()
    const late = session.fetch('https://ws.api.video/late')
    while (!seen.length) await new Promise((r) => setTimeout(r, 1))
    const second = await session.token({ forceRefresh: true })
    release()
    assert.is((await late).status, 200)
    assert.equal(
      seen.map((s) => s.authorization),
      [`Bearer ${first}`, `Bearer ${second}`],
    )
    assert.equal(
      standIn.requests.map((r) => r.path).filter((p) => p.startsWith('/auth/')),
      ['/auth/api-key', '/auth/refresh'],
    )
  },
)

authorized.run()

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
  const { session } = setup()
  assert.instance(await failure(session.token('x')), TypeError)
  assert.instance(await failure(session.token({ signal: 'x' })), TypeError)
})

checks('the session object is frozen and has only methods', () => {
  const { session } = setup()
  assert.ok(Object.isFrozen(session))
  assert.equal(Object.keys(session).sort(), ['authorization', 'fetch', 'invalidate', 'token'])
  assert.ok(isApiVideoAuthError.length === 1)
})

checks.run()
