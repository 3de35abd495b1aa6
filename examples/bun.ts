// A Bun server: bun run bun.ts. One session for the whole process: every request shares its token.
import { createSession } from 'apivideo-auth'

// The key from APIVIDEO_API_KEY; the API at APIVIDEO_BASE_URL, or production when it is unset.
const session = createSession({ baseUrl: Bun.env.APIVIDEO_BASE_URL })

const server = Bun.serve({
  hostname: Bun.env.HOST,
  port: Bun.env.PORT ?? 3000,
  fetch: () => session.fetch('/videos?pageSize=10'),
})
console.log(`listening on ${server.url}`)
