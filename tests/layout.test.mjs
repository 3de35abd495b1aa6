// The layout's limits: files a reader can follow, the core excepted (one file on purpose, read top to bottom).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const ROOT = new URL('..', import.meta.url).pathname
const SOURCE_LINES = 450
const TEST_LINES = 800

const tracked = (...patterns) =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...patterns], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
const linesOf = (file) => readFileSync(`${ROOT}${file}`, 'utf8').split('\n').length - 1
const over = (files, limit) => files.filter((file) => linesOf(file) > limit).map((f) => `${f}: ${linesOf(f)}`)

const layout = suite('layout')

layout(`no file in src/ but the core is over ${SOURCE_LINES} lines`, () => {
  const sources = tracked('src/**.ts').filter((file) => file !== 'src/index.ts')
  assert.ok(sources.length > 10, `${sources.length} files found`)
  assert.equal(over(sources, SOURCE_LINES), [])
})

layout(`no test file is over ${TEST_LINES} lines`, () => {
  const tests = tracked('tests/**.mjs', 'tests/**.ts').filter((file) => !file.includes('/fixtures/'))
  assert.ok(tests.length > 30, `${tests.length} files found`)
  assert.equal(over(tests, TEST_LINES), [])
})

layout.run()
