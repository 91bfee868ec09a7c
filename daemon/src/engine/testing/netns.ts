import { execFileSync } from 'node:child_process'

/**
 * A network namespace joined to the host by a veth pair: the host end `hostIf` has `hostIp`, the
 * namespace end `nsIf` has `nsIp` (a /30 of 10.215.0.0/16 picked from the process id, so parallel
 * runs do not collide). Needs root and `ip`; `dispose()` removes everything and never throws.
 */
export interface NetnsLink {
  readonly ns: string
  readonly hostIf: string
  readonly nsIf: string
  readonly hostIp: string
  readonly nsIp: string
  /** `ip netns exec <ns> …` as one shell command line. */
  inNs(command: string): string
  dispose(): void
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe', encoding: 'utf8' })

/** Whether this process may create namespaces and veth pairs (root with iproute2). */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    ip('netns', 'list')
    return true
  } catch {
    return false
  }
}

export function createNetnsLink(): NetnsLink {
  const tag = (process.pid % 10_000).toString(36) + Math.floor(Math.random() * 36 ** 2).toString(36)
  const ns = `iotl-${tag}`
  const hostIf = `il${tag}h`.slice(0, 15)
  const nsIf = `il${tag}n`.slice(0, 15)
  const block = (process.pid * 4 + Math.floor(Math.random() * 4)) % 16_384
  const base = `10.215.${Math.floor(block / 64)}.${(block % 64) * 4}`
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number]
  const hostIp = `${a}.${b}.${c}.${d + 1}`
  const nsIp = `${a}.${b}.${c}.${d + 2}`
  const link: NetnsLink = {
    ns,
    hostIf,
    nsIf,
    hostIp,
    nsIp,
    inNs: (command) => `ip netns exec ${ns} ${command}`,
    dispose() {
      for (const args of [
        ['link', 'del', hostIf],
        ['netns', 'del', ns],
      ])
        try {
          ip(...args)
        } catch {}
    },
  }
  try {
    ip('netns', 'add', ns)
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf)
    ip('link', 'set', nsIf, 'netns', ns)
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf)
    ip('link', 'set', hostIf, 'up')
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf)
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up')
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
  } catch (err) {
    link.dispose()
    throw err
  }
  return link
}

/** Whether `tc qdisc add … netem` works here (it needs the sch_netem kernel module). */
export function netemWorks(link: NetnsLink): boolean {
  try {
    execFileSync(
      'ip',
      ['netns', 'exec', link.ns, 'tc', 'qdisc', 'add', 'dev', link.nsIf, 'root', 'netem', 'delay', '50ms'],
      {
        stdio: 'pipe',
      },
    )
    execFileSync('ip', ['netns', 'exec', link.ns, 'tc', 'qdisc', 'del', 'dev', link.nsIf, 'root'], {
      stdio: 'pipe',
    })
    return true
  } catch {
    return false
  }
}
