// A Deno script: deno run --allow-env=APIVIDEO_API_KEY,APIVIDEO_BASE_URL --allow-net deno.ts
import { createSession } from 'npm:apivideo-auth'

// The key from APIVIDEO_API_KEY; the API at APIVIDEO_BASE_URL, or production when it is unset.
const session = createSession({ baseUrl: Deno.env.get('APIVIDEO_BASE_URL') })

const response = await session.fetch('/videos?pageSize=10')
console.log(`GET /videos: ${response.status}`)
