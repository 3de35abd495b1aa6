// Cloudflare Workers entry, bundled by esbuild (run.mjs maps 'apivideo-auth' to the built dist/) and run by
// `workerd test`. As in the README's Worker snippet, the session lives at module scope and is created by the
// first request (the key comes with its `env`), so every later request of the isolate reuses its token.
import * as lib from 'apivideo-auth'
import * as testing from 'apivideo-auth/testing'
import { equal } from './assert.mjs'
import { run } from './suite.mjs'

const standIn = testing.createStandIn({ apiKeys: ['test-key'] })
let session

export default {
  async fetch(request, env) {
    session ??= lib.createSession({ apiKey: env.APIVIDEO_API_KEY, fetch: standIn.fetch })
    const upstream = await session.fetch(`https://ws.api.video${new URL(request.url).pathname}`)
    return new Response(upstream.body, upstream)
  },
}

const moduleScope = [
  'workerd: one module-scope session serves concurrent requests of the isolate, and replays a 401',
  async ({ env }) => {
    const get = async () => (await env.SELF.fetch('http://worker/videos')).status
    equal(await Promise.all(Array.from({ length: 20 }, get)), Array(20).fill(200))
    standIn.revoke()
    equal(await get(), 200)
    equal(standIn.requests.filter((r) => r.path.startsWith('/auth/')).map((r) => r.path), ['/auth/api-key', '/auth/refresh'])
  },
]

export const runtimeSuite = {
  async test(_controller, env) {
    if (await run({ lib, testing, serve: undefined, env }, [moduleScope])) throw new Error('the runtime suite failed')
  },
}
