// A Vercel Edge route handler: app/api/videos/route.js in a Next.js app.
// The session at module scope is shared by the requests its isolate serves.
import { createSession, PRODUCTION_URL } from 'apivideo-auth'

export const runtime = 'edge'

const baseUrl = process.env.APIVIDEO_BASE_URL ?? PRODUCTION_URL
const session = createSession({ apiKey: process.env.APIVIDEO_API_KEY, baseUrl })

export async function GET() {
  const response = await session.fetch(`${baseUrl}/videos?pageSize=10`)
  return new Response(response.body, { status: response.status, headers: { 'content-type': 'application/json' } })
}
