// examples/webhooks/node-http.mjs: a node:http server that receives api.video's webhooks on POST /webhooks.
// PORT=3000 APIVIDEO_WEBHOOK_SECRET=sig_sec_… node node-http.mjs
import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import { verifyWebhook } from 'apivideo-auth/webhooks'

const server = createServer(async (req, res) => {
  if (req.method !== 'POST' || new URL(req.url, 'http://localhost').pathname !== '/webhooks')
    return res.writeHead(404).end()
  let event
  try {
    // The request itself, as a stream: verifyWebhook reads at most 64 KiB of it, and none when it is unsigned.
    // The secret comes from APIVIDEO_WEBHOOK_SECRET, which verifyWebhook reads.
    event = await verifyWebhook({ headers: req.headers, body: Readable.toWeb(req) })
  } catch (error) {
    return res.writeHead(statusFor(error)).end()
  }
  console.log('verified', event.type)
  res.writeHead(204).end()
})

// HOST=0.0.0.0 to take deliveries from beyond this machine.
const host = process.env.HOST ?? '127.0.0.1'
server.listen(Number(process.env.PORT ?? 3000), host, () =>
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
