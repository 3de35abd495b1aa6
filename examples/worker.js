// A Cloudflare Worker. The session at module scope lives as long as the isolate, so its requests share
// one token; it is created by the first request, whose `env` holds the key (a secret: wrangler secret put).
// A Worker has no process environment: the key is passed from env.APIVIDEO_API_KEY.
import { createSession } from 'apivideo-auth'

let session

export default {
  async fetch(request, env) {
    session ??= createSession({ apiKey: env.APIVIDEO_API_KEY, baseUrl: env.APIVIDEO_BASE_URL })
    return session.fetch('/videos?pageSize=10')
  },
}
