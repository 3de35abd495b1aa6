// Type test: compiles consumers of dist/index.d.ts under strict + exactOptionalPropertyTypes (events.ts too,
// narrowing SessionEvent), with DOM types only, and one with @types/node and undici's fetch. Exits 1 on a type error.
// Run after the build: node tests/types/check.mjs
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))

let failed = 0
for (const project of ['tsconfig.json', 'tsconfig.node.json']) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [tsc, '-p', project], {
    cwd: here,
    encoding: 'utf8',
  })
  const output = (stdout + stderr).trim()
  if (status === 0) console.log(`types: ${project} ok`)
  else {
    failed++
    console.error(`types: ${project} failed (tsc exit ${status})\n${output}`)
  }
}
process.exit(failed ? 1 : 0)
