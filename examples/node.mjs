// A Node script: APIVIDEO_API_KEY=… node node.mjs (the process exits by itself: no timer is left behind).
import { createSession } from 'apivideo-auth'

// The key from APIVIDEO_API_KEY; the API at APIVIDEO_BASE_URL, or production when it is unset.
const session = createSession({ baseUrl: process.env.APIVIDEO_BASE_URL })

const response = await session.fetch('/videos?pageSize=10')
console.log(`GET /videos: ${response.status}`)
