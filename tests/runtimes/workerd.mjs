// Cloudflare Workers entry, bundled by esbuild (run.mjs maps 'apivideo-auth' to the built dist/) and run by
// `workerd test`. Sessions live at module scope, as a Worker holds them across the requests of its isolate:
// one created at global scope, one created by the first request with the key from its `env` (the README's snippet).
import * as lib from 'apivideo-auth'
import * as testing from 'apivideo-auth/testing'
import * as webhooks from 'apivideo-auth/webhooks'
import { equal } from './assert.mjs'
import { run } from './suite.mjs'

const standIn = testing.createStandIn({ apiKeys: ['test-key'] })
const sessions = { global: lib.createSession({ apiKey: 'test-key', fetch: standIn.fetch }), lazy: undefined }

export default {
  async fetch(request, env) {
    const [, which, ...path] = new URL(request.url).pathname.split('/')
    sessions.lazy ??= lib.createSession({ apiKey: env.APIVIDEO_API_KEY, fetch: standIn.fetch })
    const upstream = await sessions[which].fetch(`https://ws.api.video/${path.join('/')}`)
    return new Response(upstream.body, upstream)
  },
}

const authPaths = () => standIn.requests.filter((r) => r.path.startsWith('/auth/')).map((r) => r.path)

const moduleScope = [
  'workerd: a module-scope session (global or lazy) serves concurrent requests of the isolate with one token, ' +
    'and replays a 401',
  async ({ env }) => {
    const get = async (which) => (await env.SELF.fetch(`http://worker/${which}/videos`)).status
    for (const which of ['global', 'lazy']) {
      const before = authPaths().length
      equal(await Promise.all(Array.from({ length: 20 }, () => get(which))), Array(20).fill(200), which)
      standIn.revoke()
      equal(await get(which), 200, `${which} after a revocation`)
      equal(authPaths().slice(before), ['/auth/api-key', '/auth/refresh'], which)
    }
  },
]

const webhookSecretFromEnv = [
  'workerd: verifyWebhook without a secret (a Worker has no process.env) says to pass env.APIVIDEO_WEBHOOK_SECRET',
  async () => {
    const body = '{"type":"video.source.recorded"}'
    const headers = { 'x-api-video-signature': await testing.signWebhook(body, 'sig_sec_worker') }
    const error = await webhooks.verifyWebhook({ headers, body }).catch((e) => e)
    equal([error instanceof TypeError, error.code], [true, 'ERR_INVALID_ARGUMENT'])
    equal(error.message, 'secret is missing: pass { secret: env.APIVIDEO_WEBHOOK_SECRET }')
  },
]

export const runtimeSuite = {
  async test(_controller, env) {
    if (await run({ lib, testing, webhooks, serve: undefined, env }, [moduleScope, webhookSecretFromEnv]))
      throw new Error('the runtime suite failed')
  },
}
