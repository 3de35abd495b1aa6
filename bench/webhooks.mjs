// Webhook verification (child process): `verifyWebhook` on a 1 KiB event against a hand-written node:crypto check
// (`createHmac` + `timingSafeEqual`, then `JSON.parse`), as a Node handler would write it. Both take the headers and
// raw body a node:http handler has, verify, and return the parsed event; interleaved batches in one loop.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { verifyWebhook } from '../dist/webhooks.js'
import { interleaved, median } from './lib.mjs'

const BATCH = 2_000
const ROUNDS = 30
const SECRET = 'sig_sec_Abcd12348RLP7VPLi7nYVh'

/** A 1 KiB event as api.video sends it: the sample's fields, padded with metadata to 1,024 bytes. */
function event1KiB() {
  const base = {
    type: 'video.encoding.quality.completed',
    emittedAt: '2021-01-29T16:46:25.217+01:00',
    videoId: 'vi4blUQJFrYWbaG44NChkH27',
    encoding: 'hls',
    quality: '720p',
    metadata: '',
  }
  const padding = 1024 - Buffer.byteLength(JSON.stringify(base))
  return Buffer.from(JSON.stringify({ ...base, metadata: 'x'.repeat(padding) }))
}

const body = event1KiB()
if (body.length !== 1024) throw new Error(`the event is ${body.length} B, not 1,024`)
const headers = {
  'content-type': 'application/json',
  'x-api-video-webhookid': 'webhook_XXXXXXXXXXXXXXX',
  'x-api-video-signature': createHmac('sha256', SECRET).update(body).digest('hex'),
}

const VARIANTS = {
  verifyWebhook: () => verifyWebhook({ headers, body }, { secret: SECRET }),
  createHmac: async () => {
    const signature = Buffer.from(headers['x-api-video-signature'], 'hex')
    const digest = createHmac('sha256', SECRET).update(body).digest()
    if (signature.length !== digest.length || !timingSafeEqual(signature, digest)) throw new Error('refused')
    return JSON.parse(body.toString('utf8'))
  },
}

for (const fn of Object.values(VARIANTS)) {
  const event = await fn()
  if (event.videoId !== 'vi4blUQJFrYWbaG44NChkH27') throw new Error('a variant does not return the event')
}
const times = await interleaved(VARIANTS, { batch: BATCH, rounds: ROUNDS })
const perSecond = (name) => BATCH / (median(times[name]) / 1000)
console.log(
  JSON.stringify({
    batch: BATCH,
    rounds: ROUNDS,
    bodyBytes: body.length,
    perSecond: { verifyWebhook: perSecond('verifyWebhook'), createHmac: perSecond('createHmac') },
    // Verifications per second of ours over the baseline's, a median of per-round ratios (above 1: ours is faster).
    ratio: median(times.createHmac.map((t, i) => t / times.verifyWebhook[i])),
  }),
)
