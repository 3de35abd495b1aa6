// Finds the Redis the fleet tests use: REDIS_URL (set by .ci/run), else a redis-server started here.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { createClient } from 'redis'

const HOW =
  'The fleet tests need a Redis: set REDIS_URL (say redis://127.0.0.1:6379), or install redis-server ' +
  '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) ' +
  'so that the tests can start one on 127.0.0.1.'

/** Fails with how to get a Redis, unless the `redis-server` binary is on the PATH. */
export function requireBinary() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) throw new Error(HOW)
  return probe.stdout.trim()
}

/** A port nothing listens on, on 127.0.0.1. */
export async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A redis-server of our own on 127.0.0.1 (on `port`, or a free one), without persistence; `stop()` ends it. */
export async function startRedis({ port } = {}) {
  requireBinary()
  port ??= await freePort()
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const exited = new Promise((resolve) => server.on('exit', resolve))
  process.on('exit', () => server.kill('SIGKILL'))
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const client = createClient({ url, disableOfflineQueue: true }).on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      client.destroy()
      break
    } catch {
      client.destroy()
      if (i === 50 || server.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { url, pid: server.pid, stop: () => (server.kill('SIGTERM'), exited) }
}

/** REDIS_URL when set, else a redis-server started for this run. */
export async function findRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} }
  return startRedis()
}
