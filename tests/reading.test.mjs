import { Readable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  ApiVideoAuthError,
  authenticate,
  createSession,
  isApiVideoAuthError,
  readAccessToken,
} from '../dist/index.js'
import { KEY, assertArgumentError, failure, json, scripted, tokenBody } from './helpers/index.mjs'

const KiB = 1024

/** The options of an answer of `POST /auth/api-key`, and of one of `POST /auth/refresh`. */
const API_KEY = { endpoint: 'api-key' }
const REFRESH = { endpoint: 'refresh' }

const read = suite('readAccessToken')

read('reads a token; expiresAt counts from sentAt', async () => {
  const token = await readAccessToken(json(200, tokenBody(1)), { ...API_KEY, sentAt: 1_000 })
  assert.equal(
    { ...token },
    { accessToken: 'access-1', tokenType: 'Bearer', expiresIn: 3600, expiresAt: 1_000 + 3_600_000 },
  )
  assert.is(token.refreshToken, 'refresh-1')
})

read('honours the lifetime it is given (3599), never assumes 3600', async () => {
  const token = await readAccessToken(json(200, tokenBody(1, 3599)), { ...API_KEY, sentAt: 0 })
  assert.is(token.expiresAt, 3_599_000)
})

read('sentAt defaults to now', async () => {
  const before = Date.now()
  const token = await readAccessToken(json(200, tokenBody(1, 10)), API_KEY)
  assert.ok(token.expiresAt >= before + 10_000 && token.expiresAt <= Date.now() + 10_000)
})

read('token_type defaults to Bearer when absent', async () => {
  const { token_type, ...body } = tokenBody(2)
  assert.is((await readAccessToken(json(200, body), API_KEY)).tokenType, 'Bearer')
})

read('the refresh token is readable but not enumerable', async () => {
  const token = await readAccessToken(json(200, tokenBody(3)), REFRESH)
  assert.is(token.refreshToken, 'refresh-3')
  assert.not.ok(JSON.stringify(token).includes('refresh-3'))
  assert.not.ok(Object.keys(token).includes('refreshToken'))
})

const NOT_AN_OBJECT = 'the body is not a JSON object'
const ACCESS_TOKEN = '"access_token" must be 1-8192 visible ASCII characters'
const REFRESH_TOKEN = '"refresh_token" must be 1-8192 visible ASCII characters'
const EXPIRES_IN = '"expires_in" must be a number of seconds from 1 to 86400'
const invalid = [
  ['not JSON', 'oops<html>', NOT_AN_OBJECT],
  ['an array', [], NOT_AN_OBJECT],
  ['null', 'null', NOT_AN_OBJECT],
  ['no access_token', { ...tokenBody(), access_token: undefined }, ACCESS_TOKEN],
  ['an empty access_token', { ...tokenBody(), access_token: '' }, ACCESS_TOKEN],
  ['no refresh_token', { ...tokenBody(), refresh_token: undefined }, REFRESH_TOKEN],
  ['a numeric refresh_token', { ...tokenBody(), refresh_token: 42 }, REFRESH_TOKEN],
  ['expires_in as a string', { ...tokenBody(), expires_in: '3600' }, EXPIRES_IN],
  ['expires_in of 0', { ...tokenBody(), expires_in: 0 }, EXPIRES_IN],
  ['a negative expires_in', { ...tokenBody(), expires_in: -5 }, EXPIRES_IN],
  ['expires_in of null', { ...tokenBody(), expires_in: null }, EXPIRES_IN],
]
for (const [what, body, detail] of invalid) {
  read(`a 200 with ${what} is INVALID_RESPONSE naming what failed, not retryable`, async () => {
    const error = await failure(readAccessToken(json(200, body), API_KEY))
    assert.instance(error, ApiVideoAuthError)
    assert.is(error.code, 'INVALID_RESPONSE')
    assert.is(error.retryable, false)
    assert.is(error.message, `api.video: invalid response (HTTP 200): ${detail}.`)
  })
}

read('INVALID_RESPONSE names the first field that fails, in the order access, refresh, expires_in', async () => {
  const message = async (body) => (await failure(readAccessToken(json(200, body), REFRESH))).message
  const none = { token_type: 'Bearer' }
  assert.match(await message(none), '"access_token"')
  assert.match(await message({ ...none, access_token: 'a' }), '"refresh_token"')
  assert.match(await message({ ...none, access_token: 'a', refresh_token: 'r' }), '"expires_in"')
})

read('an infinite expires_in (1e999 in JSON) is INVALID_RESPONSE naming expires_in', async () => {
  const text = JSON.stringify(tokenBody()).replace('3600', '1e999')
  const error = await failure(readAccessToken(json(200, text), API_KEY))
  assert.is(error.code, 'INVALID_RESPONSE')
  assert.match(error.message, EXPIRES_IN)
})

read('bad arguments are TypeErrors naming the argument, with code ERR_INVALID_ARGUMENT', async () => {
  assertArgumentError(await failure(readAccessToken({}, API_KEY)), 'response')
  assertArgumentError(await failure(readAccessToken(json(200, tokenBody()), { ...API_KEY, sentAt: 'now' })), 'sentAt')
})

read(
  'without options, readAccessToken is a TypeError naming endpoint: the endpoint decides what a 400 means',
  async () => {
    assertArgumentError(await failure(readAccessToken(json(200, tokenBody()))), 'endpoint')
    assertArgumentError(await failure(readAccessToken(json(200, tokenBody()), {})), 'endpoint')
    assertArgumentError(await failure(readAccessToken(json(200, tokenBody()), { sentAt: 0 })), 'endpoint')
  },
)

for (const endpoint of ['api_key', 'auth/refresh', '/auth/api-key', 'Refresh', '', null, 1]) {
  read(`an endpoint of ${JSON.stringify(endpoint)} is a TypeError naming endpoint, not its value`, async () => {
    const error = await failure(readAccessToken(json(400, {}), { endpoint }))
    assertArgumentError(error, 'endpoint')
    assert.match(error.message, "'api-key' or 'refresh'")
    if (typeof endpoint === 'string' && endpoint !== '') assert.not.match(error.message, endpoint)
  })
}

read.run()

const mapping = suite('error mapping')

const PROBLEM = {
  type: 'https://docs.api.video/reference/authentication-invalid-user-credentials',
  title: 'The user credentials were incorrect.',
  name: '',
  status: 400,
}
const rows = [
  [400, 'api-key', 'INVALID_CREDENTIALS', false],
  [401, 'api-key', 'INVALID_CREDENTIALS', false],
  [400, 'refresh', 'INVALID_REFRESH_TOKEN', false],
  [401, 'refresh', 'INVALID_REFRESH_TOKEN', false],
  [403, 'api-key', 'ACCESS_DENIED', false],
  [403, 'refresh', 'ACCESS_DENIED', false],
  [429, 'api-key', 'RATE_LIMITED', true],
  [500, 'api-key', 'SERVER_ERROR', true],
  [503, 'refresh', 'SERVER_ERROR', true],
  [404, 'api-key', 'UNEXPECTED_STATUS', false],
  [302, 'api-key', 'UNEXPECTED_STATUS', false],
]
for (const [status, endpoint, code, retryable] of rows) {
  mapping(`${status} from /auth/${endpoint} is ${code}`, async () => {
    const error = await failure(readAccessToken(json(status, { ...PROBLEM, status }), { endpoint }))
    assert.ok(isApiVideoAuthError(error))
    assert.is(error.code, code)
    assert.is(error.status, status)
    assert.is(error.retryable, retryable)
    assert.is(error.name, 'ApiVideoAuthError')
    assert.match(error.message, `HTTP ${status}`)
  })
}

/** `response` with its `url` set, as fetch sets it (a Response built by hand has an empty one). */
function withUrl(response, url) {
  return Object.defineProperty(response, 'url', { value: url })
}

mapping(
  "a refresh answer's 400 with an empty url, read with endpoint 'refresh', is INVALID_REFRESH_TOKEN",
  async () => {
    const response = json(400, PROBLEM)
    assert.is(response.url, '', 'a Response built by hand, or by a fetch double, has no url')
    const error = await failure(readAccessToken(response, REFRESH))
    assert.is(error.code, 'INVALID_REFRESH_TOKEN')
    assert.match(error.message, 'authenticate with the API key again')
  },
)

mapping("the endpoint given decides, whatever the answer's url says", async () => {
  const fromApiKey = () => withUrl(json(400, PROBLEM), 'https://ws.api.video/auth/api-key')
  const fromRefresh = () => withUrl(json(400, PROBLEM), 'https://ws.api.video/auth/refresh')
  assert.is((await failure(readAccessToken(fromApiKey(), REFRESH))).code, 'INVALID_REFRESH_TOKEN')
  assert.is((await failure(readAccessToken(fromRefresh(), API_KEY))).code, 'INVALID_CREDENTIALS')
})

mapping('the problem body is kept from application/json and application/problem+json', async () => {
  for (const type of ['application/json', 'application/problem+json']) {
    const body = { ...PROBLEM, problems: [{ ...PROBLEM, name: 'apiKey' }] }
    const error = await failure(readAccessToken(json(400, body, { 'content-type': type }), API_KEY))
    assert.equal(error.problem, body)
    assert.match(error.message, 'The user credentials were incorrect.')
  }
})

mapping('an error without a JSON body has no problem', async () => {
  const html = json(502, '<html>bad gateway</html>', { 'content-type': 'text/html' })
  const error = await failure(readAccessToken(html, API_KEY))
  assert.is(error.code, 'SERVER_ERROR')
  assert.is(error.problem, undefined)
  assert.not.ok('problem' in error)
  const array = await failure(readAccessToken(json(500, '[1]'), API_KEY))
  assert.not.ok('problem' in array)
  const nothing = await failure(readAccessToken(json(500, 'null'), REFRESH))
  assert.not.ok('problem' in nothing)
})

mapping('429 takes retryAfter from X-RateLimit-Retry-After, then Retry-After (seconds or a date)', async () => {
  const from = async (headers) => (await failure(readAccessToken(json(429, {}, headers), API_KEY))).retryAfter
  assert.is(await from({ 'x-ratelimit-retry-after': '7', 'retry-after': '99' }), 7)
  assert.is(await from({ 'retry-after': '3' }), 3)
  assert.is(await from({ 'retry-after': '0.5' }), 0.5)
  const date = await from({ 'retry-after': new Date(Date.now() + 60_000).toUTCString() })
  assert.ok(date > 50 && date <= 60, String(date))
  assert.is(await from({ 'retry-after': 'soon' }), undefined)
  assert.is(await from({}), undefined)
})

mapping('isApiVideoAuthError works across realms and rejects look-alikes', async () => {
  const { runInNewContext } = await import('node:vm')
  const foreign = runInNewContext(`const e = new Error('x'); e.name = 'ApiVideoAuthError'; e.code = 'TIMEOUT'; e`)
  assert.not.ok(foreign instanceof Error)
  assert.ok(isApiVideoAuthError(foreign))
  assert.not.ok(isApiVideoAuthError({ name: 'ApiVideoAuthError', code: 'TIMEOUT' }))
  assert.not.ok(isApiVideoAuthError(new Error('x')))
  assert.not.ok(isApiVideoAuthError(null))
  assert.ok(isApiVideoAuthError(new ApiVideoAuthError('TIMEOUT')))
})

mapping.run()

// ---------------------------------------------------------------------------------------------
const bounded = suite('reading: answers are bounded in bytes')

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

bounded('readAccessToken: a 2xx body over 64 KiB is INVALID_RESPONSE and the rest is cancelled', async () => {
  const body = bigBody(validPrefix, '}')
  const error = await failure(readAccessToken(new Response(body.stream, { status: 200 }), API_KEY))
  assert.is(error.code, 'INVALID_RESPONSE')
  assertCut(body)
})

bounded('authenticate: a 2xx body over 64 KiB is INVALID_RESPONSE and the rest is cancelled', async () => {
  const body = bigBody(validPrefix, '}')
  const error = await failure(authenticate(KEY, { fetch: async () => new Response(body.stream, { status: 200 }) }))
  assert.is(error.code, 'INVALID_RESPONSE')
  assertCut(body)
})

for (const [status, code] of [
  [503, 'SERVER_ERROR'],
  [400, 'INVALID_CREDENTIALS'],
]) {
  bounded(`authenticate: a ${status} body over 64 KiB is ${code} and the rest is cancelled`, async () => {
    const body = bigBody('{"title":"x"', '}')
    const error = await failure(authenticate(KEY, { fetch: async () => new Response(body.stream, { status }) }))
    assert.is(error.code, code)
    assertCut(body)
  })
}

bounded('text chunks (a polyfill stream) have no byte count: refused at once, the rest cancelled', async () => {
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

bounded('a body that is not a web stream (a Node stream) is the status code, never a TypeError', async () => {
  const answer = (status) => ({
    status,
    headers: new Headers({ 'content-type': 'application/json' }),
    url: 'https://ws.api.video/auth/api-key',
    body: Readable.from([JSON.stringify(tokenBody(1))]),
    text: async () => JSON.stringify(tokenBody(1)),
  })
  const read = await failure(readAccessToken(answer(200), API_KEY))
  assert.instance(read, ApiVideoAuthError)
  assert.is(read.code, 'INVALID_RESPONSE')
  const session = createSession({ apiKey: KEY, fetch: async () => answer(200), retries: 0 })
  assert.is((await failure(session.token())).code, 'INVALID_RESPONSE')
  assert.is((await failure(authenticate(KEY, { fetch: async () => answer(429) }))).code, 'RATE_LIMITED')
})

bounded('regression: a 60,000-byte token answer is still read', async () => {
  const body = validPrefix + ' '.repeat(60_000 - validPrefix.length - 1) + '}'
  const token = await readAccessToken(new Response(body, { status: 200 }), API_KEY)
  assert.is(token.accessToken, 'a')
})

bounded.run()

// ---------------------------------------------------------------------------------------------
const expiry = suite('reading: expires_in is a sane number')

for (const expiresIn of [1e306, 86_401, 0.5]) {
  expiry(`expires_in ${expiresIn} is INVALID_RESPONSE`, async () => {
    const error = await failure(readAccessToken(json(200, tokenBody(1, expiresIn)), API_KEY))
    assert.is(error.code, 'INVALID_RESPONSE')
    assert.match(error.message, EXPIRES_IN)
    const { fetch } = scripted(() => json(200, tokenBody(1, expiresIn)))
    assert.is((await failure(authenticate(KEY, { fetch }))).code, 'INVALID_RESPONSE')
  })
}

expiry('regression: expires_in 86400 (one day) is accepted', async () => {
  const token = await readAccessToken(json(200, tokenBody(1, 86_400)), { ...API_KEY, sentAt: 1_000 })
  assert.is(token.expiresAt, 1_000 + 86_400_000)
})

expiry.run()

// ---------------------------------------------------------------------------------------------
const headerSafe = suite('reading: tokens must be header-safe')

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
    // Megabytes never reach the field: the body is refused at 64 KiB.
    const detail = value.length > 64 * KiB ? 'the answer is over 65536 bytes' : `"${field}" must be`
    headerSafe(`readAccessToken: a ${field} with ${what} is INVALID_RESPONSE: ${detail}`, async () => {
      const error = await failure(readAccessToken(json(200, { ...tokenBody(1), [field]: value }), API_KEY))
      assert.is(error.code, 'INVALID_RESPONSE')
      assert.match(error.message, detail)
    })
  }
}

headerSafe(
  'session: an access token with CR/LF is INVALID_RESPONSE, never a header, and nothing is cached',
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
  'session: an 8,193-character refresh token is INVALID_RESPONSE at once, not a TypeError at the next renewal',
  async () => {
    const { fetch } = scripted((_, n) => json(200, { ...tokenBody(n), refresh_token: 'r'.repeat(8193) }))
    const session = createSession({ apiKey: KEY, fetch, retries: 0 })
    const error = await failure(session.token())
    assert.is(error.code, 'INVALID_RESPONSE')
  },
)

headerSafe('regression: an 8,192-character refresh token is accepted and sent back on the next renewal', async () => {
  const long = 'r'.repeat(8192)
  const { fetch, requests } = scripted((_, n) => json(200, { ...tokenBody(n), refresh_token: long }))
  const session = createSession({ apiKey: KEY, fetch, retries: 0 })
  assert.is(await session.token(), 'access-1')
  assert.is(await session.token({ forceRefresh: true }), 'access-2')
  assert.equal(new URL(requests[1].url).pathname, '/auth/refresh')
  assert.equal(await requests[1].json(), { refreshToken: long })
})

headerSafe.run()

// ---------------------------------------------------------------------------------------------
const oneLine = suite('reading: ApiVideoAuthError.message is one clean line')

const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/

oneLine('control characters and escape sequences in a problem title never reach message', async () => {
  const title = 'Bad\u001b[2J\u001b[31m red\r\nX-Fake: 1\u0007\u009b31m\u0000 end'
  const error = await failure(authenticate(KEY, { fetch: async () => json(400, { status: 400, title }) }))
  assert.is(error.code, 'INVALID_CREDENTIALS')
  assert.not.match(error.message, CONTROLS, `message ${JSON.stringify(error.message)}`)
})

oneLine('a 10,000-character problem title leaves a message of at most about 300 characters', async () => {
  const title = 'x'.repeat(10_000)
  const error = await failure(authenticate(KEY, { fetch: async () => json(503, { status: 503, title }) }))
  assert.is(error.code, 'SERVER_ERROR')
  assert.ok(error.message.length <= 400, `message is ${error.message.length} characters`)
})

oneLine.run()
