// Issue 10 (hardening): one suite per item or small group, each test named with its item number.
// Every test here failed on 0.1.0 unless its name says "regression" (behaviour 0.1.0 already had, kept).
import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  ApiVideoAuthError,
  authenticate,
  authenticateRequest,
  createSession,
  readAccessToken,
  refresh,
  refreshRequest,
} from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, clock, failure, serve, settle, tokenBody } from './helpers.mjs'

const KiB = 1024

function json(status, body, headers) {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/** A fetch answering every call with `answer(request, n)` (n counts from 1); `requests` records what was sent. */
function scripted(answer) {
  const requests = []
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    requests.push(request)
    return answer(request, requests.length)
  }
  return { fetch, requests }
}

async function* generatedBody() {
  yield new TextEncoder().encode('hello ')
  yield new TextEncoder().encode('world')
}

// ---------------------------------------------------------------------------------------------
const oneShot = suite('#1 session.fetch: one-shot bodies are never re-sent')

/** A stand-in on a loopback server that records the byte length of every body sent to /videos/vi1/source. */
async function uploadServer() {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const uploads = []
  const server = await serve(async (request) => {
    if (new URL(request.url).pathname === '/videos/vi1/source')
      uploads.push((await request.clone().arrayBuffer()).byteLength)
    return standIn.handler(request)
  })
  const session = createSession({
    apiKey: KEY,
    baseUrl: server.url,
    fetch: (input, init) => globalThis.fetch(input, init),
  })
  await session.token()
  standIn.revoke()
  return { ...server, session, uploads }
}

const oneShotBodies = {
  'an async-generator body': () => generatedBody(),
  'a Node Readable (Readable.from)': () => Readable.from([Buffer.from('hello '), Buffer.from('world')]),
  'a ReadableStream (regression)': () =>
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('hello world'))
        controller.close()
      },
    }),
}

for (const [kind, body] of Object.entries(oneShotBodies)) {
  oneShot(`#1 ${kind} is never re-sent: its 401 is returned, sent once`, async () => {
    const { url, close, session, uploads } = await uploadServer()
    try {
      const response = await session.fetch(`${url}/videos/vi1/source`, {
        method: 'POST',
        body: body(),
        duplex: 'half',
      })
      assert.is(response.status, 401, 'the caller gets the 401 of its one send')
      assert.equal(uploads, [11], 'the server saw exactly one upload, with all its bytes')
    } finally {
      await close()
    }
  })
}

oneShot(
  '#1 regression: bytes, a string, a Blob, FormData and URLSearchParams are still replayed after a 401',
  async () => {
    const bodies = [
      new TextEncoder().encode('hello world'),
      'hello world',
      new Blob(['hello world']),
      new URLSearchParams({ a: 'hello world' }),
    ]
    for (const body of bodies) {
      const { url, close, session, uploads } = await uploadServer()
      try {
        const response = await session.fetch(`${url}/videos/vi1/source`, { method: 'POST', body })
        assert.is(response.status, 200)
        assert.is(uploads.length, 2)
        assert.is(uploads[1], uploads[0], 'the replay carries the same bytes')
        assert.ok(uploads[0] > 0)
      } finally {
        await close()
      }
    }
    const form = new FormData()
    form.set('title', 'hello world')
    const { url, close, session, uploads } = await uploadServer()
    try {
      assert.is((await session.fetch(`${url}/videos/vi1/source`, { method: 'POST', body: form })).status, 200)
      assert.is(uploads.length, 2)
      assert.ok(uploads[0] > 0 && uploads[1] > 0)
    } finally {
      await close()
    }
  },
)

oneShot.run()

// ---------------------------------------------------------------------------------------------
const headerSafe = suite('#2 tokens must be header-safe')

const UNSAFE = {
  'CR/LF': 'abc\r\nX-Injected: yes',
  'a control character': 'abc\u0001def',
  DEL: 'abc\u007fdef',
  'a space': 'abc def',
  'non-ASCII': 'abc\u00e9def',
  '8,193 characters': 'a'.repeat(8193),
  megabytes: 'a'.repeat(2 * 1024 * 1024),
}

for (const field of ['access_token', 'refresh_token']) {
  for (const [what, value] of Object.entries(UNSAFE)) {
    headerSafe(`#2 readAccessToken: a ${field} with ${what} is INVALID_RESPONSE`, async () => {
      const error = await failure(readAccessToken(json(200, { ...tokenBody(1), [field]: value })))
      assert.is(error.code, 'INVALID_RESPONSE')
    })
  }
}

headerSafe(
  '#2 session: an access token with CR/LF is INVALID_RESPONSE, never a header, and nothing is cached',
  async () => {
    const { fetch, requests } = scripted((_, n) =>
      json(200, n === 1 ? { ...tokenBody(1), access_token: 'abc\r\nX-Injected: yes' } : tokenBody(n)),
    )
    const session = createSession({ apiKey: KEY, fetch, retries: 0 })
    const error = await failure(session.authorization())
    assert.is(error.code, 'INVALID_RESPONSE')
    assert.is(await session.authorization(), 'Bearer access-2', 'the bad answer was not cached')
    assert.is(requests.length, 2)
  },
)

headerSafe(
  '#2 session: an 8,193-character refresh token is INVALID_RESPONSE at once, not a TypeError at the next renewal',
  async () => {
    const { fetch } = scripted((_, n) => json(200, { ...tokenBody(n), refresh_token: 'r'.repeat(8193) }))
    const session = createSession({ apiKey: KEY, fetch, retries: 0 })
    const error = await failure(session.token())
    assert.is(error.code, 'INVALID_RESPONSE')
  },
)

headerSafe(
  '#2 regression: an 8,192-character refresh token is accepted and sent back on the next renewal',
  async () => {
    const long = 'r'.repeat(8192)
    const { fetch, requests } = scripted((_, n) => json(200, { ...tokenBody(n), refresh_token: long }))
    const session = createSession({ apiKey: KEY, fetch, retries: 0 })
    assert.is(await session.token(), 'access-1')
    assert.is(await session.token({ forceRefresh: true }), 'access-2')
    assert.equal(new URL(requests[1].url).pathname, '/auth/refresh')
    assert.equal(await requests[1].json(), { refreshToken: long })
  },
)

headerSafe.run()

// ---------------------------------------------------------------------------------------------
const bounded = suite('#3 answers are bounded in bytes')

/**
 * A 1 MiB body (`prefix`, spaces, `suffix`: valid JSON if they are) pulled in 8 KiB chunks;
 * `pulled` counts the bytes handed out, `cancelled` says whether the reader cancelled it.
 */
function bigBody(prefix, suffix = '', total = 1024 * KiB) {
  const state = { pulled: 0, cancelled: false }
  const encoder = new TextEncoder()
  const chunk = encoder.encode(' '.repeat(8 * KiB))
  state.stream = new ReadableStream(
    {
      pull(controller) {
        if (state.pulled === 0) {
          const first = encoder.encode(prefix)
          state.pulled += first.byteLength
          controller.enqueue(first)
        } else if (state.pulled < total) {
          state.pulled += chunk.byteLength
          controller.enqueue(chunk)
        } else {
          controller.enqueue(encoder.encode(suffix))
          controller.close()
        }
      },
      cancel() {
        state.cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return state
}

const validPrefix = '{"token_type":"Bearer","expires_in":3600,"access_token":"a","refresh_token":"b"'

function assertCut(body) {
  assert.ok(body.cancelled, 'the rest of the body was cancelled')
  assert.ok(body.pulled < 200 * KiB, `read ${body.pulled} bytes, expected under 200 KiB`)
}

bounded('#3 readAccessToken: a 2xx body over 64 KiB is INVALID_RESPONSE and the rest is cancelled', async () => {
  const body = bigBody(validPrefix, '}')
  const error = await failure(readAccessToken(new Response(body.stream, { status: 200 })))
  assert.is(error.code, 'INVALID_RESPONSE')
  assertCut(body)
})

bounded('#3 authenticate: a 2xx body over 64 KiB is INVALID_RESPONSE and the rest is cancelled', async () => {
  const body = bigBody(validPrefix, '}')
  const error = await failure(authenticate(KEY, { fetch: async () => new Response(body.stream, { status: 200 }) }))
  assert.is(error.code, 'INVALID_RESPONSE')
  assertCut(body)
})

for (const [status, code] of [
  [503, 'SERVER_ERROR'],
  [400, 'INVALID_CREDENTIALS'],
]) {
  bounded(`#3 authenticate: a ${status} body over 64 KiB is ${code} and the rest is cancelled`, async () => {
    const body = bigBody('{"title":"x"', '}')
    const error = await failure(authenticate(KEY, { fetch: async () => new Response(body.stream, { status }) }))
    assert.is(error.code, code)
    assertCut(body)
  })
}

bounded('#3 text chunks (a polyfill stream) have no byte count: refused at once, the rest cancelled', async () => {
  // Counting `chunk.byteLength` of text made the size NaN, so every megabyte of text was read, into the error's title.
  const state = { pulled: 0, cancelled: false }
  const stream = new ReadableStream(
    {
      pull(controller) {
        state.pulled++
        if (state.pulled > 16) return controller.close()
        controller.enqueue(state.pulled === 1 ? '{"title":"' : 'x'.repeat(1024 * KiB))
      },
      cancel: () => void (state.cancelled = true),
    },
    { highWaterMark: 0 },
  )
  const response = { status: 503, headers: new Headers(), url: '', body: stream, text: () => '' }
  const error = await failure(authenticate(KEY, { fetch: async () => response }))
  assert.is(error.code, 'SERVER_ERROR')
  assert.is(error.problem, undefined)
  assert.ok(state.cancelled, 'the rest was cancelled')
  assert.ok(state.pulled <= 2, `${state.pulled} chunks pulled`)
})

bounded('#3 a body that is not a web stream (a Node stream) is the status code, never a TypeError', async () => {
  const answer = (status) => ({
    status,
    headers: new Headers({ 'content-type': 'application/json' }),
    url: 'https://ws.api.video/auth/api-key',
    body: Readable.from([JSON.stringify(tokenBody(1))]),
    text: async () => JSON.stringify(tokenBody(1)),
  })
  const read = await failure(readAccessToken(answer(200)))
  assert.instance(read, ApiVideoAuthError)
  assert.is(read.code, 'INVALID_RESPONSE')
  const session = createSession({ apiKey: KEY, fetch: async () => answer(200), retries: 0 })
  assert.is((await failure(session.token())).code, 'INVALID_RESPONSE')
  assert.is((await failure(authenticate(KEY, { fetch: async () => answer(429) }))).code, 'RATE_LIMITED')
})

bounded('#3 regression: a 60,000-byte token answer is still read', async () => {
  const body = validPrefix + ' '.repeat(60_000 - validPrefix.length - 1) + '}'
  const token = await readAccessToken(new Response(body, { status: 200 }))
  assert.is(token.accessToken, 'a')
})

bounded.run()

// ---------------------------------------------------------------------------------------------
const ending = suite('#4 a timeout or an abort ends the exchange')

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

ending('#4 authenticate: after TIMEOUT the Request itself is aborted and the server sees the connection closed', () =>
  assertExchangeEnds(async (baseUrl) => {
    const { seen, fetch } = dropsInit()
    const error = await failure(authenticate(KEY, { baseUrl, timeout: 50, fetch }))
    assert.is(error.code, 'TIMEOUT')
    assert.is(seen.length, 1)
    return seen
  }),
)

ending("#4 authenticate: after the caller's abort the Request itself is aborted and the server sees it closed", () =>
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

ending('#4 session: after TIMEOUT the Request itself is aborted and the server sees the connection closed', () =>
  assertExchangeEnds(async (baseUrl) => {
    const { seen, fetch } = dropsInit()
    const session = createSession({ apiKey: KEY, baseUrl, timeout: 50, retries: 0, fetch })
    const error = await failure(session.token())
    assert.is(error.code, 'TIMEOUT')
    return seen
  }),
)

ending.run()

// ---------------------------------------------------------------------------------------------
const retryAfter = suite('#5 Retry-After is bounded and parsed strictly')

const HOUR = 3_600_000

for (const [what, value] of [
  ['an epoch mistaken for seconds (1e10)', '10000000000'],
  ['400 digits (Infinity)', '9'.repeat(400)],
]) {
  retryAfter(`#5 Retry-After of ${what}: the lockout ends within an hour`, async () => {
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

retryAfter('#5 a lockout never outlasts an hour, even when the clock goes back a day after it began', async () => {
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

retryAfter('#5 Retry-After "5, 5" (two headers) is not a number nor a date: retryAfter undefined', async () => {
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

retryAfter('#5 Retry-After "5, 5" in a session falls back to the normal backoff, not 0', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  standIn.fail('/auth/api-key', {
    status: 429,
    headers: [
      ['retry-after', '5'],
      ['retry-after', '5'],
    ],
  })
  const events = []
  const original = Math.random
  Math.random = () => 0.01
  try {
    const session = createSession({ apiKey: KEY, fetch: standIn.fetch, retries: 1, onEvent: (e) => events.push(e) })
    assert.type(await session.token(), 'string')
  } finally {
    Math.random = original
  }
  const retry = events.find((e) => e.type === 'retry')
  assert.ok(retry, 'one retry')
  assert.ok(retry.delay > 0, `the retry waited the backoff, got delay ${retry.delay}`)
})

retryAfter.run()

// ---------------------------------------------------------------------------------------------
const scrubbed = suite('#6 secrets are scrubbed after decoding')

const SLASHED_KEY = 'ab/cd-S3cretKey-0123456789'
const SLASHED_REFRESH = 'rt/9f-S3cretRefresh-0123456789'
const unicodeEscaped = (s) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')
const slashEscaped = (s) => s.replace(/\//g, '\\/')

/** A proxy's 400 echoing the secret JSON-escaped in every way, top level and nested. */
function echoing(secret) {
  const text =
    `{"type":"https://docs.api.video/reference/x","title":"bad ${unicodeEscaped(secret)}",` +
    `"name":"${slashEscaped(secret)}","status":400,"detail":"${slashEscaped(secret)}",` +
    `"problems":[{"title":"${unicodeEscaped(secret)}","name":"${slashEscaped(secret)}"}]}`
  assert.not.match(text, secret)
  return async () => json(400, text)
}

function surfaces(error) {
  return [
    error.message,
    error.stack ?? '',
    JSON.stringify(error),
    JSON.stringify(error.problem ?? null),
    inspect(error, { depth: 10, showHidden: true }),
  ].join('\n')
}

scrubbed('#6 authenticate: a JSON-escaped echo of the key reaches no message, problem, inspect or JSON', async () => {
  const error = await failure(authenticate(SLASHED_KEY, { fetch: echoing(SLASHED_KEY) }))
  assert.is(error.code, 'INVALID_CREDENTIALS')
  assert.not.match(surfaces(error), SLASHED_KEY)
})

scrubbed(
  '#6 refresh: a JSON-escaped echo of the refresh token reaches no message, problem, inspect or JSON',
  async () => {
    const error = await failure(refresh(SLASHED_REFRESH, { fetch: echoing(SLASHED_REFRESH) }))
    assert.is(error.code, 'INVALID_REFRESH_TOKEN')
    assert.not.match(surfaces(error), SLASHED_REFRESH)
  },
)

scrubbed('#6 session: a JSON-escaped echo of the key reaches no error surface', async () => {
  const session = createSession({ apiKey: SLASHED_KEY, fetch: echoing(SLASHED_KEY), retries: 0 })
  const error = await failure(session.token())
  assert.not.match(surfaces(error), SLASHED_KEY)
})

scrubbed.run()

// ---------------------------------------------------------------------------------------------
const listener = suite('#7 an async onEvent cannot crash the process')

listener('#7 an onEvent returning a rejected promise causes no unhandledRejection', async () => {
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
const numbers = suite('#9 numbers are honoured or refused')

const TOO_LONG = 2 ** 31

/** Answers after a 10 ms timer: a timeout wrongly turned into 1 ms fires first (timers run in expiry order). */
function answersAfterTenMs() {
  const { fetch, requests } = scripted(
    (_, n) => new Promise((resolve) => setTimeout(() => resolve(json(200, tokenBody(n))), 10)),
  )
  return { fetch, requests }
}

numbers(
  '#9 authenticate: a timeout of 2**31 ms is refused (TypeError naming timeout) or honoured, never 1 ms',
  async () => {
    const { fetch, requests } = answersAfterTenMs()
    let outcome
    try {
      outcome = await authenticate(KEY, { fetch, timeout: TOO_LONG })
    } catch (error) {
      outcome = error
    }
    if (outcome instanceof TypeError) {
      assert.match(outcome.message, /\btimeout\b/)
      assert.is(requests.length, 0, 'refused before sending')
    } else {
      assert.not.instance(outcome, Error, `got ${outcome?.code ?? outcome}`)
      assert.is(outcome.accessToken, 'access-1')
    }
  },
)

numbers(
  '#9 createSession: a timeout of 2**31 ms is refused (TypeError naming timeout) or honoured, never 1 ms',
  async () => {
    const { fetch, requests } = answersAfterTenMs()
    let session
    try {
      session = createSession({ apiKey: KEY, fetch, retries: 0, timeout: TOO_LONG })
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, /\btimeout\b/)
      return
    }
    let outcome
    try {
      outcome = await session.token()
    } catch (error) {
      outcome = error
    }
    assert.is(outcome, 'access-1', `got ${outcome?.code ?? outcome}`)
    assert.is(requests.length, 1)
  },
)

for (const expiresIn of [1e306, 86_401]) {
  numbers(`#9 expires_in ${expiresIn} is INVALID_RESPONSE`, async () => {
    const error = await failure(readAccessToken(json(200, tokenBody(1, expiresIn))))
    assert.is(error.code, 'INVALID_RESPONSE')
    const { fetch } = scripted(() => json(200, tokenBody(1, expiresIn)))
    assert.is((await failure(authenticate(KEY, { fetch }))).code, 'INVALID_RESPONSE')
  })
}

numbers('#9 regression: expires_in 86400 (one day) is accepted', async () => {
  const token = await readAccessToken(json(200, tokenBody(1, 86_400)), { sentAt: 1_000 })
  assert.is(token.expiresAt, 1_000 + 86_400_000)
})

numbers.run()

// ---------------------------------------------------------------------------------------------
const bareBase = suite('#11 a base URL ending in a bare ? or # is refused')

for (const base of [
  'https://ws.api.video?',
  'https://ws.api.video#',
  'https://ws.api.video/?',
  'https://ws.api.video/#',
]) {
  bareBase(`#11 ${base} is refused by the builders, authenticate and createSession`, async () => {
    const { fetch, requests } = scripted(() => json(200, tokenBody()))
    assert.throws(
      () => authenticateRequest(KEY, { baseUrl: base }),
      (e) => e instanceof TypeError && /baseUrl/.test(e.message),
    )
    assert.throws(
      () => refreshRequest('refresh-1', { baseUrl: base }),
      (e) => e instanceof TypeError && /baseUrl/.test(e.message),
    )
    assert.throws(
      () => createSession({ apiKey: KEY, baseUrl: base, fetch }),
      (e) => e instanceof TypeError && /baseUrl/.test(e.message),
    )
    const error = await failure(authenticate(KEY, { baseUrl: base, fetch }))
    assert.instance(error, TypeError)
    assert.match(error.message, /baseUrl/)
    assert.is(requests.length, 0)
  })
}

bareBase.run()

// ---------------------------------------------------------------------------------------------
const oneLine = suite('#12 ApiVideoAuthError.message is one clean line')

const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/

oneLine('#12 control characters and escape sequences in a problem title never reach message', async () => {
  const title = 'Bad\u001b[2J\u001b[31m red\r\nX-Fake: 1\u0007\u009b31m\u0000 end'
  const error = await failure(authenticate(KEY, { fetch: async () => json(400, { status: 400, title }) }))
  assert.is(error.code, 'INVALID_CREDENTIALS')
  assert.not.match(error.message, CONTROLS, `message ${JSON.stringify(error.message)}`)
})

oneLine('#12 a 10,000-character problem title leaves a message of at most about 300 characters', async () => {
  const title = 'x'.repeat(10_000)
  const error = await failure(authenticate(KEY, { fetch: async () => json(503, { status: 503, title }) }))
  assert.is(error.code, 'SERVER_ERROR')
  assert.ok(error.message.length <= 400, `message is ${error.message.length} characters`)
})

oneLine.run()

// ---------------------------------------------------------------------------------------------
const sharedSignal = suite('#13 one AbortSignal shared by many callers')

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
  '#13 50 concurrent token() callers with one signal during one renewal: at most 1 abort listener',
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

sharedSignal('#13 regression: aborting the shared signal stops every waiting caller', async () => {
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

sharedSignal.run()

// ---------------------------------------------------------------------------------------------
const gaps = suite('#15 option gaps')

gaps('#15 createSession refuses a signal option (unknown option) with a TypeError naming signal', () => {
  const { fetch } = scripted(() => json(200, tokenBody()))
  const signal = new AbortController().signal
  assert.throws(
    () => createSession({ apiKey: KEY, fetch, signal }),
    (e) => e instanceof TypeError && /\bsignal\b/.test(e.message),
  )
})

gaps('#15 a now returning a Date: TypeError naming now on the first token(), and no request sent', async () => {
  const { fetch, requests } = scripted((_, n) => json(200, tokenBody(n)))
  let session
  try {
    session = createSession({ apiKey: KEY, fetch, now: () => new Date() })
  } catch (thrown) {
    assert.instance(thrown, TypeError)
    assert.match(thrown.message, /\bnow\b/)
    return
  }
  const error = await session.token().then(
    (token) => `resolved with ${token}`,
    (e) => e,
  )
  assert.instance(error, TypeError, String(error))
  assert.match(error.message, /\bnow\b/)
  assert.is(requests.length, 0)
})

gaps(
  '#15 a signal-like { aborted: false } given to token() is a TypeError naming signal, and nothing is sent',
  async () => {
    const { fetch, requests } = scripted((_, n) => json(200, tokenBody(n)))
    const session = createSession({ apiKey: KEY, fetch })
    const error = await failure(session.token({ signal: { aborted: false } }))
    assert.instance(error, TypeError)
    assert.match(error.message, /\bsignal\b/, error.message)
    assert.not.match(error.message, /is not a function/, 'an argument check, not a crash')
    await settle()
    assert.is(requests.length, 0)
  },
)

gaps(
  '#15 a signal-like { aborted: false } given to authenticate is a TypeError naming signal, and nothing is sent',
  async () => {
    const { fetch, requests } = scripted((_, n) => json(200, tokenBody(n)))
    const error = await failure(authenticate(KEY, { fetch, signal: { aborted: false } }))
    assert.instance(error, TypeError)
    assert.match(error.message, /\bsignal\b/, error.message)
    assert.not.match(error.message, /is not a function/, 'an argument check, not a crash')
    assert.is(requests.length, 0)
  },
)

gaps.run()

// ---------------------------------------------------------------------------------------------
const clocks = suite('#16 the default clock: performance.now(), catching up with Date.now()')

/**
 * Stubs the two clocks: `wall` for Date.now, `elapsed` for performance.now (ms since timeOrigin).
 * The core must read performance.now at call time (not a reference captured at import).
 */
async function withClocks(run) {
  const realDateNow = Date.now
  const start = performance.now()
  const state = { wall: realDateNow(), elapsed: start }
  Date.now = () => state.wall
  performance.now = () => state.elapsed
  try {
    await run(state)
  } finally {
    Date.now = realDateNow
    delete performance.now
  }
}

/** A stand-in granting 60 s tokens on the monotonic clock, and a session with its default clock, no retries. */
function minuteTokens() {
  const standIn = createStandIn({
    apiKeys: [KEY],
    expiresIn: 60,
    now: () => performance.timeOrigin + performance.now(),
  })
  return { standIn, session: createSession({ apiKey: KEY, fetch: standIn.fetch, retries: 0 }) }
}

clocks(
  '#16 a wall clock stepped back by exactly the time elapsed does not make token() serve an expired token',
  async () => {
    // What this proves: the token's age comes from the monotonic clock. 61 s pass on performance.now()
    // (a 60 s token has expired) while Date.now() shows the moment the token arrived (an NTP step back of 61 s).
    // A session that ages tokens on Date.now sees a token 0 s old and serves it; one on performance.now renews.
    await withClocks(async (clocks) => {
      const { standIn, session } = minuteTokens()
      const first = await session.token()
      clocks.elapsed += 61_000
      const second = await session.token()
      assert.is(standIn.requests.length, 2, 'the expired token was renewed')
      assert.is.not(second, first)
    })
  },
)

clocks('#16 regression: a wall clock stepped back 2 hours after expiry still renews', async () => {
  await withClocks(async (clocks) => {
    const { standIn, session } = minuteTokens()
    await session.token()
    clocks.elapsed += 61_000
    clocks.wall -= 2 * HOUR
    await session.token()
    assert.is(standIn.requests.length, 2)
  })
})

clocks('a machine that slept: performance.now() stood still while Date.now() moved on 2 hours: renewed', async () => {
  // A monotonic clock stops during suspend (CLOCK_MONOTONIC, mach_absolute_time); api.video's clock does not.
  await withClocks(async (clocks) => {
    const { standIn, session } = minuteTokens()
    const first = await session.token()
    clocks.wall += 2 * HOUR
    assert.is.not(await session.token(), first)
    assert.is(standIn.requests.length, 2)
  })
})

clocks(
  'a wall clock ahead (after a sleep) then stepped back 1 s: the clock does not run back, no clock-jump',
  async () => {
    await withClocks(async (clocks) => {
      const { standIn } = minuteTokens()
      clocks.wall += 2 * HOUR
      const events = []
      const watched = createSession({ apiKey: KEY, fetch: standIn.fetch, onEvent: (e) => events.push(e.type) })
      const first = await watched.token()
      clocks.wall -= 1000
      assert.is(await watched.token(), first)
      assert.equal(events, ['authenticated'])
    })
  },
)

clocks('without performance (or its timeOrigin), the default clock is Date.now', async () => {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'performance')
  for (const stand of [undefined, { now: () => 0 }]) {
    Object.defineProperty(globalThis, 'performance', { configurable: true, value: stand })
    try {
      const time = clock()
      const realDateNow = Date.now
      Date.now = time.now
      try {
        const standIn = createStandIn({ apiKeys: [KEY], expiresIn: 60, now: time.now })
        const session = createSession({ apiKey: KEY, fetch: standIn.fetch, retries: 0 })
        const first = await session.token()
        assert.is(await session.token(), first)
        time.tick(61_000)
        assert.is.not(await session.token(), first)
      } finally {
        Date.now = realDateNow
      }
    } finally {
      Object.defineProperty(globalThis, 'performance', descriptor)
    }
  }
})

clocks(
  '#16 a cached token() reads its clock once: one performance.now() and one Date.now(), no timeOrigin',
  async () => {
    await withClocks(async () => {
      const { session } = minuteTokens()
      const first = await session.token()
      const reads = { now: 0, timeOrigin: 0, dateNow: 0 }
      const { now } = performance
      const origin = performance.timeOrigin
      const dateNow = Date.now
      performance.now = () => (reads.now++, now())
      Object.defineProperty(performance, 'timeOrigin', {
        configurable: true,
        get: () => (reads.timeOrigin++, origin),
      })
      Date.now = () => (reads.dateNow++, dateNow())
      try {
        assert.is(await session.token(), first)
      } finally {
        delete performance.timeOrigin
        Date.now = dateNow
      }
      assert.equal(reads, { now: 1, timeOrigin: 0, dateNow: 1 })
    })
  },
)

clocks.run()

// ---------------------------------------------------------------------------------------------
const fresh401 = suite('#18 a 401 on a fresh token does not renew again')

/** A resource that refuses every token with 401; the auth endpoints always grant. */
function alwaysRefused() {
  let auth = 0
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    if (new URL(request.url).pathname.startsWith('/auth/')) return json(200, tokenBody(++auth))
    return json(401, { status: 401, title: 'The access token is invalid or expired.' })
  }
  return { fetch, auth: () => auth }
}

fresh401('#18 20 sequential session.fetch calls answered 401 make at most 2 auth requests', async () => {
  const time = clock()
  const api = alwaysRefused()
  const session = createSession({ apiKey: KEY, fetch: api.fetch, now: time.now })
  for (let i = 0; i < 20; i++) {
    assert.is((await session.fetch('https://ws.api.video/videos')).status, 401)
  }
  assert.ok(api.auth() <= 2, `${api.auth()} auth requests`)
})

fresh401('#18 a 401 on a token older than a minute does renew', async () => {
  const time = clock()
  const api = alwaysRefused()
  const session = createSession({ apiKey: KEY, fetch: api.fetch, now: time.now })
  for (let i = 0; i < 5; i++) await session.fetch('https://ws.api.video/videos')
  const before = api.auth()
  assert.ok(before <= 2, `${before} auth requests`)
  time.tick(61_000)
  assert.is((await session.fetch('https://ws.api.video/videos')).status, 401)
  assert.is(api.auth(), before + 1, 'one renewal for the 401 on a token older than a minute')
})

fresh401.run()
