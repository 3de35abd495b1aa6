// A Bun server: bun run bun.ts. One session for the whole process: every request shares its token.
import { createSession, PRODUCTION_URL } from 'apivideo-auth'

const baseUrl = Bun.env.APIVIDEO_BASE_URL ?? PRODUCTION_URL
const session = createSession({ apiKey: Bun.env.APIVIDEO_API_KEY!, baseUrl })

const server = Bun.serve({
  hostname: Bun.env.HOST,
  port: Bun.env.PORT ?? 3000,
  fetch: () => session.fetch(`${baseUrl}/videos?pageSize=10`),
})
console.log(`listening on ${server.url}`)
