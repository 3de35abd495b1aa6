// Runs a session against the offline stand-in on 127.0.0.1: no network, no real key.
import { createServer } from 'node:http'
import { createSession } from 'apivideo-auth'
import { createStandIn } from 'apivideo-auth/testing'

const standIn = createStandIn({ apiKeys: ['test-key'] })
const server = createServer(async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = req.method === 'POST' ? Buffer.concat(chunks) : undefined
  const response = await standIn.handler(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, body }))
  res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text())
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const baseUrl = `http://127.0.0.1:${server.address().port}`

const session = createSession({ apiKey: 'test-key', baseUrl, onEvent: (e) => console.log('event', e.type) })
const tokens = await Promise.all(Array.from({ length: 1000 }, () => session.token()))
const response = await session.fetch(`${baseUrl}/videos`)
console.log(`1000 callers, ${new Set(tokens).size} token, ${standIn.requests.filter((r) => r.path.startsWith('/auth/')).length} auth request; GET /videos -> ${response.status}`)
server.close()
