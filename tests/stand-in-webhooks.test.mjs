import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../dist/index.js'
import { WEBHOOK_EVENTS, createStandIn, deliverWebhook, signWebhook } from '../dist/testing.js'
import { verifyWebhook } from '../dist/webhooks.js'
import { KEY, clock, failure, serve } from './helpers.mjs'

const FACTS = JSON.parse(readFileSync(new URL('fixtures/webhooks-facts.json', import.meta.url), 'utf8'))
const openapi = parse(readFileSync(new URL('fixtures/webhooks-uploads-openapi.yaml', import.meta.url), 'utf8'))
const schemas = openapi.components.schemas
const TYPES = { string: 'string', integer: 'number', array: 'object', object: 'object' }
const JSON_BODY = { 'content-type': 'application/json' }

/** `value` has only the schema's properties, each of its type (`$ref`s followed), and the required ones. */
function conforms(value, schema, where = 'body') {
  if (schema.$ref) return conforms(value, schemas[schema.$ref.split('/').at(-1)], where)
  assert.is(typeof value, TYPES[schema.type], `${where} is a ${schema.type}`)
  if (schema.type === 'array') return value.forEach((item, i) => conforms(item, schema.items, `${where}[${i}]`))
  if (schema.type !== 'object') {
    if (schema.enum) assert.ok(schema.enum.includes(value), `${where}: ${value} is not in the enum`)
    return undefined
  }
  for (const name of schema.required ?? []) assert.ok(name in value, `${where}.${name} is required`)
  for (const [name, property] of Object.entries(value)) {
    assert.ok(schema.properties[name], `${where}.${name} is not in the schema`)
    conforms(property, schema.properties[name], `${where}.${name}`)
  }
  return undefined
}

/** A stand-in, a session on it, and a JSON call through the session. */
function api(options) {
  const standIn = createStandIn(options)
  const session = createSession({ apiKey: KEY, fetch: standIn.fetch })
  const call = async (path, init = {}) => {
    const response = await session.fetch(path, init)
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined }
  }
  const create = (body) => call('/webhooks', { method: 'POST', headers: JSON_BODY, body: JSON.stringify(body) })
  return { standIn, session, call, create }
}

const routes = suite('stand-in: webhooks')

routes('the six event types are those of the OpenAPI document', () => {
  assert.equal([...WEBHOOK_EVENTS], schemas.webhook.properties.events.items.enum)
  assert.equal([...WEBHOOK_EVENTS], schemas['webhooks-creation-payload'].properties.events.items.enum)
})

routes('POST /webhooks answers 201 with a webhook of the OpenAPI schema, its signatureSecret included', async () => {
  const time = clock(Date.parse('2026-01-08T14:12:18.500Z'))
  const { create } = api({ now: time.now })
  const { status, body } = await create({
    url: 'https://example.com/webhooks',
    events: ['video.encoding.quality.completed'],
  })
  assert.is(status, 201)
  conforms(body, schemas.webhook)
  assert.equal(Object.keys(body).sort(), ['createdAt', 'events', 'signatureSecret', 'url', 'webhookId'])
  assert.match(body.webhookId, /^webhook_\w{15}$/)
  assert.match(body.signatureSecret, /^sig_sec_\w+$/)
  assert.is(body.createdAt, '2026-01-08T14:12:18+00:00')
  assert.equal([body.url, body.events], ['https://example.com/webhooks', ['video.encoding.quality.completed']])
})

routes('GET /webhooks/{webhookId}, GET /webhooks (paginated, filtered by events), DELETE', async () => {
  const { call, create } = api()
  const a = (await create({ url: 'https://a.example/hook', events: ['video.encoding.quality.completed'] })).body
  const b = (await create({ url: 'https://b.example/hook', events: ['live-stream.broadcast.started'] })).body
  assert.equal(await call(`/webhooks/${a.webhookId}`), { status: 200, body: a })

  const list = await call('/webhooks')
  assert.is(list.status, 200)
  conforms(list.body, schemas['webhooks-list-response'])
  assert.equal(list.body.data, [a, b])
  assert.equal(
    [list.body.pagination.itemsTotal, list.body.pagination.currentPageItems, list.body.pagination.pagesTotal],
    [2, 2, 1],
  )
  const filtered = await call('/webhooks?events=live-stream.broadcast.started')
  assert.equal(filtered.body.data, [b])
  const second = await call('/webhooks?pageSize=1&currentPage=2')
  assert.equal(second.body.data, [b])
  assert.equal(
    [second.body.pagination.pagesTotal, second.body.pagination.pageSize, second.body.pagination.currentPage],
    [2, 1, 2],
  )
  assert.match(second.body.pagination.links.find((l) => l.rel === 'last').uri, /currentPage=2&pageSize=1$/)

  assert.equal(await call(`/webhooks/${a.webhookId}`, { method: 'DELETE' }), { status: 204, body: undefined })
  const gone = await call(`/webhooks/${a.webhookId}`)
  assert.is(gone.status, 404)
  conforms(gone.body, schemas['not-found'])
  assert.equal(gone.body, {
    type: 'https://docs.api.video/reference/resource-not-found',
    title: 'The requested resource was not found.',
    name: 'webhookId',
    status: 404,
  })
  assert.is((await call(`/webhooks/${a.webhookId}`, { method: 'DELETE' })).status, 404)
  assert.equal((await call('/webhooks')).body.data, [b])
})

routes('POST /webhooks refuses a missing or invalid url or events with a 400 naming the attribute', async () => {
  const { create } = api()
  const cases = [
    [{ events: ['video.encoding.quality.completed'] }, 'url', 'attribute-required'],
    [{ url: 'ftp://example.com', events: ['video.encoding.quality.completed'] }, 'url', 'invalid-attribute'],
    [{ url: 'https://example.com' }, 'events', 'attribute-required'],
    [{ url: 'https://example.com', events: 'video.encoding.quality.completed' }, 'events', 'invalid-attribute'],
    [{ url: 'https://example.com', events: ['video.deleted'] }, 'events', 'invalid-attribute'],
    [{ url: 'https://example.com', events: [] }, 'events', 'invalid-attribute'],
  ]
  for (const [payload, name, type] of cases) {
    const { status, body } = await create(payload)
    assert.is(status, 400, JSON.stringify(payload))
    conforms(body, schemas['bad-request'])
    assert.equal([body.name, body.type], [name, `https://docs.api.video/reference/${type}`])
  }
})

routes('the /webhooks routes want credentials, like any resource', async () => {
  const standIn = createStandIn()
  for (const [path, method] of [
    ['/webhooks', 'GET'],
    ['/webhooks', 'POST'],
    ['/webhooks/webhook_x', 'GET'],
    ['/webhooks/webhook_x', 'DELETE'],
  ]) {
    const response = await standIn.fetch(`https://ws.api.video${path}`, { method })
    assert.is(response.status, 401, `${method} ${path}`)
  }
})

routes.run()

const deliveries = suite('stand-in: webhook deliveries')

/** A receiver on 127.0.0.1 that answers each delivery with the next of `statuses` (the last one repeats). */
async function receiver(statuses = [204]) {
  const received = []
  const server = await serve(async (request) => {
    const body = await request.text()
    received.push({ headers: Object.fromEntries(request.headers), body })
    const status = statuses[Math.min(received.length - 1, statuses.length - 1)]
    return new Response(null, { status })
  })
  return { ...server, received }
}

deliveries(
  'deliver() signs each delivery as api.video does: verified by node:crypto and by verifyWebhook',
  async () => {
    const hook = await receiver()
    const { create, standIn } = api({ now: () => Date.parse('2026-02-03T04:05:06.789Z') })
    try {
      const { body: webhook } = await create({
        url: `${hook.url}/hook`,
        events: ['video.encoding.quality.completed'],
      })
      await create({ url: `${hook.url}/other`, events: ['video.caption.generated'] })
      const event = { type: 'video.encoding.quality.completed', videoId: 'vi1', encoding: 'hls', quality: '720p' }
      const [delivery, ...more] = await standIn.deliver(event)
      assert.is(more.length, 0, 'only the subscription to this type')
      assert.equal(delivery.statuses, [204])
      assert.is(delivery.delivered, true)
      assert.is(hook.received.length, 1)
      const [{ headers, body }] = hook.received
      assert.is(body, delivery.body)
      assert.equal(JSON.parse(body), { type: event.type, emittedAt: '2026-02-03T04:05:06.789+00:00', ...event })
      assert.equal(Object.keys(JSON.parse(body)).slice(0, 2), FACTS.bodyFields)
      const signature = headers[FACTS.signatureHeader.toLowerCase()]
      assert.match(signature, new RegExp(FACTS.signaturePattern))
      assert.is(signature, createHmac('sha256', webhook.signatureSecret).update(body).digest('hex'))
      assert.is(headers[FACTS.webhookIdHeader.toLowerCase()], webhook.webhookId)
      assert.is(headers['content-type'], 'application/json')
      const verified = await verifyWebhook({ headers, body }, { secret: webhook.signatureSecret })
      assert.is(verified.videoId, 'vi1')
      assert.not.ok(JSON.stringify(delivery).includes(webhook.signatureSecret), 'the secret is in the delivery')
    } finally {
      await hook.close()
    }
  },
)

deliveries(
  "retry: api.video's rule, three more tries 3 s apart after a status above 299, same body and signature",
  async () => {
    const { retry } = FACTS
    for (const [statuses, expected] of [
      [
        [500, 503, 204],
        [500, 503, 204],
      ],
      [[301], [301, 301, 301, 301]],
      [[299], [299]],
      [
        [404, 200],
        [404, 200],
      ],
    ]) {
      const hook = await receiver(statuses)
      const waits = []
      try {
        const delivery = await deliverWebhook(
          `${hook.url}/hook`,
          { type: 'video.summary.generated' },
          { secret: 'sig_sec_test', retry: true, wait: async (ms) => void waits.push(ms) },
        )
        assert.equal(delivery.statuses, expected)
        assert.is(delivery.delivered, expected.at(-1) <= 299)
        assert.equal(waits, Array(expected.length - 1).fill(retry.delayMs))
        assert.ok(expected.length <= 1 + retry.moreTries)
        assert.is(new Set(hook.received.map((r) => r.body + r.headers['x-api-video-signature'])).size, 1)
      } finally {
        await hook.close()
      }
    }
  },
)

deliveries('without retry, one try; a receiver that is down is status 0, never a rejection', async () => {
  const hook = await receiver([500])
  const url = `${hook.url}/hook`
  const once = await deliverWebhook(url, { type: 'video.summary.generated' }, { secret: 'sig_sec_test' })
  assert.equal(once.statuses, [500])
  await hook.close()
  const waits = []
  const down = await deliverWebhook(
    url,
    { type: 'video.summary.generated' },
    { secret: 'sig_sec_test', retry: true, wait: async (ms) => void waits.push(ms) },
  )
  assert.equal([down.statuses, down.delivered, waits.length], [[0, 0, 0, 0], false, 3])
})

deliveries('signWebhook is HMAC-SHA256 in hex, the same as node:crypto; bad arguments are TypeErrors', async () => {
  const body = '{"type":"video.caption.generated","emittedAt":"2026-01-01T00:00:00+00:00"}'
  assert.is(await signWebhook(body, 'sig_sec_x'), createHmac('sha256', 'sig_sec_x').update(body).digest('hex'))
  assert.is(await signWebhook(new TextEncoder().encode(body), 'sig_sec_x'), await signWebhook(body, 'sig_sec_x'))
  for (const [b, s] of [
    [body, ''],
    [body, undefined],
    [42, 'sig_sec_x'],
  ]) {
    const error = await failure(signWebhook(b, s))
    assert.instance(error, TypeError)
    assert.is(error.code, 'ERR_INVALID_ARGUMENT')
  }
  const bad = await failure(deliverWebhook('ftp://127.0.0.1/', { type: 'video.summary.generated' }, { secret: 'x' }))
  assert.instance(bad, TypeError)
  const unknown = await failure(
    deliverWebhook('http://127.0.0.1:9/', { type: 'video.summary.generated' }, { secret: 'x', retries: 3 }),
  )
  assert.match(unknown.message, /^unknown option retries/)
  assert.is(unknown.code, 'ERR_UNKNOWN_OPTION')
})

deliveries.run()
