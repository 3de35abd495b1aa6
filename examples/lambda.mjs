// An AWS Lambda handler (Node.js runtime). The session outside the handler survives warm invocations.
import { createSession } from 'apivideo-auth'

// The key from APIVIDEO_API_KEY; the API at APIVIDEO_BASE_URL, or production when it is unset.
const session = createSession({ baseUrl: process.env.APIVIDEO_BASE_URL })

export const handler = async () => {
  const response = await session.fetch('/videos?pageSize=10')
  return { statusCode: response.status, body: await response.text() }
}
