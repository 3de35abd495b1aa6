// A Deno script: deno run --allow-env --allow-net deno.ts
import { createSession, PRODUCTION_URL } from 'npm:apivideo-auth'

const baseUrl = Deno.env.get('APIVIDEO_BASE_URL') ?? PRODUCTION_URL
const session = createSession({ apiKey: Deno.env.get('APIVIDEO_API_KEY')!, baseUrl })

const response = await session.fetch(`${baseUrl}/videos?pageSize=10`)
console.log(`GET /videos: ${response.status}`)
