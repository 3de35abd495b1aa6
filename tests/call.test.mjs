import { createServer } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession, isApiVideoAuthError, refresh } from '../dist/index.js'
import { JSON_HEADERS, KEY, failure, mock, overHttp, serve, tokenBody } from './helpers/index.mjs'

const calls = suite('authenticate and refresh (MockAgent)')
let m
calls.before.each(() => {
  m = mock()
})
calls.after.each(() => {
  m.agent.assertNoPendingInterceptors()
})

calls('authenticate sends the key and reads the token', async () => {
  let seen
  m.pool
    .intercept({ path: '/auth/api-key', method: 'POST', body: (b) => ((seen = JSON.parse(b)), true) })
    .reply(200, tokenBody(1), JSON_HEADERS)
  const before = Date.now()
  const token = await authenticate(KEY, { fetch: m.fetch })
  assert.equal(seen, { apiKey: KEY })
  assert.is(token.accessToken, 'access-1')
  assert.is(token.refreshToken, 'refresh-1')
  assert.ok(token.expiresAt >= before + 3_600_000 && token.expiresAt <= Date.now() + 3_600_000)
})

calls('refresh sends the refresh token; 400 there is INVALID_REFRESH_TOKEN', async () => {
  m.pool
    .intercept({ path: '/auth/refresh', method: 'POST', body: JSON.stringify({ refreshToken: 'refresh-1' }) })
    .reply(200, tokenBody(2), JSON_HEADERS)
  assert.is((await refresh('refresh-1', { fetch: m.fetch })).accessToken, 'access-2')
  m.pool
    .intercept({ path: '/auth/refresh', method: 'POST' })
    .reply(400, { status: 400, title: 'The user credentials were incorrect.' }, JSON_HEADERS)
  assert.is((await failure(refresh('refresh-1', { fetch: m.fetch }))).code, 'INVALID_REFRESH_TOKEN')
})

for (const [status, code] of [
  [401, 'INVALID_CREDENTIALS'],
  [403, 'ACCESS_DENIED'],
  [500, 'SERVER_ERROR'],
  [418, 'UNEXPECTED_STATUS'],
]) {
  calls(`authenticate: ${status} rejects with ${code}`, async () => {
    m.pool.intercept({ path: '/auth/api-key', method: 'POST' }).reply(status, {}, JSON_HEADERS)
    assert.is((await failure(authenticate(KEY, { fetch: m.fetch }))).code, code)
  })
}

calls('429 carries retryAfter', async () => {
  m.pool
    .intercept({ path: '/auth/api-key', method: 'POST' })
    .reply(429, {}, { headers: { 'x-ratelimit-retry-after': '30' } })
  const error = await failure(authenticate(KEY, { fetch: m.fetch }))
  assert.is(error.code, 'RATE_LIMITED')
  assert.is(error.retryAfter, 30)
  assert.ok(error.retryable)
})

calls('a failing fetch is NETWORK_ERROR with the original as cause', async () => {
  m.pool.intercept({ path: '/auth/api-key', method: 'POST' }).replyWithError(new Error('ECONNRESET'))
  const error = await failure(authenticate(KEY, { fetch: m.fetch }))
  assert.is(error.code, 'NETWORK_ERROR')
  assert.ok(error.retryable)
  assert.ok(error.cause)
})

calls('no answer within the timeout is TIMEOUT', async () => {
  m.pool.intercept({ path: '/auth/api-key', method: 'POST' }).reply(200, tokenBody()).delay(5_000)
  const error = await failure(authenticate(KEY, { fetch: m.fetch, timeout: 30 }))
  assert.ok(isApiVideoAuthError(error))
  assert.is(error.code, 'TIMEOUT')
  assert.ok(error.retryable)
  m.agent.removeAllListeners?.()
  await m.agent.close()
})

calls.run()

const bounded = suite('cancellation and bounds')

bounded('a fetch that ignores its signal still times out', async () => {
  const hang = () => new Promise(() => {})
  assert.is((await failure(authenticate(KEY, { fetch: hang, timeout: 20 }))).code, 'TIMEOUT')
})

bounded('the timeout covers a body that never ends', async () => {
  const stall = async () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { status: 200 })
  assert.is((await failure(authenticate(KEY, { fetch: stall, timeout: 20 }))).code, 'TIMEOUT')
})

bounded("the caller's abort rejects with the signal's reason", async () => {
  const controller = new AbortController()
  const hang = (request, init) =>
    new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)))
  const pending = authenticate(KEY, { fetch: hang, signal: controller.signal })
  controller.abort()
  const error = await failure(pending)
  assert.is(error.name, 'AbortError')
  assert.not.ok(isApiVideoAuthError(error))
})

bounded('an already aborted signal sends nothing', async () => {
  let sent = 0
  const reason = new Error('stop')
  const error = await failure(authenticate(KEY, { fetch: () => sent++, signal: AbortSignal.abort(reason) }))
  assert.is(error, reason)
  assert.is(sent, 0)
})

bounded('fetch defaults to globalThis.fetch, looked up at call time', async () => {
  const original = globalThis.fetch
  let used = 0
  globalThis.fetch = async () => (used++, new Response(JSON.stringify(tokenBody(9)), { status: 200 }))
  try {
    assert.is((await authenticate(KEY)).accessToken, 'access-9')
    assert.is(used, 1)
  } finally {
    globalThis.fetch = original
  }
})

bounded('bad input sends nothing and rejects with a TypeError', async () => {
  let sent = 0
  const fetch = async () => (sent++, new Response('{}'))
  for (const [call] of [
    [() => authenticate('', { fetch })],
    [() => refresh(' spaced', { fetch })],
    [() => authenticate(KEY, { fetch, timeout: 0 })],
    [() => authenticate(KEY, { fetch, timeout: -1 })],
    [() => authenticate(KEY, { fetch, timeout: Infinity })],
    [() => authenticate(KEY, { fetch: 'fetch' })],
    [() => authenticate(KEY, { fetch, signal: {} })],
    [() => authenticate(KEY, { fetch, baseUrl: 'http://example.com' })],
  ]) {
    const promise = call()
    assert.instance(promise, Promise)
    assert.instance(await failure(promise), TypeError)
  }
  assert.is(sent, 0)
})

bounded.run()

const loopback = suite('round trip over a real loopback server')

loopback('authenticate then refresh against the stand-in over node:http', () =>
  overHttp(
    async (standIn, server) => {
      const first = await authenticate(KEY, { baseUrl: server.url })
      assert.is(first.expiresIn, 3599)
      const second = await refresh(first.refreshToken, { baseUrl: server.url })
      assert.is.not(second.accessToken, first.accessToken)
      const reused = await failure(refresh(first.refreshToken, { baseUrl: server.url }))
      assert.is(reused.code, 'INVALID_REFRESH_TOKEN')
      assert.is(reused.problem.title, 'The user credentials were incorrect.')
      const wrong = await failure(authenticate('wrong-key', { baseUrl: server.url }))
      assert.is(wrong.code, 'INVALID_CREDENTIALS')
      assert.equal(
        standIn.requests.map((r) => r.path),
        ['/auth/api-key', '/auth/refresh', '/auth/refresh', '/auth/api-key'],
      )
    },
    { expiresIn: 3599 },
  ),
)

loopback('a connection reset is NETWORK_ERROR naming the host, a stall is TIMEOUT', () =>
  overHttp(async (standIn, server) => {
    standIn.fail('/auth/api-key', { networkError: true }, { delay: 2_000 })
    const reset = await failure(authenticate(KEY, { baseUrl: server.url }))
    assert.is(reset.code, 'NETWORK_ERROR')
    assert.match(reset.message, `could not reach ${new URL(server.url).host}`)
    assert.is((await failure(authenticate(KEY, { baseUrl: server.url, timeout: 50 }))).code, 'TIMEOUT')
    assert.ok((await authenticate(KEY, { baseUrl: server.url })).accessToken)
  }),
)

loopback(
  'a closed port on 127.0.0.1: NETWORK_ERROR naming the host and ECONNREFUSED, not "retry later"',
  async () => {
    const server = await serve(async () => new Response(null, { status: 204 }))
    await server.close()
    const host = new URL(server.url).host
    const hint = 'check the base URL and the network'
    const expected = `api.video: network error: could not reach ${host} (ECONNREFUSED): ${hint}.`
    const session = createSession({ apiKey: KEY, baseUrl: server.url, retries: 0 })
    for (const call of [() => authenticate(KEY, { baseUrl: server.url }), () => session.token()]) {
      const error = await failure(call())
      assert.is(error.code, 'NETWORK_ERROR')
      assert.ok(error.retryable)
      assert.is(error.message, expected)
      assert.not.match(error.message, 'retry later')
    }
  },
)

loopback('a redirect is not followed (the key is never re-sent elsewhere)', async () => {
  let hits = 0
  const server = await serve(
    async () => (hits++, new Response(null, { status: 307, headers: { location: 'http://127.0.0.1:9/steal' } })),
  )
  try {
    const error = await failure(authenticate(KEY, { baseUrl: server.url }))
    assert.is(error.code, 'UNEXPECTED_STATUS')
    assert.is(error.status, 307)
    assert.is(hits, 1)
  } finally {
    await server.close()
  }
})

loopback.run()

// ---------------------------------------------------------------------------------------------
const ending = suite('a timeout or an abort ends the exchange')

/** A loopback server that answers 200, sends the start of a body, and never ends it. */
async function tricklingServer() {
  let sawClose
  const closed = new Promise((resolve) => (sawClose = resolve))
  const server = createServer((req, res) => {
    res.once('close', sawClose)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"access_token":"')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    closed,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  }
}

/** A fetch option that drops its second argument, as `(req) => undiciFetch(req, { dispatcher })` does. */
function dropsInit() {
  const seen = []
  return { seen, fetch: (request) => (seen.push(request), globalThis.fetch(request)) }
}

/**
 * Runs `act(baseUrl)` against a trickling server; `act` returns the Requests its fetch was given. The exchange has
 * ended when the first of them carries an aborted signal and the server has seen its connection closed.
 */
async function assertExchangeEnds(act) {
  const server = await tricklingServer()
  try {
    const seen = await act(server.url)
    assert.ok(seen[0].signal.aborted, 'the Request passed to fetch carries an aborted signal')
    await server.closed
  } finally {
    await server.close()
  }
}

ending('authenticate: after TIMEOUT the Request itself is aborted and the server sees the connection closed', () =>
  assertExchangeEnds(async (baseUrl) => {
    const { seen, fetch } = dropsInit()
    const error = await failure(authenticate(KEY, { baseUrl, timeout: 50, fetch }))
    assert.is(error.code, 'TIMEOUT')
    assert.is(seen.length, 1)
    return seen
  }),
)

ending("authenticate: after the caller's abort the Request itself is aborted and the server sees it closed", () =>
  assertExchangeEnds(async (baseUrl) => {
    const controller = new AbortController()
    const reason = new Error('caller stopped')
    const seen = []
    const fetch = async (request) => {
      seen.push(request)
      const response = await globalThis.fetch(request)
      setImmediate(() => controller.abort(reason))
      return response
    }
    const error = await failure(authenticate(KEY, { baseUrl, signal: controller.signal, fetch }))
    assert.is(error, reason)
    return seen
  }),
)

ending('session: after TIMEOUT the Request itself is aborted and the server sees the connection closed', () =>
  assertExchangeEnds(async (baseUrl) => {
    const { seen, fetch } = dropsInit()
    const session = createSession({ apiKey: KEY, baseUrl, timeout: 50, retries: 0, fetch })
    const error = await failure(session.token())
    assert.is(error.code, 'TIMEOUT')
    return seen
  }),
)

ending.run()
