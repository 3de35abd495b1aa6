// The stand-in: the /webhooks routes: subscriptions in the shapes of api.video's OpenAPI document.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { WEBHOOK_EVENTS, createStandIn } from '../../dist/testing.js'
import { clock, serve } from '../helpers/index.mjs'
import { JSON_BODY, api, conforms, schemas } from '../helpers/stand-in.mjs'

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

routes('GET /webhooks pages carry next and previous links: following next reads every webhook', async () => {
  const { call, create } = api()
  const events = ['video.encoding.quality.completed']
  const created = []
  for (const host of ['a', 'b', 'c'])
    created.push((await create({ url: `https://${host}.example/hook`, events })).body)
  const read = []
  let next = '/webhooks?pageSize=1'
  const pages = []
  while (next) {
    const { body } = await call(next)
    conforms(body, schemas['webhooks-list-response'])
    read.push(...body.data)
    pages.push(body.pagination.links.map((link) => link.rel))
    const link = body.pagination.links.find((l) => l.rel === 'next')
    next = link && new URL(link.uri).pathname + new URL(link.uri).search
  }
  assert.equal(read, created)
  assert.equal(pages, [
    ['self', 'first', 'next', 'last'],
    ['self', 'first', 'previous', 'next', 'last'],
    ['self', 'first', 'previous', 'last'],
  ])
})

routes('a malformed escape in /webhooks/{webhookId} is a 404, in handler() and over HTTP', async () => {
  const { standIn, call } = api()
  const malformed = await call('/webhooks/%E0%A4%A')
  assert.is(malformed.status, 404)
  assert.equal(
    [malformed.body.type, malformed.body.name],
    ['https://docs.api.video/reference/resource-not-found', 'webhookId'],
  )
  const server = await serve(standIn.handler)
  try {
    const { access_token: token } = await (
      await fetch(`${server.url}/auth/api-key`, { method: 'POST', headers: JSON_BODY, body: '{"apiKey":"test-key"}' })
    ).json()
    const response = await fetch(`${server.url}/webhooks/%E0%A4%A`, { headers: { authorization: `Bearer ${token}` } })
    assert.is(response.status, 404, 'the connection is not dropped')
  } finally {
    await server.close()
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
