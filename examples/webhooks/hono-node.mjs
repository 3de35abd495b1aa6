// examples/webhooks/hono-node.mjs: a Hono app on Node (@hono/node-server) that receives api.video's webhooks on
// POST /webhooks. PORT=3000 APIVIDEO_WEBHOOK_SECRET=sig_sec_… node hono-node.mjs
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { verifyWebhook } from 'apivideo-auth/webhooks'

const app = new Hono()

app.post('/webhooks', async (c) => {
  let event
  try {
    // c.req.raw is the Request, its body unread. The secret is in process.env: on Node, c.env holds the server's
    // request and response objects, not the environment (on Workers it is the environment: c.env.APIVIDEO_…).
    event = await verifyWebhook(c.req.raw, { secret: process.env.APIVIDEO_WEBHOOK_SECRET })
  } catch (error) {
    return c.body(null, statusFor(error))
  }
  console.log('verified', event.type)
  return c.body(null, 204)
})

// HOST=0.0.0.0 to take deliveries from beyond this machine.
const host = process.env.HOST ?? '127.0.0.1'
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: host }, (info) =>
  console.log(`listening on http://${host}:${info.port}/webhooks`),
)

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
