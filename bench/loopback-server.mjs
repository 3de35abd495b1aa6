// A loopback api.video for the bench (forked, answers over IPC): the stand-in behind /auth/*, a fixed 200 elsewhere.
// It counts requests by path, and the auth requests that carried Basic credentials.
import { createServer } from 'node:http'
import { createStandIn } from 'apivideo-auth/testing'

const standIn = createStandIn()
const counts = {}
let basic = 0

async function auth(req, res) {
  if (/^Basic /.test(req.headers.authorization ?? '')) basic++
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, body: Buffer.concat(chunks) })
  const response = await standIn.handler(request)
  res.writeHead(response.status, Object.fromEntries(response.headers))
  res.end(Buffer.from(await response.arrayBuffer()))
}

const server = createServer((req, res) => {
  counts[req.url] = (counts[req.url] ?? 0) + 1
  if (req.url.startsWith('/auth/')) return void auth(req, res).catch(() => req.socket.destroy())
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
  res.end('ok')
})
server.keepAliveTimeout = 0 // reused sockets are never closed under a caller: no resets between bursts
server.listen({ port: 0, host: '127.0.0.1', backlog: 20_000 }, () => process.send({ url: `http://127.0.0.1:${server.address().port}` }))

process.on('message', (message) => {
  if (message === 'counts') process.send({ counts: { ...counts }, basic })
  if (message === 'reset') for (const key in counts) delete counts[key], (basic = 0)
  if (message === 'close') server.close(), server.closeAllConnections(), process.disconnect()
})
