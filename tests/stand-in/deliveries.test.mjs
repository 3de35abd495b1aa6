// The stand-in: signed webhook deliveries and api.video's retry rule.
import { createHmac } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deliverWebhook, signWebhook } from '../../dist/testing.js'
import { verifyWebhook } from '../../dist/webhooks.js'
import { failure, serve } from '../helpers/index.mjs'
import { FACTS, api } from '../helpers/stand-in.mjs'

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
