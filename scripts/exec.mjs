// One way to run a child process for the test runners (runtimes, copy-paste, examples, docs): the watchdog, the
// quiet environment and the collected output in one place.
import { spawn } from 'node:child_process'

/** Added to every child's environment: no update checks, loopback past any proxy. */
const QUIET = { DENO_NO_UPDATE_CHECK: '1', NO_PROXY: '127.0.0.1,localhost' }

/**
 * Runs `command` to its end; a watchdog kills it after `timeout` ms. Never rejects: resolves with the exit `code`
 * (null when a signal ended it), the `signal`, `stdout`, `stderr`, and `output`, both streams as they came.
 * `env` is added to this process's environment (a value of `undefined` removes the variable); `input` is written to
 * the child's stdin, which is then closed; `onStdout(stdoutSoFar, child)` runs on each chunk of stdout.
 * @example
 * const { code, output } = await exec(process.execPath, ['--version'], { timeout: 10_000 })
 */
export function exec(command, args, { cwd, env = {}, input, timeout = 60_000, onStdout } = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...QUIET, ...env } })
    const result = { stdout: '', stderr: '', output: '' }
    const collect = (stream) => (chunk) => {
      result[stream] += chunk
      result.output += chunk
    }
    child.stdout.on('data', collect('stdout'))
    child.stdout.on('data', () => onStdout?.(result.stdout, child))
    child.stderr.on('data', collect('stderr'))
    child.on('error', (error) => collect('stderr')(String(error)))
    child.stdin.on('error', () => {}) // a child that exits without reading its input
    child.stdin.end(input)
    const watchdog = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.on('close', (code, signal) => {
      clearTimeout(watchdog)
      done({ ...result, code, signal })
    })
  })
}
