// Serves a fetch-style handler, `(Request) => Promise<Response>`, on 127.0.0.1 with node:http.
import { createServer } from 'node:http'

/**
 * Listens on 127.0.0.1 (port 0: any free port). A handler that throws drops the connection,
 * as a network failure would; a client that hangs up aborts the request's signal.
 * @example
 * const { url, close } = await listen(createStandIn().handler)
 */
export async function listen(handler, port = 0) {
  const server = createServer(async (req, res) => {
    const controller = new AbortController()
    res.once('close', () => controller.abort())
    try {
      const chunks = []
      for await (const chunk of req) chunks.push(chunk)
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks)
      const headers = new Headers()
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
      const response = await handler(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body, signal: controller.signal }))
      res.writeHead(response.status, [...response.headers].flat())
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  }
}
