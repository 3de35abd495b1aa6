// examples/webhooks/express.mjs: an Express 5 app that receives api.video's webhooks on POST /webhooks.
// PORT=3000 APIVIDEO_WEBHOOK_SECRET=sig_sec_… node express.mjs
// The app parses JSON everywhere, as most do; the webhook route, mounted before that, gets the raw bytes.
import express from 'express'
import { verifyWebhook } from 'apivideo-auth/webhooks'

const app = express()

// Before app.use(express.json()): that parser would turn the body into an object, and the bytes api.video signed
// would be gone. express.raw() leaves req.body a Buffer of them.
app.post('/webhooks', express.raw({ type: 'application/json', limit: '64kb' }), async (req, res) => {
  let event
  try {
    // The secret comes from APIVIDEO_WEBHOOK_SECRET, which verifyWebhook reads.
    event = await verifyWebhook({ headers: req.headers, body: req.body })
  } catch (error) {
    return res.status(statusFor(error)).end()
  }
  console.log('verified', event.type)
  res.status(204).end()
})

// The rest of the app: req.body is parsed JSON, as usual.
app.use(express.json())
app.post('/api/echo', (req, res) => res.json(req.body))

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
