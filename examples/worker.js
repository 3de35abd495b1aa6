// A Cloudflare Worker. The session at module scope lives as long as the isolate, so its requests share
// one token; it is created by the first request, whose `env` holds the key (a secret: wrangler secret put).
import { createSession, PRODUCTION_URL } from 'apivideo-auth'

let session

export default {
  async fetch(request, env) {
    const baseUrl = env.APIVIDEO_BASE_URL ?? PRODUCTION_URL
    session ??= createSession({ apiKey: env.APIVIDEO_API_KEY, baseUrl })
    return session.fetch(`${baseUrl}/videos?pageSize=10`)
  },
}
