// examples/webhooks/fastify.mjs: a Fastify 5 app that receives api.video's webhooks on POST /webhooks.
// PORT=3000 APIVIDEO_WEBHOOK_SECRET=sig_sec_… node fastify.mjs
// The rest of the app keeps Fastify's JSON parser; the webhook route, in a plugin of its own, gets the raw bytes.
import Fastify from 'fastify'
import { verifyWebhook } from 'apivideo-auth/webhooks'

const app = Fastify()

// A plugin is its own context: this parser, which hands the body over as a Buffer, applies to its routes only.
app.register(async (webhooks) => {
  webhooks.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: 64 * 1024 },
    (request, body, done) => done(null, body),
  )
  webhooks.post('/webhooks', async (request, reply) => {
    let event
    try {
      // The secret comes from APIVIDEO_WEBHOOK_SECRET, which verifyWebhook reads.
      event = await verifyWebhook({ headers: request.headers, body: request.body })
    } catch (error) {
      return reply.code(statusFor(error)).send()
    }
    console.log('verified', event.type)
    return reply.code(204).send()
  })
})

// The rest of the app: request.body is parsed JSON, as usual.
app.post('/api/echo', async (request) => request.body)

// HOST=0.0.0.0 to take deliveries from beyond this machine.
const host = process.env.HOST ?? '127.0.0.1'
await app.listen({ port: Number(process.env.PORT ?? 3000), host })
console.log(`listening on http://${host}:${app.server.address().port}/webhooks`)

/**
 * What to answer a delivery that was not verified: 401 to a bad signature, 400 to a malformed delivery, and 500,
 * with a log line, when this server is at fault (no secret, a body already parsed, a failed lookup).
 */
function statusFor(error) {
  if (error?.code === 'INVALID_SIGNATURE') return 401
  if (error?.code === 'INVALID_WEBHOOK') return 400
  console.error('webhook receiver failed:', error)
  return 500
}
