// A Node script: APIVIDEO_API_KEY=… node node.mjs (the process exits by itself: no timer is left behind).
import { createSession, PRODUCTION_URL } from 'apivideo-auth'

const baseUrl = process.env.APIVIDEO_BASE_URL ?? PRODUCTION_URL
const session = createSession({ apiKey: process.env.APIVIDEO_API_KEY, baseUrl })

const response = await session.fetch(`${baseUrl}/videos?pageSize=10`)
console.log(`GET /videos: ${response.status}`)
