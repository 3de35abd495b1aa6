// `npm run lint` (after oxlint and `prettier --check .`): no line of a tracked code or config file is longer than
// 119 characters. Prettier wraps code at 118 but leaves long comments, strings and template literals alone;
// this catches them. The files are what git tracks, minus package-lock.json files and whatever .prettierignore
// ignores (asked of Prettier itself, so the two checks cover the same files). Prints file:line for each long
// line and exits 1, or prints one summary line.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { getFileInfo } from 'prettier'

const MAX_LENGTH = 119
const PATTERNS = ['*.ts', '*.mjs', '*.js', '*.cjs', '*.mts', '*.json']

// A JSON string cannot be broken over lines, and these files hold prose in strings: the package's description
// and its `test` script (a chain of npm runs), the description of the two side packages. In them, and only
// there, a line holding nothing but one "key": "string" pair may be longer.
const LONG_STRING_FILES = new Set(['package.json', 'bench/package.json', 'tests/runtimes/nodes/package.json'])
const ONE_STRING_PAIR = /^\s*"(?:[^"\\]|\\.)*": "(?:[^"\\]|\\.)*",?$/

const root = fileURLToPath(new URL('..', import.meta.url))
const tracked = execFileSync('git', ['ls-files', '-z', '--', ...PATTERNS], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file && !file.endsWith('package-lock.json'))

const files = []
for (const file of tracked) {
  const { ignored } = await getFileInfo(`${root}${file}`, { ignorePath: `${root}.prettierignore` })
  if (!ignored) files.push(file)
}

const tooLong = []
const exempt = []
for (const file of files) {
  const lines = readFileSync(`${root}${file}`, 'utf8').split(/\r?\n/)
  lines.forEach((line, index) => {
    const length = [...line].length
    if (length <= MAX_LENGTH) return
    const where = `${file}:${index + 1}`
    if (LONG_STRING_FILES.has(file) && ONE_STRING_PAIR.test(line)) exempt.push(where)
    else tooLong.push(`${where}: ${length} characters`)
  })
}

if (tooLong.length) {
  for (const line of tooLong) console.error(line)
  console.error(`format: ${tooLong.length} line(s) over ${MAX_LENGTH} characters in ${files.length} files checked`)
  process.exit(1)
}
const exceptions = exempt.length ? ` except ${exempt.length} JSON strings (${exempt.join(', ')})` : ''
console.log(`format: ${files.length} files checked, all lines under ${MAX_LENGTH + 1} characters${exceptions}`)
