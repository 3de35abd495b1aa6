// The shared runtime suite: written once, run by every runtime's entry against the BUILT package.
// An entry passes `lib` (the package), `testing` (its /testing subpath) and `serve(handler)` when the
// runtime can listen on 127.0.0.1, or `serve: undefined` to inject the stand-in's fetch instead.
import { equal, ok, rejection, throws } from './assert.mjs'

const KEY = 'test-key'
const HOUR = 3_600_000
/** The session's default margin (300 s) plus its largest jitter (50%). */
const LATEST_DUE = HOUR - 300_000
const EARLIEST_DUE = HOUR - 450_000

/** A stand-in api.video, behind a real loopback server when the runtime has one. */
async function api({ testing, serve }, standInOptions) {
  const standIn = testing.createStandIn({ apiKeys: [KEY], ...standInOptions })
  const paths = () => standIn.requests.map((r) => r.path)
  if (!serve)
    return { standIn, paths, base: 'https://ws.api.video', options: { fetch: standIn.fetch }, close: async () => {} }
  const server = await serve(standIn.handler)
  return { standIn, paths, base: server.url, options: { baseUrl: server.url }, close: server.close }
}

/** Runs `fn` with a stand-in, closing its server afterwards. */
async function withApi(ctx, fn, standInOptions) {
  const a = await api(ctx, standInOptions)
  try {
    await fn(a)
  } finally {
    await a.close()
  }
}

function clock(start = 1_700_000_000_000) {
  let t = start
  return { now: () => t, tick: (ms) => (t += ms) }
}

function tokenResponse(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks: the apivideo-auth/webhooks add-on (ctx.webhooks) and the stand-in's deliveries
// ---------------------------------------------------------------------------------------------------------------

const WEBHOOK_EVENT = { type: 'video.encoding.quality.completed', videoId: 'vi1', encoding: 'hls', quality: '720p' }

/**
 * A receiver that verifies each delivery with `receiver.secret` (set once the webhook exists), served by the
 * runtime when it can listen, else called directly through `receiver.fetch`.
 */
async function webhookReceiver(ctx) {
  const receiver = { received: [], secret: undefined }
  const handler = async (request) => {
    try {
      receiver.received.push(await ctx.webhooks.verifyWebhook(request, { secret: () => receiver.secret }))
      return new Response(null, { status: 204 })
    } catch (error) {
      receiver.received.push(error.code)
      return new Response(null, { status: error.code === 'INVALID_SIGNATURE' ? 401 : 400 })
    }
  }
  if (!ctx.serve) {
    const fetch = async (url, init) => handler(new Request(url, init))
    return Object.assign(receiver, { url: 'http://127.0.0.1/hook', options: { fetch }, close: async () => {} })
  }
  const server = await ctx.serve(handler)
  return Object.assign(receiver, { url: `${server.url}/hook`, options: {}, close: server.close })
}

/** Creates a webhook on the stand-in through a session; its lookups are the stand-in's GET /webhooks/{id}. */
async function createWebhook(session, url) {
  const response = await session.fetch('/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['video.encoding.quality.completed'] }),
  })
  equal(response.status, 201)
  return response.json()
}

const webhookTests = [
  [
    "webhooks: the stand-in's signed delivery passes from the runtime's Request; a forged one is retried, refused",
    async (ctx) => {
      await withApi(ctx, async ({ standIn, options }) => {
        const session = ctx.lib.createSession({ apiKey: KEY, ...options })
        const hook = await webhookReceiver(ctx)
        try {
          hook.secret = (await createWebhook(session, hook.url)).signatureSecret
          const [delivery] = await standIn.deliver(WEBHOOK_EVENT, hook.options)
          equal([delivery.statuses, delivery.delivered], [[204], true])
          const event = hook.received[0]
          equal([event.type, event.videoId, event.quality], [WEBHOOK_EVENT.type, 'vi1', '720p'])
          ok(!Number.isNaN(Date.parse(event.emittedAt)), 'emittedAt is a date')
          const waits = []
          const forged = await ctx.testing.deliverWebhook(hook.url, WEBHOOK_EVENT, {
            secret: 'sig_sec_forged',
            retry: true,
            wait: async (ms) => void waits.push(ms),
            ...hook.options,
          })
          equal(
            [forged.statuses, waits],
            [
              [401, 401, 401, 401],
              [3000, 3000, 3000],
            ],
          )
          equal(hook.received.slice(1), Array(4).fill('INVALID_SIGNATURE'))
        } finally {
          await hook.close()
        }
      })
    },
  ],

  [
    'webhooks: webhookSecrets looks a secret up once for many deliveries, and forged IDs a bounded number of times',
    async (ctx) => {
      const time = clock()
      await withApi(
        ctx,
        async ({ standIn, options, paths }) => {
          const session = ctx.lib.createSession({ apiKey: KEY, ...options, now: time.now })
          const webhook = await createWebhook(session, 'http://127.0.0.1:9/hook')
          const body = JSON.stringify({ ...WEBHOOK_EVENT, emittedAt: new Date(time.now()).toISOString() })
          const signature = await ctx.testing.signWebhook(body, webhook.signatureSecret)
          const input = (id) => ({
            headers: { 'x-api-video-webhookid': id, 'x-api-video-signature': signature },
            body,
          })
          const secret = ctx.webhooks.webhookSecrets(session, { now: time.now })
          const lookups = () => paths().filter((p) => p.startsWith('/webhooks/')).length
          const events = await Promise.all(
            Array.from({ length: 20 }, () => ctx.webhooks.verifyWebhook(input(webhook.webhookId), { secret })),
          )
          equal(new Set(events.map((e) => e.videoId)).size, 1)
          equal(lookups(), 1)
          for (let i = 0; i < 50; i++) {
            const error = await rejection(ctx.webhooks.verifyWebhook(input(`webhook_forged${i}`), { secret }))
            equal(error.code, 'INVALID_SIGNATURE')
          }
          equal(lookups(), 5)
          ok(standIn.requests.every((r) => r.credential === 'bearer' || r.path === '/auth/api-key'))
        },
        { now: time.now, keepRequests: Infinity },
      )
    },
  ],

  [
    'webhooks: refusals carry their codes and isApiVideoAuthError knows them; a large streamed body is cut short',
    async (ctx) => {
      const { verifyWebhook } = ctx.webhooks
      const secret = 'sig_sec_runtime'
      const body = JSON.stringify({ ...WEBHOOK_EVENT, emittedAt: '2026-01-01T00:00:00+00:00' })
      const signature = await ctx.testing.signWebhook(body, secret)
      const headers = new Headers({ 'X-Api-Video-Signature': signature })
      equal((await verifyWebhook({ headers, body: new TextEncoder().encode(body) }, { secret })).videoId, 'vi1')
      const cases = [
        [{ headers, body: `${body} ` }, 'INVALID_SIGNATURE'],
        [{ headers: {}, body }, 'INVALID_SIGNATURE'],
        [{ headers, body: '' }, 'INVALID_WEBHOOK'],
        [null, 'INVALID_WEBHOOK'],
      ]
      for (const [input, code] of cases) {
        const error = await rejection(verifyWebhook(input, { secret }))
        equal([error.code, ctx.lib.isApiVideoAuthError(error)], [code, true])
        ok(!error.message.includes(secret) && !error.message.includes(signature), 'no secret in the message')
      }
      const bad = await rejection(verifyWebhook({ headers, body }, { secret, maxage: 1 }))
      equal([bad instanceof TypeError, bad.code], [true, 'ERR_UNKNOWN_OPTION'])

      let pulled = 0
      const CHUNK = 16 * 1024
      const stream = new ReadableStream(
        {
          pull(controller) {
            if (pulled >= 8 * 1024 * 1024) return controller.close()
            pulled += CHUNK
            controller.enqueue(new Uint8Array(CHUNK))
          },
        },
        { highWaterMark: 0 },
      )
      const error = await rejection(verifyWebhook({ headers, body: stream }, { secret }))
      equal(error.code, 'INVALID_WEBHOOK')
      ok(pulled <= 64 * 1024 + 2 * CHUNK, `pulled ${pulled} B`)
    },
  ],
]

export const tests = [
  [
    'builders: the two POSTs, with the JSON body and extra headers',
    async ({ lib }) => {
      equal([lib.PRODUCTION_URL, lib.SANDBOX_URL], ['https://ws.api.video', 'https://sandbox.api.video'])
      const a = lib.authenticateRequest(KEY, {
        baseUrl: lib.SANDBOX_URL,
        headers: { 'AV-Origin-App': 'suite:1.0.0' },
      })
      equal(
        [a.method, a.url, a.headers.get('content-type'), a.headers.get('av-origin-app')],
        ['POST', 'https://sandbox.api.video/auth/api-key', 'application/json', 'suite:1.0.0'],
      )
      equal(await a.json(), { apiKey: KEY })
      const r = lib.refreshRequest('rt.1')
      equal([r.method, r.url], ['POST', 'https://ws.api.video/auth/refresh'])
      equal(await r.json(), { refreshToken: 'rt.1' })
    },
  ],

  [
    'builders: bad input is a TypeError naming the argument, never its value',
    ({ lib }) => {
      const key = throws(() => lib.authenticateRequest('secret-key\n'))
      ok(
        key instanceof TypeError && key.message.includes('apiKey') && !key.message.includes('secret-key'),
        key.message,
      )
      const url = throws(() => lib.refreshRequest('rt.1', { baseUrl: 'http://example.com' }))
      ok(url instanceof TypeError && url.message.includes('baseUrl'), url.message)
    },
  ],

  [
    'readAccessToken: expiresAt counts from sentAt; refreshToken is readable but not enumerable',
    async ({ lib }) => {
      const body = { token_type: 'Bearer', expires_in: 3599, access_token: 'at.1', refresh_token: 'rt.1' }
      const token = await lib.readAccessToken(tokenResponse(body), { endpoint: 'api-key', sentAt: 1_000 })
      equal(token, { accessToken: 'at.1', tokenType: 'Bearer', expiresIn: 3599, expiresAt: 1_000 + 3_599_000 })
      equal(token.refreshToken, 'rt.1')
      const bad = await rejection(
        lib.readAccessToken(tokenResponse({ access_token: 'at.1' }), { endpoint: 'refresh' }),
      )
      equal([bad.code, bad.retryable], ['INVALID_RESPONSE', false])
      ok(bad.message.includes('"refresh_token" must be'), bad.message)
    },
  ],

  [
    'authenticate and refresh: a round trip; the refresh token rotates and the old one is refused',
    async (ctx) => {
      const { lib } = ctx
      await withApi(ctx, async ({ options, paths }) => {
        const first = await lib.authenticate(KEY, options)
        const second = await lib.refresh(first.refreshToken, options)
        ok(second.accessToken !== first.accessToken && second.refreshToken !== first.refreshToken, 'a new pair')
        equal(second.expiresIn, 3600)
        const spent = await rejection(lib.refresh(first.refreshToken, options))
        equal([spent.code, spent.status], ['INVALID_REFRESH_TOKEN', 400])
        equal(paths(), ['/auth/api-key', '/auth/refresh', '/auth/refresh'])
      })
    },
  ],

  [
    'errors: 400 is INVALID_CREDENTIALS, without the key in message or stack',
    async (ctx) => {
      const { lib } = ctx
      await withApi(ctx, async ({ options }) => {
        const wrong = 'wrong-key-1234'
        const error = await rejection(lib.authenticate(wrong, options))
        ok(error instanceof lib.ApiVideoAuthError && lib.isApiVideoAuthError(error), 'an ApiVideoAuthError')
        equal(
          [error.name, error.code, error.status, error.retryable],
          ['ApiVideoAuthError', 'INVALID_CREDENTIALS', 400, false],
        )
        equal(error.problem.title, 'The user credentials were incorrect.')
        ok(!error.message.includes(wrong) && !String(error.stack).includes(wrong), 'no key in the error')
      })
    },
  ],

  [
    'errors: 503 is SERVER_ERROR, 429 is RATE_LIMITED with retryAfter, both retryable',
    async (ctx) => {
      const { lib } = ctx
      await withApi(ctx, async ({ standIn, options }) => {
        standIn.fail('/auth/api-key', { status: 503 }, { status: 429, headers: { 'retry-after': '7' } })
        const down = await rejection(lib.authenticate(KEY, options))
        equal([down.code, down.status, down.retryable], ['SERVER_ERROR', 503, true])
        const limited = await rejection(lib.authenticate(KEY, options))
        equal([limited.code, limited.status, limited.retryAfter, limited.retryable], ['RATE_LIMITED', 429, 7, true])
      })
    },
  ],

  [
    'errors: a fetch that throws is NETWORK_ERROR; no answer in time is TIMEOUT',
    async ({ lib }) => {
      const cause = new TypeError('connection refused')
      const network = await rejection(
        lib.authenticate(KEY, {
          fetch: async () => {
            throw cause
          },
        }),
      )
      equal([network.code, network.retryable, network.cause === cause], ['NETWORK_ERROR', true, true])
      ok(network.message.includes('could not reach ws.api.video'), network.message)
      const silent = (_request, init) =>
        new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)))
      const timeout = await rejection(lib.authenticate(KEY, { fetch: silent, timeout: 1 }))
      equal([timeout.code, timeout.retryable], ['TIMEOUT', true])
    },
  ],

  [
    'errors: a closed port on 127.0.0.1 is NETWORK_ERROR naming the host, with no "retry later"',
    async ({ lib, serve }) => {
      if (!serve) return
      const server = await serve(async () => new Response(null, { status: 204 }))
      await server.close()
      const error = await rejection(lib.authenticate(KEY, { baseUrl: server.url }))
      equal([error.code, error.retryable], ['NETWORK_ERROR', true])
      const host = new URL(server.url).host
      ok(error.message.includes(`could not reach ${host}`), error.message)
      ok(error.message.includes('check the base URL and the network'), error.message)
      ok(!error.message.includes('retry later'), error.message)
    },
  ],

  [
    'session: 1000 cold concurrent callers make one request and get one token',
    async (ctx) => {
      await withApi(ctx, async ({ options, paths }) => {
        const session = ctx.lib.createSession({ apiKey: KEY, ...options })
        equal(paths(), [], 'lazy')
        const tokens = await Promise.all(Array.from({ length: 1000 }, () => session.token()))
        equal(new Set(tokens).size, 1)
        equal(paths(), ['/auth/api-key'])
        equal(await session.authorization(), `Bearer ${tokens[0]}`)
      })
    },
  ],

  [
    'session: renewal on a fake clock goes through /auth/refresh when due, not before, in the background',
    async (ctx) => {
      const time = clock()
      await withApi(
        ctx,
        async ({ options, paths }) => {
          const events = []
          const session = ctx.lib.createSession({
            apiKey: KEY,
            ...options,
            now: time.now,
            onEvent: (e) => events.push(e.type),
          })
          const first = await session.token()
          time.tick(EARLIEST_DUE - 1)
          equal(await session.token(), first, 'not due yet')
          equal(paths(), ['/auth/api-key'], 'nothing sent before the due time')
          time.tick(LATEST_DUE - EARLIEST_DUE + 1)
          equal(await session.token(), first, 'due: the held token is still handed out while it is renewed')
          await session.settled()
          const second = await session.token()
          ok(second !== first, 'renewed')
          equal(paths(), ['/auth/api-key', '/auth/refresh'])
          equal(events, ['renewal-started', 'authenticated', 'renewal-started', 'refreshed'])
        },
        { now: time.now },
      )
    },
  ],

  [
    'session: tokenWithExpiry gives the token it hands out and its expiry on the session clock',
    async (ctx) => {
      const time = clock()
      await withApi(
        ctx,
        async ({ options, paths }) => {
          const session = ctx.lib.createSession({ apiKey: KEY, ...options, now: time.now })
          const sentAt = time.now()
          const first = await session.tokenWithExpiry()
          equal(first, { token: await session.token(), expiresAt: sentAt + HOUR })
          time.tick(60_000)
          equal(await session.tokenWithExpiry(), first, 'the held token, with the same expiry')
          const forced = await session.tokenWithExpiry({ forceRefresh: true })
          ok(forced.token !== first.token, 'a new token')
          equal(forced.expiresAt, sentAt + 60_000 + HOUR)
          equal(paths(), ['/auth/api-key', '/auth/refresh'])
        },
        { now: time.now },
      )
    },
  ],

  [
    'session: fetch replays a 401 once, body included, after one renewal',
    async (ctx) => {
      await withApi(ctx, async ({ standIn, options, base, paths }) => {
        const session = ctx.lib.createSession({ apiKey: KEY, ...options })
        const init = {
          method: 'POST',
          body: JSON.stringify({ title: 'x' }),
          headers: { 'content-type': 'application/json' },
        }
        equal((await session.fetch(`${base}/videos`, init)).status, 201)
        standIn.revoke()
        const replayed = await session.fetch(`${base}/videos`, init)
        equal([replayed.status, (await replayed.json()).title], [201, 'x'])
        equal(paths(), ['/auth/api-key', '/videos', '/videos', '/auth/refresh', '/videos'])
      })
    },
  ],

  ...webhookTests,
]

/**
 * Runs the suite (plus an entry's own tests), printing `ok - name` or `not ok - name: error` per test
 * and a last line `# passed N failed M`. Returns the failure count.
 */
export async function run(ctx, extra = []) {
  let failed = 0
  for (const [name, fn] of [...tests, ...extra]) {
    try {
      await fn(ctx)
      console.log(`ok - ${name}`)
    } catch (error) {
      failed++
      console.log(`not ok - ${name}: ${error?.stack ?? error}`)
    }
  }
  console.log(`# passed ${tests.length + extra.length - failed} failed ${failed}`)
  return failed
}
