// Shared bench parts: statistics, child processes that answer with one JSON line, formatting.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * The Node every measurement runs on: the machine's, the first `node` on PATH outside node_modules/.bin
 * (inside npm scripts, node_modules/.bin/node may be a Node from a devDependency).
 */
export const NODE =
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !dir.includes(`node_modules${sep}.bin`))
    .map((dir) => join(dir, 'node'))
    .find((file) => existsSync(file)) ?? process.execPath

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Runs `node [flags] bench/<script>` and returns the JSON it printed last. */
export function child(script, flags = []) {
  const out = execFileSync(NODE, [...flags, fileURLToPath(new URL(script, import.meta.url))], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  })
  return JSON.parse(out.trim().split('\n').at(-1))
}

/** Spawns a node process and resolves with its wall time in ms and its stdout. */
export function timed(args, env = process.env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const proc = spawn(NODE, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    proc.stdout.on('data', (chunk) => (stdout += chunk))
    proc.on('error', reject)
    proc.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (code === 0) resolve({ ms, stdout })
      else reject(new Error(`node ${args.join(' ')} exited with ${code}`))
    })
  })
}

/**
 * Times each variant (an async function) over `batch` awaited calls per round, the variants' order rotating each
 * round, after `warmup` rounds left out. Returns each variant's batch times in ms, round by round.
 */
export async function interleaved(variants, { batch, rounds, warmup = 3 }) {
  const names = Object.keys(variants)
  const times = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = -warmup; round < rounds; round++) {
    for (const name of rotate(names, round + warmup)) {
      const start = performance.now()
      for (let i = 0; i < batch; i++) await variants[name]()
      if (round >= 0) times[name].push(performance.now() - start)
    }
  }
  return times
}

/** Alternates the order of a round's variants so no variant always runs first. */
export function rotate(list, round) {
  const k = round % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

export const bytes = (n) => `${n.toLocaleString('en-US')} B`
export const ratio = (r) => `${r.toFixed(3)}x`

/** Forks the loopback server; `ask(message)` answers over IPC. */
export async function loopbackServer() {
  const { fork } = await import('node:child_process')
  const proc = fork(fileURLToPath(new URL('loopback-server.mjs', import.meta.url)), {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = () => new Promise((resolve) => proc.once('message', resolve))
  const { url } = await next()
  return {
    url,
    ask: (message) => (proc.send(message), next()),
    reset: () => proc.send('reset'),
    close: () => new Promise((resolve) => (proc.once('exit', resolve), proc.send('close'))),
  }
}
