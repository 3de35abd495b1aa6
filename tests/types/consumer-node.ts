// Compiles against dist/index.d.ts under strict + exactOptionalPropertyTypes with @types/node:
// a Node user passing undici's own fetch (the types accept it; at run time it needs undici's own Request, so
// docs/session.md says to pass `(request) => fetch(request, { dispatcher })`), and a webhook receiver reading its
// secret from process.env. Checked by tests/types/check.mjs.
import { fetch as undiciFetch } from 'undici'
import { authenticate, createSession, refresh } from '../../dist/index.js'

export const session = createSession({ fetch: undiciFetch, baseUrl: process.env.API_BASE })

export async function calls(): Promise<string> {
  const token = await authenticate('key', { fetch: undiciFetch, baseUrl: process.env.API_BASE })
  await refresh(token.refreshToken, { fetch: undiciFetch })
  const response = await session.fetch('/videos')
  return response.statusText
}

// A Node receiver: the secret from the environment is a `string | undefined`, which the option takes as absent (the
// add-on then reads APIVIDEO_WEBHOOK_SECRET itself); no options at all is the same.
export async function receive(request: Request): Promise<string> {
  const { verifyWebhook } = await import('../../dist/webhooks.js')
  const given = await verifyWebhook(request, { secret: process.env.APIVIDEO_WEBHOOK_SECRET })
  const fromEnvironment = await verifyWebhook(request)
  return given.type + fromEnvironment.type
}
