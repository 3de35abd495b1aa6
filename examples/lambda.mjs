// An AWS Lambda handler (Node.js runtime). The session outside the handler survives warm invocations.
import { createSession, PRODUCTION_URL } from 'apivideo-auth'

const baseUrl = process.env.APIVIDEO_BASE_URL ?? PRODUCTION_URL
const session = createSession({ apiKey: process.env.APIVIDEO_API_KEY, baseUrl })

export const handler = async () => {
  const response = await session.fetch(`${baseUrl}/videos?pageSize=10`)
  return { statusCode: response.status, body: await response.text() }
}
