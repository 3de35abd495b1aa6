import { inspect } from 'node:util'
import { MockAgent, getGlobalDispatcher, setGlobalDispatcher } from 'undici'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession, refresh } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { clock, failure, json, recordingIssuedTokens } from './helpers/index.mjs'

const KEY = 'sk_live_THEAPIKEY_0123456789'

/** Everything a secret could leak through: message, stack, cause chain, problem, inspect, JSON. */
function surfaces(value) {
  const parts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? '']
  for (let e = value; e instanceof Error; e = e.cause)
    parts.push(e.message, e.stack ?? '', JSON.stringify(e.problem ?? null))
  return parts.join('\n')
}

/** A stand-in whose issued refresh tokens are all recorded, so tests can look for them. */
function recordingStandIn(now) {
  const standIn = createStandIn({ apiKeys: [KEY], now })
  const { record: fetch, refreshTokens } = recordingIssuedTokens(standIn.fetch)
  return { standIn, fetch, refreshTokens }
}

const secrets = suite('secrets stay secret')

secrets('the session: JSON.stringify, inspect and its properties hold no key or token', async () => {
  const { fetch, refreshTokens } = recordingStandIn()
  const session = createSession({ apiKey: KEY, fetch })
  await session.token()
  assert.is(JSON.stringify(session), '{}')
  const shown = inspect(session, { depth: 10, showHidden: true })
  assert.not.match(shown, KEY)
  assert.not.match(shown, refreshTokens[0])
})

secrets('tokenWithExpiry: the token and its expiry on the session clock, and nothing else', async () => {
  const time = clock()
  const { fetch, refreshTokens } = recordingStandIn(time.now)
  const session = createSession({ apiKey: KEY, fetch, now: time.now })
  const sentAt = time.now()
  const held = await session.tokenWithExpiry()
  assert.equal(held, { token: await session.token(), expiresAt: sentAt + 3_600_000 })
  assert.equal(Object.getOwnPropertyNames(held).sort(), ['expiresAt', 'token'])
  time.tick(120_000)
  const renewed = await session.tokenWithExpiry({ forceRefresh: true })
  assert.is.not(renewed.token, held.token)
  assert.is(renewed.expiresAt, sentAt + 120_000 + 3_600_000)
  const shown = inspect([held, renewed], { showHidden: true }) + JSON.stringify([held, renewed])
  assert.not.match(shown, KEY)
  for (const token of refreshTokens) assert.not.match(shown, token)
})

secrets('a token object: JSON.stringify and inspect leave out the refresh token', async () => {
  const { fetch, refreshTokens } = recordingStandIn()
  const token = await authenticate(KEY, { fetch })
  assert.is(token.refreshToken, refreshTokens[0])
  assert.not.match(JSON.stringify(token), refreshTokens[0])
  assert.not.match(inspect(token), refreshTokens[0])
  assert.not.match(JSON.stringify({ ...token }), refreshTokens[0])
})

secrets('events and errors across every fault carry neither the key nor a refresh token', async () => {
  const time = clock()
  const { standIn, fetch, refreshTokens } = recordingStandIn(time.now)
  const events = []
  const errors = []
  const session = createSession({ apiKey: KEY, fetch, now: time.now, retries: 1, onEvent: (e) => events.push(e) })
  const attempt = () => session.token().catch((e) => errors.push(e))
  await attempt()
  for (const faults of [
    [{ status: 401 }, { status: 503 }],
    [{ networkError: true }],
    [{ status: 429, headers: { 'retry-after': '0' } }],
    [{ status: 200, body: { nope: true } }],
  ]) {
    time.tick(3_600_000)
    standIn.fail('/auth/refresh', ...faults)
    standIn.fail('/auth/api-key', ...faults)
    await attempt()
    await attempt()
  }
  standIn.fail('/auth/api-key', { status: 400 })
  await createSession({ apiKey: KEY, fetch, retries: 0 })
    .token()
    .catch((e) => errors.push(e))
  assert.ok(errors.length >= 3, `errors: ${errors.length}`)
  assert.ok(refreshTokens.length >= 3)
  const text = [...events.map((e) => JSON.stringify(e)), ...errors.map(surfaces)].join('\n')
  assert.not.match(text, KEY)
  for (const token of refreshTokens) assert.not.match(text, token)
})

secrets('a server that echoes the secret in its error body does not leak it', async () => {
  const echo = async (request) => {
    const body = await request.text()
    return new Response(JSON.stringify({ title: `Bad body: ${body}`, name: body, status: 400 }), {
      status: 400,
      headers: { 'content-type': 'application/json' },
    })
  }
  for (const call of [() => authenticate(KEY, { fetch: echo }), () => refresh(`rt_${KEY}`, { fetch: echo })]) {
    const error = await call().catch((e) => e)
    assert.is(error.status, 400)
    assert.not.match(surfaces(error), 'THEAPIKEY')
    assert.match(error.problem.title, '[redacted]')
  }
})

secrets(
  'scrubbing is for error bodies only: a short key that appears in a good answer does not spoil it',
  async () => {
    const body = { token_type: 'Bearer', expires_in: 3600, access_token: 'a-k-a', refresh_token: 'k-r' }
    const token = await authenticate('k', { fetch: async () => new Response(JSON.stringify(body), { status: 200 }) })
    assert.is(token.accessToken, 'a-k-a')
  },
)

secrets('argument errors name the argument, never the value', async () => {
  const error = await authenticate(`${KEY}\n`).catch((e) => e)
  assert.instance(error, TypeError)
  assert.not.match(surfaces(error), 'THEAPIKEY')
  assert.throws(
    () => createSession({ apiKey: ` ${KEY}` }),
    (e) => !surfaces(e).includes('THEAPIKEY'),
  )
})

for (const [what, intercept] of [
  ['no interceptor', () => {}],
  // undici's error then quotes the body it was sent: `Mock dispatch not matched for body '{"apiKey":…}'`.
  [
    'an interceptor for another key',
    (pool) => pool.intercept({ path: '/auth/api-key', method: 'POST', body: '{"apiKey":"test-key"}' }).reply(200, {}),
  ],
]) {
  secrets(`a NETWORK_ERROR through a MockAgent global dispatcher with ${what} holds no key`, async () => {
    const key = 'REAL-PRODUCTION-KEY-123'
    const original = getGlobalDispatcher()
    const agent = new MockAgent()
    agent.disableNetConnect()
    intercept(agent.get('https://ws.api.video'))
    setGlobalDispatcher(agent)
    let error
    try {
      error = await failure(authenticate(key))
    } finally {
      setGlobalDispatcher(original)
      await agent.close()
    }
    assert.is(error.code, 'NETWORK_ERROR')
    assert.not.match(inspect(error), key)
    assert.not.match(surfaces(error), key)
    assert.match(error.message, 'could not reach ws.api.video')
  })
}

secrets(
  'a fetch error that quotes the secret, even JSON-escaped or deep in its causes, is dropped as cause',
  async () => {
    const key = 'sk/live"QUOTED-0123456789'
    const escaped = JSON.stringify(key).slice(1, -1)
    const quoting = [
      new TypeError(`refused ${key}`),
      new TypeError(`refused {"apiKey":"${escaped}"}`),
      new TypeError('fetch failed', { cause: new Error('outer', { cause: new Error(`body ${escaped}`) }) }),
      Object.assign(new TypeError('fetch failed'), { body: `{"apiKey":"${escaped}"}` }),
      // Deeper than its own properties: in an object it holds, and in an AggregateError's (non-enumerable) errors.
      Object.assign(new TypeError('fetch failed'), {
        code: 'ECONNRESET',
        options: { body: `{"apiKey":"${escaped}"}` },
      }),
      new AggregateError([new Error(`body {"apiKey":"${escaped}"}`)], 'fetch failed'),
      // What cannot be read whole cannot be shown clean: a getter that throws, a chain deeper than four levels.
      Object.defineProperty(new TypeError('fetch failed'), 'trap', {
        get() {
          throw new Error('unreadable')
        },
      }),
      Object.assign(new TypeError('fetch failed'), { a: { b: { c: { d: { e: { f: 'too deep to read' } } } } } }),
    ]
    for (const thrown of quoting) {
      const error = await failure(authenticate(key, { fetch: async () => Promise.reject(thrown) }))
      assert.is(error.code, 'NETWORK_ERROR')
      assert.is(error.cause, undefined, thrown.message)
      assert.not.match(surfaces(error), 'QUOTED-0123456789')
    }
    const plain = new TypeError('fetch failed', {
      cause: Object.assign(new Error('refused'), { code: 'ECONNRESET' }),
    })
    const error = await failure(authenticate(key, { fetch: async () => Promise.reject(plain) }))
    assert.is(error.cause, plain, 'a cause that does not quote the secret is kept')
    assert.match(error.message, 'could not reach ws.api.video (ECONNRESET)')
  },
)

secrets.run()

// ---------------------------------------------------------------------------------------------
const scrubbed = suite('secrets are scrubbed after decoding')

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

scrubbed('authenticate: a JSON-escaped echo of the key reaches no message, problem, inspect or JSON', async () => {
  const error = await failure(authenticate(SLASHED_KEY, { fetch: echoing(SLASHED_KEY) }))
  assert.is(error.code, 'INVALID_CREDENTIALS')
  assert.not.match(surfaces(error), SLASHED_KEY)
})

scrubbed(
  'refresh: a JSON-escaped echo of the refresh token reaches no message, problem, inspect or JSON',
  async () => {
    const error = await failure(refresh(SLASHED_REFRESH, { fetch: echoing(SLASHED_REFRESH) }))
    assert.is(error.code, 'INVALID_REFRESH_TOKEN')
    assert.not.match(surfaces(error), SLASHED_REFRESH)
  },
)

scrubbed('session: a JSON-escaped echo of the key reaches no error surface', async () => {
  const session = createSession({ apiKey: SLASHED_KEY, fetch: echoing(SLASHED_KEY), retries: 0 })
  const error = await failure(session.token())
  assert.not.match(surfaces(error), SLASHED_KEY)
})

scrubbed.run()
