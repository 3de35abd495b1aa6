// examples/webhooks/koa.mjs: a Koa 3 app that receives api.video's webhooks on POST /webhooks.
// PORT=3000 APIVIDEO_WEBHOOK_SECRET=sig_sec_… node koa.mjs
import { Readable } from 'node:stream'
import Koa from 'koa'
import { verifyWebhook } from 'apivideo-auth/webhooks'

const app = new Koa()

// Koa parses no body: the webhook route reads the request itself, as a stream, before any body parser the app
// mounts after it (koa-bodyparser would consume the bytes api.video signed).
app.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || ctx.path !== '/webhooks') return next()
  let event
  try {
    // The secret comes from APIVIDEO_WEBHOOK_SECRET, which verifyWebhook reads.
    event = await verifyWebhook({ headers: ctx.req.headers, body: Readable.toWeb(ctx.req) })
  } catch (error) {
    ctx.status = statusFor(error)
    return
  }
  console.log('verified', event.type)
  ctx.status = 204
})

// HOST=0.0.0.0 to take deliveries from beyond this machine.
const host = process.env.HOST ?? '127.0.0.1'
const server = app.listen(Number(process.env.PORT ?? 3000), host, () =>
  console.log(`listening on http://${host}:${server.address().port}/webhooks`),
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
