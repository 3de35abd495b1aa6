// examples/webhooks/next-route.mjs: a Next.js App Router route that receives api.video's webhooks. Save it as
// app/webhooks/route.js: it answers POST /webhooks. The secret comes from APIVIDEO_WEBHOOK_SECRET (.env.local, or
// the host's settings), which verifyWebhook reads.
import { verifyWebhook } from 'apivideo-auth/webhooks'

export async function POST(request) {
  let event
  try {
    // The Request as Next hands it over, its body unread: verifyWebhook reads the bytes api.video signed.
    event = await verifyWebhook(request)
  } catch (error) {
    return new Response(null, { status: statusFor(error) })
  }
  console.log('verified', event.type)
  return new Response(null, { status: 204 })
}

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
