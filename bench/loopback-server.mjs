// A loopback api.video for the bench, in its own process (forked, answers over IPC), served through the project's
// one node:http adapter: the stand-in behind /auth/*, a fixed 200 elsewhere, so that the server's own work stays
// out of the client's figure. It counts requests by path.
import { createStandIn } from '../dist/testing.js'
import { listen } from '../scripts/loopback.mjs'

const standIn = createStandIn({ keepRequests: 0 })
const counts = {}

const server = await listen(async (request) => {
  const { pathname } = new URL(request.url)
  counts[pathname] = (counts[pathname] ?? 0) + 1
  if (pathname.startsWith('/auth/')) return standIn.handler(request)
  return new Response('ok', { headers: { 'content-type': 'text/plain' } })
})
process.send({ url: server.url })

process.on('message', (message) => {
  if (message === 'counts') process.send({ counts: { ...counts } })
  if (message === 'reset') for (const key in counts) delete counts[key]
  if (message === 'close') void server.close().then(() => process.disconnect())
})
