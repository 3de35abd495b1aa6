// The one node:http adapter of the project: it serves a fetch-style handler, `(Request) => Promise<Response>`,
// on 127.0.0.1. The CLI's `stand-in` (bundled into dist/cli.js), the tests, the demo, the examples and the
// bench all serve through it.
import { createServer } from 'node:http'

/**
 * Listens on 127.0.0.1 (port 0: any free port). Each request reaches the handler with its real URL
 * (`http://127.0.0.1:<port>/…`), headers, body and a signal that aborts when the client hangs up.
 * A handler that throws drops the connection, as a network failure would.
 * @param {(request: Request) => Promise<Response>} handler
 * @param {{ port?: number, backlog?: number }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 * @example
 * const { url, close } = await listen(createStandIn().handler)
 */
export async function listen(handler, options = {}) {
  const { port = 0, backlog = 511 } = options
  let origin = ''
  const server = createServer(async (req, res) => {
    const controller = new AbortController()
    res.once('close', () => controller.abort())
    try {
      const chunks = []
      for await (const chunk of req) chunks.push(chunk)
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks)
      const headers = new Headers()
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
      const response = await handler(
        new Request(`${origin}${req.url}`, { method: req.method, headers, body, signal: controller.signal }),
      )
      res.writeHead(response.status, [...response.headers].flat())
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise((resolve, reject) =>
    server.once('error', reject).listen({ port, host: '127.0.0.1', backlog }, resolve),
  )
  origin = `http://127.0.0.1:${server.address().port}`
  return {
    url: origin,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}
