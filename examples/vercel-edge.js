// A Vercel Edge route handler: app/api/videos/route.js in a Next.js app.
// The session at module scope is shared by the requests its isolate serves.
import { createSession } from 'apivideo-auth'

export const runtime = 'edge'

// The key from APIVIDEO_API_KEY; the API at APIVIDEO_BASE_URL, or production when it is unset.
const session = createSession({ baseUrl: process.env.APIVIDEO_BASE_URL })

export async function GET() {
  const response = await session.fetch('/videos?pageSize=10')
  return new Response(response.body, { status: response.status, headers: { 'content-type': 'application/json' } })
}
