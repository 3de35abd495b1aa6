import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession, isApiVideoAuthError } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { verifyWebhook, webhookSecrets } from '../dist/webhooks.js'
import { KEY, clock, failure, serve } from './helpers/index.mjs'

const FACTS = JSON.parse(readFileSync(new URL('fixtures/webhooks-facts.json', import.meta.url), 'utf8'))
const SECRET = 'sig_sec_Abcd12348RLP7VPLi7nYVh'
const WEBHOOK_ID = 'webhook_XXXXXXXXXXXXXXX'
const AT = Date.parse('2021-01-29T15:46:25.217Z')
// The OpenAPI document's sample event, byte for byte as api.video sends it.
const BODY =
  '{ "type": "video.encoding.quality.completed", "emittedAt": "2021-01-29T16:46:25.217+01:00", ' +
  '"videoId": "viXXXXXXXX", "encoding": "hls", "quality": "720p"}'
const EVENT = JSON.parse(BODY)

/** The signature computed apart from the add-on, with node:crypto. */
const sign = (body, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex')
/** Headers as Node's IncomingMessage has them: lower-case names. */
const nodeHeaders = (body, signature = sign(body)) => ({
  'content-type': 'application/json',
  [FACTS.webhookIdHeader.toLowerCase()]: WEBHOOK_ID,
  [FACTS.signatureHeader.toLowerCase()]: signature,
})
const delivery = (body = BODY, signature = sign(body)) =>
  new Request('http://127.0.0.1/hook', { method: 'POST', headers: nodeHeaders(body, signature), body })

async function refusal(promise, code) {
  const error = await failure(promise)
  assert.is(error.code, code, error.message)
  assert.ok(isApiVideoAuthError(error), 'isApiVideoAuthError recognises it')
  assert.is(error.name, 'ApiVideoAuthError')
  for (const text of [error.message, error.stack, JSON.stringify(error), inspect(error)]) {
    assert.not.ok(text.includes(SECRET), 'the secret is in the error')
    assert.not.ok(/[0-9a-f]{64}/.test(text), 'a signature is in the error')
  }
  return error
}

async function typeError(promise, code, pattern) {
  const error = await failure(promise)
  assert.instance(error, TypeError)
  assert.is(error.code, code)
  assert.match(error.message, pattern)
  assert.not.ok(error.message.includes(SECRET))
  return error
}

/** True for a refusal of the delivery, which a receiver answers 401 or 400 and which no retry changes. */
const isRefusal = (error) => ['INVALID_SIGNATURE', 'INVALID_WEBHOOK'].includes(error?.code)

const verify = suite('verifyWebhook')

verify('the facts it relies on: the signature is HMAC-SHA256 in 64 lowercase hex digits, no timestamp header', () => {
  assert.match(sign(BODY), new RegExp(FACTS.signaturePattern))
  assert.is(FACTS.timestampHeader, null)
  assert.equal(FACTS.bodyFields, ['type', 'emittedAt'])
})

verify(
  'accepts a signature made with node:crypto, from a Request, Headers or Node headers, text or bytes',
  async () => {
    const inputs = [
      delivery(),
      { headers: nodeHeaders(BODY), body: BODY },
      { headers: nodeHeaders(BODY), body: Buffer.from(BODY) },
      { headers: new Headers(nodeHeaders(BODY)), body: new TextEncoder().encode(BODY) },
      // Lambda behind API Gateway v1 keeps the case the sender used.
      { headers: { 'X-Api-Video-WebhookID': WEBHOOK_ID, 'X-Api-Video-Signature': sign(BODY) }, body: BODY },
    ]
    for (const input of inputs) assert.equal(await verifyWebhook(input, { secret: SECRET }), EVENT)
  },
)

verify("accepts a delivery received by node:http: IncomingMessage's headers and the raw body", async () => {
  const received = []
  const { createServer } = await import('node:http')
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      try {
        received.push(await verifyWebhook({ headers: req.headers, body: Buffer.concat(chunks) }, { secret: SECRET }))
        res.writeHead(204).end()
      } catch (error) {
        res.writeHead(error.code === 'INVALID_SIGNATURE' ? 401 : 400).end()
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const post = (headers) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.address().port, method: 'POST', path: '/hook', headers },
        (res) => resolve(res.resume().statusCode),
      )
      req.on('error', reject).end(BODY)
    })
  try {
    assert.is(await post({ 'X-Api-Video-WebhookID': WEBHOOK_ID, 'X-Api-Video-Signature': sign(BODY) }), 204)
    assert.is(await post({ 'X-Api-Video-Signature': sign(BODY, 'another secret') }), 401)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  assert.equal(received, [EVENT])
})

verify(
  'refuses one wrong hex digit, a re-serialized body, no header, a malformed header, the wrong secret',
  async () => {
    const good = sign(BODY)
    const flipped = `${good.slice(0, 10)}${good[10] === '0' ? '1' : '0'}${good.slice(11)}`
    const reserialized = JSON.stringify(JSON.parse(BODY))
    assert.is.not(reserialized, BODY)
    await refusal(verifyWebhook(delivery(BODY, flipped), { secret: SECRET }), 'INVALID_SIGNATURE')
    await refusal(verifyWebhook(delivery(reserialized, good), { secret: SECRET }), 'INVALID_SIGNATURE')
    await refusal(
      verifyWebhook({ headers: { 'content-type': 'application/json' }, body: BODY }, { secret: SECRET }),
      'INVALID_SIGNATURE',
    )
    for (const malformed of [
      good.slice(1),
      `${good}0`,
      `sha256=${good}`,
      good.replace(/./, 'g'),
      `${good},${good}`,
    ]) {
      await refusal(verifyWebhook(delivery(BODY, malformed), { secret: SECRET }), 'INVALID_SIGNATURE')
    }
    await refusal(verifyWebhook(delivery(), { secret: 'sig_sec_another' }), 'INVALID_SIGNATURE')
    // Two values of the header (Node gives a list for a repeated header) are no signature.
    const twice = { headers: { 'x-api-video-signature': [good, good] }, body: BODY }
    await refusal(verifyWebhook(twice, { secret: SECRET }), 'INVALID_SIGNATURE')
  },
)

verify('the signature is checked before the body is read: an unsigned delivery leaves its body unread', async () => {
  const request = new Request('http://127.0.0.1/hook', { method: 'POST', body: BODY })
  await refusal(verifyWebhook(request, { secret: SECRET }), 'INVALID_SIGNATURE')
  assert.is(request.bodyUsed, false)
})

verify('rotation: any one of several secrets; a function of the webhook ID, sync or async', async () => {
  assert.equal(await verifyWebhook(delivery(), { secret: ['sig_sec_new', SECRET] }), EVENT)
  const asked = []
  const lookup = (id) => (asked.push(id), id === WEBHOOK_ID ? SECRET : undefined)
  assert.equal(await verifyWebhook(delivery(), { secret: lookup }), EVENT)
  assert.equal(await verifyWebhook(delivery(), { secret: async (id) => [lookup(id)] }), EVENT)
  assert.equal(asked, [WEBHOOK_ID, WEBHOOK_ID])
  await refusal(verifyWebhook(delivery(), { secret: () => undefined }), 'INVALID_SIGNATURE')
  await refusal(verifyWebhook(delivery(), { secret: async () => '' }), 'INVALID_SIGNATURE')
  const noId = { headers: { 'x-api-video-signature': sign(BODY) }, body: BODY }
  await refusal(verifyWebhook(noId, { secret: lookup }), 'INVALID_SIGNATURE')
  assert.is(asked.length, 2, 'no ID, no lookup')
})

verify('refuses what is not a signed JSON event, and an input of neither form, as INVALID_WEBHOOK', async () => {
  for (const body of ['', 'not json', '[1,2]', '"video.encoding.quality.completed"', 'null', '{"videoId":"vi1"}']) {
    await refusal(verifyWebhook({ headers: nodeHeaders(body), body }, { secret: SECRET }), 'INVALID_WEBHOOK')
  }
  const empty = new Request('http://127.0.0.1/hook', { method: 'POST', headers: nodeHeaders('') })
  await refusal(verifyWebhook(empty, { secret: SECRET }), 'INVALID_WEBHOOK')
  for (const input of [null, undefined, 'body', {}, { body: BODY }, { headers: 'x', body: BODY }]) {
    await refusal(verifyWebhook(input, { secret: SECRET }), 'INVALID_WEBHOOK')
  }
})

verify('a body over 64 KiB is refused, even correctly signed', async () => {
  const padded = JSON.stringify({ ...EVENT, padding: 'x'.repeat(64 * 1024) })
  await refusal(verifyWebhook({ headers: nodeHeaders(padded), body: padded }, { secret: SECRET }), 'INVALID_WEBHOOK')
  await refusal(verifyWebhook(delivery(padded), { secret: SECRET }), 'INVALID_WEBHOOK')
  const room = 64 * 1024 - JSON.stringify({ ...EVENT, padding: '' }).length
  const fits = JSON.stringify({ ...EVENT, padding: 'x'.repeat(room) })
  assert.is(Buffer.byteLength(fits), 64 * 1024)
  assert.is((await verifyWebhook(delivery(fits), { secret: SECRET })).padding.length, room)
  assert.is(
    (await verifyWebhook({ headers: nodeHeaders(fits), body: fits }, { secret: SECRET })).padding.length,
    room,
  )
})

verify('a 64 MiB streamed body is refused after reading at most 64 KiB plus one chunk', async () => {
  const CHUNK = 16 * 1024
  const TOTAL = 64 * 1024 * 1024
  let pulled = 0
  let cancelled = false
  const stream = new ReadableStream(
    {
      pull(controller) {
        if (pulled >= TOTAL) return controller.close()
        pulled += CHUNK
        controller.enqueue(new Uint8Array(CHUNK).fill(0x20))
      },
      cancel: () => void (cancelled = true),
    },
    { highWaterMark: 0 },
  )
  const request = new Request('http://127.0.0.1/hook', {
    method: 'POST',
    headers: nodeHeaders(BODY),
    body: stream,
    duplex: 'half',
  })
  await refusal(verifyWebhook(request, { secret: SECRET }), 'INVALID_WEBHOOK')
  assert.ok(pulled <= 64 * 1024 + CHUNK, `pulled ${pulled} B`)
  assert.ok(pulled > 64 * 1024, `pulled ${pulled} B: the limit was not reached`)
  assert.ok(cancelled, 'the stream is cancelled')
})

verify(
  'maxAge: the signed emittedAt must be within maxAge, and at most a minute ahead, on the `now` clock',
  async () => {
    const at = (ms) => {
      const body = JSON.stringify({ ...EVENT, emittedAt: new Date(AT + ms).toISOString().replace('Z', '+00:00') })
      return { headers: nodeHeaders(body), body }
    }
    const options = { secret: SECRET, maxAge: 30_000, now: () => AT }
    assert.is((await verifyWebhook(at(-30_000), options)).type, EVENT.type)
    assert.is((await verifyWebhook(at(60_000), options)).type, EVENT.type)
    // The sample's own date, with its +01:00 offset, is AT.
    assert.equal(await verifyWebhook(delivery(), options), EVENT)
    await refusal(verifyWebhook(at(-30_001), options), 'INVALID_WEBHOOK')
    await refusal(verifyWebhook(at(60_001), options), 'INVALID_WEBHOOK')
    const undated = JSON.stringify({ type: EVENT.type })
    await refusal(verifyWebhook({ headers: nodeHeaders(undated), body: undated }, options), 'INVALID_WEBHOOK')
    // Off by default: a year-old event passes.
    assert.is((await verifyWebhook(at(-365 * 86_400_000), { secret: SECRET })).type, EVENT.type)
    // api.video's retries come 3, 6 and 9 s later with the same body and signature: maxAge decides whether they pass.
    const retried = at(0)
    const later = (ms) => ({ secret: SECRET, maxAge: 10_000, now: () => AT + ms })
    for (const ms of [3000, 6000, 9000]) assert.is((await verifyWebhook(retried, later(ms))).type, EVENT.type)
  },
)

verify('bad options are TypeErrors with a code, naming the option, never its value; nothing is read', async () => {
  const request = delivery()
  for (const options of [null, 'sig_sec', 42])
    await typeError(verifyWebhook(request, options), 'ERR_INVALID_ARGUMENT', /^options must be an object/)
  for (const secret of ['', [], [SECRET, ''], 42, { secret: SECRET }, null]) {
    await typeError(verifyWebhook(request, { secret }), 'ERR_INVALID_ARGUMENT', /^secret must be/)
  }
  for (const maxAge of [-1, NaN, '60000', null]) {
    await typeError(verifyWebhook(request, { secret: SECRET, maxAge }), 'ERR_INVALID_ARGUMENT', /^maxAge must be/)
  }
  await typeError(verifyWebhook(request, { secret: SECRET, now: 5 }), 'ERR_INVALID_ARGUMENT', /^now must be/)
  await typeError(
    verifyWebhook(request, { secret: SECRET, maxage: 1 }),
    'ERR_UNKNOWN_OPTION',
    /^unknown option maxage \(did you mean maxAge\?\)$/,
  )
  await typeError(
    verifyWebhook(request, { secret: SECRET, maxAgeMs: 1 }),
    'ERR_UNKNOWN_OPTION',
    /^unknown option maxAgeMs \(did you mean maxAge\?\)$/,
  )
  await typeError(
    verifyWebhook(request, { secret: SECRET, tolerance: 1 }),
    'ERR_UNKNOWN_OPTION',
    /^unknown option tolerance$/,
  )
  assert.is(request.bodyUsed, false)
})

/** Runs `run` with APIVIDEO_WEBHOOK_SECRET set to `value` (unset when undefined), and puts the real one back after. */
async function withSecretVariable(value, run) {
  const saved = process.env.APIVIDEO_WEBHOOK_SECRET
  if (value === undefined) delete process.env.APIVIDEO_WEBHOOK_SECRET
  else process.env.APIVIDEO_WEBHOOK_SECRET = value
  try {
    return await run()
  } finally {
    if (saved === undefined) delete process.env.APIVIDEO_WEBHOOK_SECRET
    else process.env.APIVIDEO_WEBHOOK_SECRET = saved
  }
}

verify('without secret, it reads APIVIDEO_WEBHOOK_SECRET, as createSession reads APIVIDEO_API_KEY', async () => {
  await withSecretVariable(SECRET, async () => {
    assert.equal(await verifyWebhook(delivery()), EVENT)
    assert.equal(await verifyWebhook(delivery(), {}), EVENT)
    assert.equal(await verifyWebhook(delivery(), { secret: undefined, maxAge: undefined }), EVENT)
    // Given, the option wins over the variable.
    await refusal(verifyWebhook(delivery(), { secret: 'sig_sec_another' }), 'INVALID_SIGNATURE')
  })
  await withSecretVariable('sig_sec_another', () => refusal(verifyWebhook(delivery()), 'INVALID_SIGNATURE'))
})

verify('no secret and no variable (or an empty one) is a TypeError naming both, never a refusal', async () => {
  for (const value of [undefined, '']) {
    await withSecretVariable(value, async () => {
      for (const options of [undefined, {}, { secret: undefined }]) {
        const request = delivery()
        const error = await typeError(verifyWebhook(request, options), 'ERR_INVALID_ARGUMENT', /^secret is missing/)
        assert.match(error.message, /pass \{ secret \} or set APIVIDEO_WEBHOOK_SECRET/)
        assert.not.ok(isApiVideoAuthError(error), 'a refusal')
        assert.is(request.bodyUsed, false, 'the body was read')
      }
    })
  }
})

verify('on Deno, it reads Deno.env; without --allow-env (Deno.env.get throws) the secret is missing', async () => {
  const permitted = { env: { get: (name) => (name === 'APIVIDEO_WEBHOOK_SECRET' ? SECRET : undefined) } }
  const refused = {
    env: {
      get: () => {
        throw new Error('Requires env access to "APIVIDEO_WEBHOOK_SECRET", run again with the --allow-env flag')
      },
    },
  }
  try {
    await withSecretVariable('sig_sec_from_process_env', async () => {
      globalThis.Deno = permitted
      assert.equal(await verifyWebhook(delivery()), EVENT, 'Deno.env is read first, and process.env not at all')
      globalThis.Deno = refused
      await typeError(verifyWebhook(delivery()), 'ERR_INVALID_ARGUMENT', /^secret is missing/)
    })
  } finally {
    delete globalThis.Deno
  }
})

verify("on Workers (no process.env), the missing secret's message says to pass it from env", async () => {
  const { navigator } = globalThis
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Cloudflare-Workers' }, configurable: true })
  try {
    await withSecretVariable(undefined, async () => {
      const error = await typeError(verifyWebhook(delivery()), 'ERR_INVALID_ARGUMENT', /^secret is missing/)
      assert.match(error.message, /pass \{ secret: env\.APIVIDEO_WEBHOOK_SECRET \}/)
    })
  } finally {
    if (navigator === undefined) delete globalThis.navigator
    else Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true })
  }
})

verify('a body a framework already parsed is a TypeError that says how to get the raw bytes', async () => {
  // Express with express.json() hands an object; with { strict: false }, any JSON value.
  for (const body of [{ ...EVENT }, [EVENT], 42, true]) {
    const error = await typeError(
      verifyWebhook({ headers: nodeHeaders(BODY), body }, { secret: SECRET }),
      'ERR_INVALID_ARGUMENT',
      /^input\.body was already parsed, and the signature needs the raw bytes: /,
    )
    assert.match(error.message, /before express\.json\(\)/)
    assert.match(error.message, /express\.raw\(\{ type: 'application\/json' \}\)/)
    assert.match(error.message, /Fastify/)
    assert.not.match(error.message, /not a Request nor/)
    assert.not.ok(isApiVideoAuthError(error), 'a refusal')
  }
  // No body, as a request a body parser skipped leaves it (undefined; {} with Express 4): a refusal, not a bug here.
  for (const body of [undefined, null, {}]) {
    const error = await refusal(
      verifyWebhook({ headers: nodeHeaders(BODY), body }, { secret: SECRET }),
      'INVALID_WEBHOOK',
    )
    assert.match(error.message, /empty body/)
  }
  // Unsigned, it is refused before the body is looked at.
  await refusal(verifyWebhook({ headers: {}, body: { ...EVENT } }, { secret: SECRET }), 'INVALID_SIGNATURE')
})

verify.run()

const secrets = suite('webhookSecrets')

/** The stand-in on 127.0.0.1 with one genuine webhook, a session on it, and a count of its lookups. */
async function genuineWebhook(now) {
  const standIn = createStandIn({ now, keepRequests: Infinity })
  const server = await serve(standIn.handler)
  // No rate-limit wait: the tests see the 429s webhookSecrets must handle itself.
  const session = createSession({ apiKey: KEY, baseUrl: server.url, now, rateLimitWait: 0 })
  const created = await session.fetch('/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['video.encoding.quality.completed'] }),
  })
  assert.is(created.status, 201)
  const webhook = await created.json()
  const lookups = () => standIn.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/webhooks/'))
  /** A delivery signed with the genuine secret, or forged: another ID, signed with a guessed secret. */
  const event = (id = webhook.webhookId, secret = webhook.signatureSecret) => ({
    headers: { 'x-api-video-webhookid': id, 'x-api-video-signature': sign(BODY, secret) },
    body: BODY,
  })
  return { standIn, server, session, webhook, lookups, event }
}

secrets('200 forged webhook IDs cost at most 5 lookups; 20 events of one genuine webhook cost one', async () => {
  const time = clock(AT)
  const { server, session, lookups, event, webhook } = await genuineWebhook(time.now)
  try {
    const secret = webhookSecrets(session, { now: time.now })
    const events = await Promise.all(Array.from({ length: 20 }, () => verifyWebhook(event(), { secret })))
    assert.equal(events, Array(20).fill(EVENT))
    assert.equal(
      lookups().map((r) => r.path),
      [`/webhooks/${webhook.webhookId}`],
    )
    for (let i = 0; i < 200; i++) {
      const forged = event(`webhook_forged${String(i).padStart(7, '0')}`, 'sig_sec_guess')
      await refusal(verifyWebhook(forged, { secret }), 'INVALID_SIGNATURE')
    }
    // 5 IDs missing from the cache are looked up a minute, the genuine one included.
    assert.is(lookups().length, 5)
    assert.equal(await verifyWebhook(event(), { secret }), EVENT, 'the genuine webhook still passes')
    assert.is(lookups().length, 5)
  } finally {
    await server.close()
  }
})

secrets(
  'an ID not found is looked up again after a minute at the earliest; the budget renews each minute',
  async () => {
    const time = clock(AT)
    const { server, session, lookups, event } = await genuineWebhook(time.now)
    try {
      const secret = webhookSecrets(session, { now: time.now })
      const forged = event('webhook_forged0000001', 'sig_sec_guess')
      await refusal(verifyWebhook(forged, { secret }), 'INVALID_SIGNATURE')
      assert.is(lookups().length, 1)
      for (const step of [10_000, 49_999, 1, 59_999]) {
        time.tick(step)
        await refusal(verifyWebhook(forged, { secret }), 'INVALID_SIGNATURE')
        assert.is(lookups().length, 1, `looked up again ${time.now() - AT} ms later`)
      }
      time.tick(1)
      await refusal(verifyWebhook(forged, { secret }), 'INVALID_SIGNATURE')
      assert.is(lookups().length, 2)
      // A new minute, a new budget of 5.
      for (let i = 0; i < 20; i++)
        await refusal(verifyWebhook(event(`webhook_other${i}`), { secret }), 'INVALID_SIGNATURE')
      assert.is(lookups().length, 2 + 4)
      time.tick(60_000)
      for (let i = 20; i < 40; i++)
        await refusal(verifyWebhook(event(`webhook_other${i}`), { secret }), 'INVALID_SIGNATURE')
      assert.is(lookups().length, 2 + 4 + 5)
    } finally {
      await server.close()
    }
  },
)

secrets('a 429 stops lookups until its X-RateLimit-Retry-After; an error is not kept', async () => {
  const time = clock(AT)
  const { standIn, server, session, lookups, event, webhook } = await genuineWebhook(time.now)
  try {
    const secret = webhookSecrets(session, { now: time.now })
    standIn.fail(`/webhooks/${webhook.webhookId}`, {
      status: 429,
      headers: { 'X-RateLimit-Retry-After': '30' },
      body: { type: 'https://docs.api.video/reference/too-many-requests', title: 'Too many requests.', status: 429 },
    })
    // The delivery whose lookup got the 429 rejects with it: api.video's retry may find the lookups open again.
    const limited = await failure(verifyWebhook(event(), { secret }))
    assert.equal([limited.code, limited.status, isRefusal(limited)], ['RATE_LIMITED', 429, false])
    time.tick(29_999)
    await refusal(verifyWebhook(event(), { secret }), 'INVALID_SIGNATURE')
    assert.is(lookups().length, 1, 'no lookup before Retry-After')
    time.tick(1)
    assert.equal(await verifyWebhook(event(), { secret }), EVENT)
    assert.is(lookups().length, 2)

    // A lookup that fails (here the API key is refused) rejects the verification with its error, and is retried.
    const other = await genuineWebhook(time.now)
    try {
      const badKey = createSession({ apiKey: 'wrong-key', baseUrl: other.server.url })
      const failing = webhookSecrets(badKey, { now: time.now })
      const error = await failure(verifyWebhook(other.event(), { secret: failing }))
      assert.is(error.code, 'INVALID_CREDENTIALS')
      const good = webhookSecrets(other.session, { now: time.now })
      assert.equal(await verifyWebhook(other.event(), { secret: good }), EVENT)
    } finally {
      await other.server.close()
    }
  } finally {
    await server.close()
  }
})

secrets('the ID is sent encoded, as one path segment; the secret appears in no error', async () => {
  const seen = []
  const session = {
    fetch: async (path) => (seen.push(path), new Response('{}', { status: 404 })),
  }
  const secret = webhookSecrets(session, { now: () => AT })
  assert.is(await secret('../auth/api-key?x=1'), undefined)
  assert.equal(seen, ['/webhooks/..%2Fauth%2Fapi-key%3Fx%3D1'])
})

secrets('bad arguments are TypeErrors with a code', async () => {
  for (const session of [undefined, null, {}, { fetch: 'x' }]) {
    const error = await failure(Promise.resolve().then(() => webhookSecrets(session)))
    assert.instance(error, TypeError)
    assert.is(error.code, 'ERR_INVALID_ARGUMENT')
    assert.match(error.message, /^session must be/)
  }
  const session = { fetch: async () => new Response('{}') }
  const unknown = await failure(Promise.resolve().then(() => webhookSecrets(session, { Now: Date.now })))
  assert.is(unknown.code, 'ERR_UNKNOWN_OPTION')
  assert.is(unknown.message, 'unknown option Now (did you mean now?)')
  const now = await failure(Promise.resolve().then(() => webhookSecrets(session, { now: 1 })))
  assert.is(now.code, 'ERR_INVALID_ARGUMENT')
  for (const timeout of [0, -1, '10000', Infinity, NaN, 2 ** 31, null]) {
    const error = await failure(Promise.resolve().then(() => webhookSecrets(session, { timeout })))
    assert.equal([error.code, error.message], ['ERR_INVALID_ARGUMENT', 'timeout must be 1 to 2147483647 ms'])
  }
})

secrets(
  'only a 404 is remembered: a 503, a 500, a network error or a 401 rejects, and the next delivery looks again',
  async () => {
    const faults = [
      [[{ status: 503 }], 'SERVER_ERROR', 503],
      [[{ status: 500 }], 'SERVER_ERROR', 500],
      [[{ networkError: true }], 'NETWORK_ERROR', undefined],
      // The session replays a request refused with 401 once, with a new token: two 401s reach the lookup.
      [[{ status: 401 }, { status: 401 }], 'UNEXPECTED_STATUS', 401],
      [[{ status: 200, body: { webhookId: 'webhook_x' } }], 'INVALID_RESPONSE', 200],
    ]
    for (const [fault, code, status] of faults) {
      const time = clock(AT)
      const { standIn, server, session, lookups, event, webhook } = await genuineWebhook(time.now)
      try {
        const secret = webhookSecrets(session, { now: time.now })
        standIn.fail(`/webhooks/${webhook.webhookId}`, ...fault)
        const error = await failure(verifyWebhook(event(), { secret }))
        assert.not.ok(isRefusal(error), `${code}: refused as ${error.code}`)
        assert.is(error.code, code)
        assert.is(error.name, 'ApiVideoAuthError')
        assert.ok(isApiVideoAuthError(error))
        assert.is(error.status, status)
        assert.match(error.message, /^webhook: the secret lookup failed/)
        for (const text of [error.message, error.stack, JSON.stringify(error), inspect(error)])
          assert.not.ok(text.includes(webhook.signatureSecret), 'the secret is in the error')
        // api.video retries 3 s later: the ID is looked up again, not remembered as unknown.
        time.tick(3000)
        assert.equal(await verifyWebhook(event(), { secret }), EVENT, `${code}: the retry`)
        assert.is(lookups().length, 1 + fault.length)
      } finally {
        await server.close()
      }
    }
  },
)

secrets('after two 503s in a row the third delivery finds the secret; a 404, meanwhile, is remembered', async () => {
  const time = clock(AT)
  const { standIn, server, session, lookups, event, webhook } = await genuineWebhook(time.now)
  try {
    const secret = webhookSecrets(session, { now: time.now })
    const path = `/webhooks/${webhook.webhookId}`
    standIn.fail(path, { status: 503 }, { status: 503 })
    for (let i = 0; i < 2; i++) assert.is((await failure(verifyWebhook(event(), { secret }))).code, 'SERVER_ERROR')
    assert.equal(await verifyWebhook(event(), { secret }), EVENT)
    assert.is(lookups().length, 3)
    // A 404, for another ID: remembered for a minute.
    const forged = event('webhook_forged0000001', 'sig_sec_guess')
    await refusal(verifyWebhook(forged, { secret }), 'INVALID_SIGNATURE')
    await refusal(verifyWebhook(forged, { secret }), 'INVALID_SIGNATURE')
    assert.is(lookups().length, 4)
  } finally {
    await server.close()
  }
})

secrets(
  'a hung lookup is abandoned after its timeout (TIMEOUT, its fetch aborted); the next one looks again',
  async () => {
    const time = clock(AT)
    const { standIn, server, session, lookups, event, webhook } = await genuineWebhook(time.now)
    try {
      const secret = webhookSecrets(session, { now: time.now, timeout: 20 })
      standIn.fail(`/webhooks/${webhook.webhookId}`, { delay: 2_147_483_647 })
      // Deliveries that arrive meanwhile share the lookup, and its end.
      const errors = await Promise.all([1, 2, 3].map(() => failure(verifyWebhook(event(), { secret }))))
      assert.equal(
        errors.map((e) => [e.code, e.name]),
        Array(3).fill(['TIMEOUT', 'ApiVideoAuthError']),
      )
      assert.is(lookups().length, 1)
      assert.equal(await verifyWebhook(event(), { secret }), EVENT)
      assert.is(lookups().length, 2)
    } finally {
      await server.close()
    }
    // What the lookup's fetch was given: a signal, aborted at the timeout, so nothing keeps running.
    const signals = []
    const hung = {
      fetch: (path, init) =>
        new Promise((resolve, reject) => {
          signals.push(init?.signal)
          init?.signal?.addEventListener('abort', () => reject(init.signal.reason))
        }),
    }
    const error = await failure(webhookSecrets(hung, { timeout: 10 })('webhook_a'))
    assert.is(error.code, 'TIMEOUT')
    assert.is(signals.length, 1)
    assert.ok(signals[0]?.aborted, 'the fetch was not aborted')
    // A session.fetch that ignores its signal cannot hold the delivery either.
    const deaf = { fetch: () => new Promise(() => {}) }
    assert.is((await failure(webhookSecrets(deaf, { timeout: 10 })('webhook_b'))).code, 'TIMEOUT')
  },
)

secrets.run()

const addOn = suite('webhooks add-on')

addOn('is a separate entry: it imports nothing at run time from the core, only the private dist/internal/', () => {
  for (const file of ['webhooks.js', 'webhooks.cjs']) {
    const code = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8')
    // An import statement (ESM) or a require at the top level (CJS); the doc comments' examples are neither.
    const imported = [...code.matchAll(/^(?:import .* from |const \w+ = require\()['"]([^'"]+)['"]/gm)].map(
      (m) => m[1],
    )
    assert.ok(imported.length > 0, `${file} imports the add-ons' shared helpers`)
    assert.equal(
      imported.filter((path) => !/^\.\/internal\/[\w-]+\.c?js$/.test(path)),
      [],
      file,
    )
    assert.not.match(code, /import\(/, file)
  }
})

addOn.run()
